// A deployment that forgets STRIPE_SECRET_KEY must not come up as the offline demo, whose logins
// are published: the real `npm start` entry point refuses, before it creates anything.
import { readdirSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { startEntryPoint, type RunningEntryPoint } from '../helpers/entry-point.ts';

describe('offline demo mode where others could reach it', () => {
  const servers: RunningEntryPoint[] = [];
  afterAll(async () => { await Promise.all(servers.map((server) => server.stop('SIGKILL'))); });

  it.each([
    [{ HOST: '0.0.0.0' }, 'HOST is 0.0.0.0, not a loopback address'],
    [{ NODE_ENV: 'production' }, 'NODE_ENV is production'],
  ])('refuses to start with %o and creates no database and no demo users', async (env, reason) => {
    const server = await startEntryPoint({ env });
    servers.push(server);
    // Started (the first progress line) or not: either way this settles, and quickly.
    expect(await server.waitForOutput('"step":"load"').then(() => 'started', () => 'refused')).toBe('refused');
    expect(await server.exited).toBe(1);
    expect(server.output()).toContain(reason);
    expect(server.output()).toContain('to run the demo here on purpose, set DEMO=1');
    expect(server.output()).not.toContain('Demo logins');
    // Nothing was written: no database (so no demo users), not even the local secrets.
    expect(readdirSync(server.dataDir)).toEqual([]);
  }, 60_000);

  it('starts when asked with DEMO=1, and says who can reach it', async () => {
    const server = await startEntryPoint({ env: { HOST: '0.0.0.0', DEMO: '1', LOG_LEVEL: 'info' } });
    servers.push(server);
    await server.waitForOutput('anyone who reaches it can sign in with the published demo logins');
    expect(server.output()).toContain('HOST is 0.0.0.0, not a loopback address');
  }, 60_000);
});
