// `npm start` in a terminal: log lines are for people (pino-pretty), one per request. Started with
// DEMO_SEED=false, which leaves the demo shop out.
import { describe, expect } from 'vitest';
import { entryPointTest as it, type RunningEntryPoint } from '../helpers/entry-point.ts';

describe('start-up in a terminal, without the demo shop', () => {
  let server: RunningEntryPoint;
  it.beforeAll(async ({ startServer }) => {
    server = await startServer({ tty: true, env: { LOG_LEVEL: 'info', DEMO_SEED: 'false' } });
    await server.waitForOutput('buyer@demo.test');
  }, 180_000);

  // eslint-disable-next-line no-control-regex
  const plainOutput = () => server.output().replace(/\u001b\[[0-9;]*m/g, '');

  it('prints readable log lines, one per request, and no JSON', async () => {
    expect((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status).toBe(200);
    await server.waitForOutput('/healthz');
    const plain = plainOutput();
    expect(plain).toMatch(/INFO: GET \/healthz → 200 \(\d+ ms\)/);
    expect(plain).not.toContain('{"level"');
    expect(plain.match(/\/healthz/g)).toHaveLength(1);
    expect(plain).toMatch(/INFO: Ready at http:\/\/localhost:\d+ \(started in \d+\.\d s\)/);
  });

  it('leaves the demo shop out when DEMO_SEED=false', async () => {
    expect(plainOutput()).toContain('Demo shop: not set up (DEMO_SEED=false)');
    const home = await (await fetch(`http://127.0.0.1:${server.port}/`)).text();
    expect(home).not.toContain('data-listing-id=');
  });
});
