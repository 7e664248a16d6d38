// Boots the real `npm start` entry point as a child process, offline (no Stripe key, no
// DATABASE_URL), in a temporary data directory: what a new developer gets after `npm ci && npm start`.
import { afterAll, describe, expect, it } from 'vitest';
import { startEntryPoint, type RunningEntryPoint } from '../helpers/entry-point.ts';

describe('offline start', () => {
  const servers: RunningEntryPoint[] = [];
  afterAll(async () => { await Promise.all(servers.map((server) => server.stop())); });

  it('serves the marketplace with the embedded database and the emulator, logs JSON to a pipe and prints demo logins last', async () => {
    const server = await startEntryPoint({ env: { LOG_LEVEL: 'info' } });
    servers.push(server);
    await server.waitForOutput(/Demo logins[^\n]*\n(?:.*\n){3}\n/);

    const home = await fetch(`http://127.0.0.1:${server.port}/`);
    expect(home.status).toBe(200);
    expect(await home.text()).toContain('payments are simulated');

    // Not a terminal: every log line is JSON, and the demo logins come after all of start-up's.
    const [logs, banner] = splitAtBanner(server.output());
    const logLines = logs.split('\n').filter((line) => line.trim() !== '');
    expect(logLines.length).toBeGreaterThan(0);
    for (const line of logLines) expect(() => JSON.parse(line), line).not.toThrow();
    expect(banner).toContain('admin@demo.test');
    expect(banner.split('\n').every((line) => !line.startsWith('{'))).toBe(true);

    // The emulator it started answers on its own port, speaking Stripe's protocol (a key is required).
    const unauthenticated = await fetch(`http://127.0.0.1:${server.emulatorPort}/v1/events`);
    expect(unauthenticated.status).toBe(401);
    expect(((await unauthenticated.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
  }, 120_000);
});

/** What came before the "Marketplace running at" banner, and the banner with what follows it. */
function splitAtBanner(output: string): [string, string] {
  const at = output.indexOf('\nMarketplace running at');
  expect(at).toBeGreaterThan(-1);
  // The home page request above may already be logged after the banner; start-up's are before it.
  return [output.slice(0, at), output.slice(at, output.indexOf('\n\n', output.indexOf('Demo logins')))];
}
