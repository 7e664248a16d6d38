// Boots the real `npm start` entry point as a child process, offline (no Stripe key, no
// DATABASE_URL), in a temporary data directory: what a new developer gets after `npm ci && npm start`.
import { afterAll, describe, expect, it } from 'vitest';
import { createStripeClient } from '../../src/stripe/client.ts';
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

    // Start-up says what it is doing, step by step, and where to go when it is ready.
    const progress = logLines.map((line) => JSON.parse(line) as { step?: string; msg: string }).filter((entry) => entry.step !== undefined);
    expect(progress.map((entry) => entry.step)).toEqual(['load', 'database', 'migrations', 'stripe', 'web', 'ready']);
    const said = (step: string) => progress.find((entry) => entry.step === step)!.msg;
    expect(said('database')).toMatch(/^Database: embedded PostgreSQL \(PGlite\) in .*pglite, created \(\d+\.\d s\)$/);
    expect(said('migrations')).toMatch(/^Migrations: \d+ applied/);
    expect(said('stripe')).toMatch(/^Stripe emulator at http:/);
    expect(said('ready')).toMatch(new RegExp(`^Ready at http://localhost:${server.port} \\(started in \\d+\\.\\d s\\)$`));
    expect(banner.split('\n').every((line) => !line.startsWith('{'))).toBe(true);

    // The emulator it started answers on its own port, speaking Stripe's protocol (a key is required).
    const unauthenticated = await fetch(`http://127.0.0.1:${server.emulatorPort}/v1/events`);
    expect(unauthenticated.status).toBe(401);
    expect(((await unauthenticated.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');

    // The emulator's address as printed is where its pages are: an onboarding link starts with it.
    const printed = banner.match(/local Stripe emulator at (\S+)\)/)![1]!;
    expect(said('stripe')).toContain(`Stripe emulator at ${printed} `);
    const stripe = createStripeClient({ secretKey: 'sk_test_any', emulator: { host: '127.0.0.1', port: server.emulatorPort }, maxNetworkRetries: 0 });
    const account = await stripe.accounts.create({ controller: { stripe_dashboard: { type: 'express' }, fees: { payer: 'application' }, losses: { payments: 'application' } } });
    const link = await stripe.accountLinks.create({ account: account.id, type: 'account_onboarding', refresh_url: 'http://localhost/r', return_url: 'http://localhost/x' });
    expect(new URL(link.url).origin).toBe(printed);
  }, 120_000);
});

/** What came before the "Marketplace running at" banner, and the banner with what follows it. */
function splitAtBanner(output: string): [string, string] {
  const at = output.indexOf('\nMarketplace running at');
  expect(at).toBeGreaterThan(-1);
  // The home page request above may already be logged after the banner; start-up's are before it.
  return [output.slice(0, at), output.slice(at, output.indexOf('\n\n', output.indexOf('Demo logins')))];
}
