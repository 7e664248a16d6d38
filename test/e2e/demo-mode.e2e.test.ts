// A deployment that forgets STRIPE_SECRET_KEY must not come up as the offline demo, whose logins
// are published: the real `npm start` entry point refuses, before it creates anything.
import { readdirSync } from 'node:fs';
import { describe, expect } from 'vitest';
import { entryPointTest as it } from '../helpers/entry-point.ts';

describe('offline demo mode where others could reach it', () => {
  const refusals: [env: Record<string, string>, reason: string][] = [
    [{ HOST: '0.0.0.0' }, 'HOST is 0.0.0.0, not a loopback address'],
    [{ NODE_ENV: 'production' }, 'NODE_ENV is production'],
  ];
  for (const [env, reason] of refusals) {
    it(`refuses to start with ${JSON.stringify(env)} and creates no database and no demo users`, async ({ startServer }) => {
      const server = await startServer({ env });
      // Started (the first progress line) or not: either way this settles, and quickly.
      expect(
        await server.waitForOutput('"step":"load"').then(
          () => 'started',
          () => 'refused',
        ),
      ).toBe('refused');
      expect(await server.exited).toBe(1);
      expect(server.output()).toContain(reason);
      expect(server.output()).toContain('to run the demo here on purpose, set DEMO=1');
      expect(server.output()).not.toContain('Demo logins');
      // Nothing was written: no database (so no demo users), not even the local secrets.
      expect(readdirSync(server.dataDir)).toEqual([]);
    }, 60_000);
  }

  it('starts when asked with DEMO=1, and says who can reach it', async ({ startServer }) => {
    const server = await startServer({ env: { HOST: '0.0.0.0', DEMO: '1', LOG_LEVEL: 'info' } });
    await server.waitForOutput('anyone who reaches it can sign in with the published demo logins');
    expect(server.output()).toContain('HOST is 0.0.0.0, not a loopback address');
  }, 60_000);
});
