// The address that login throttling and per-route rate limits count by must be one the client
// cannot choose. A rotating, spoofed X-Forwarded-For must land on the same key every time.
import type { FastifyInstance } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { buildTestApp, testConfig } from '../helpers/app.ts';
import { problemsOf } from '../helpers/config.ts';
import { useDatabase } from '../helpers/fixture.ts';

// Each case builds an app of its own configuration (TRUST_PROXY), all on the file's one database.
const file = useDatabase();
const apps: FastifyInstance[] = [];

afterAll(async () => {
  for (const app of apps) await app.close();
});

async function appWith(env: Record<string, string>): Promise<FastifyInstance> {
  const app = await buildTestApp({
    db: file.db,
    config: testConfig({ PUBLIC_URL: 'https://market.example', ...env }),
    register: (instance) => {
      instance.get('/_test/address', async (request) => ({ address: request.clientAddress }));
    },
  });
  apps.push(app);
  return app;
}

const addressOf = async (app: FastifyInstance, headers: Record<string, string>, remoteAddress = '10.0.0.2') =>
  (await app.inject({ method: 'GET', url: '/_test/address', remoteAddress, headers })).json<{ address: string }>().address;

/** What the signup route's rate limit has left for whoever this request is counted as. */
async function signupAllowanceLeft(app: FastifyInstance, headers: Record<string, string>, remoteAddress = '10.0.0.2'): Promise<number> {
  // An invalid form is enough: the limit counts the request before the handler looks at it.
  const response = await app.inject({
    method: 'POST',
    url: '/signup',
    remoteAddress,
    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
    payload: '',
  });
  return Number(response.headers['x-ratelimit-remaining']);
}

describe('TRUST_PROXY=fly', () => {
  it('takes Fly-Client-IP and ignores any X-Forwarded-For the client writes', async () => {
    const app = await appWith({ TRUST_PROXY: 'fly' });
    const fly = { 'fly-client-ip': '203.0.113.7' };
    expect(await addressOf(app, { ...fly, 'x-forwarded-for': '6.6.6.1' })).toBe('203.0.113.7');
    expect(await addressOf(app, { ...fly, 'x-forwarded-for': '6.6.6.2, 203.0.113.7' })).toBe('203.0.113.7');
    expect(await addressOf(app, { 'fly-client-ip': 'not an address', 'x-forwarded-for': '6.6.6.3' })).toBe('10.0.0.2');
  });

  it('counts a client rotating spoofed X-Forwarded-For under one rate-limit key', async () => {
    const app = await appWith({ TRUST_PROXY: 'fly' });
    const fly = { 'fly-client-ip': '203.0.113.8' };
    const first = await signupAllowanceLeft(app, { ...fly, 'x-forwarded-for': '6.6.6.10' });
    const second = await signupAllowanceLeft(app, { ...fly, 'x-forwarded-for': '6.6.6.11' });
    const third = await signupAllowanceLeft(app, { ...fly, 'x-forwarded-for': '7.7.7.7, 6.6.6.12' });
    expect([first, second, third]).toEqual([first, first - 1, first - 2]);
  });
});

describe('TRUST_PROXY=1 (one proxy in front)', () => {
  it('takes the address the proxy appended, never what the client put before it', async () => {
    const app = await appWith({ TRUST_PROXY: '1' });
    expect(await addressOf(app, { 'x-forwarded-for': '198.51.100.9' })).toBe('198.51.100.9');
    expect(await addressOf(app, { 'x-forwarded-for': '6.6.6.6, 198.51.100.9' })).toBe('198.51.100.9');
    expect(await addressOf(app, { 'x-forwarded-for': '1.2.3.4, 6.6.6.6, 198.51.100.9' })).toBe('198.51.100.9');
    const first = await signupAllowanceLeft(app, { 'x-forwarded-for': '6.6.6.20, 198.51.100.10' });
    const second = await signupAllowanceLeft(app, { 'x-forwarded-for': '6.6.6.21, 198.51.100.10' });
    expect(second).toBe(first - 1);
  });
});

describe('TRUST_PROXY unset or none', () => {
  it('uses the TCP peer, even with an https PUBLIC_URL', async () => {
    for (const env of [{}, { TRUST_PROXY: 'none' }] as Record<string, string>[]) {
      const app = await appWith(env);
      expect(await addressOf(app, { 'x-forwarded-for': '6.6.6.6', 'fly-client-ip': '6.6.6.7' }, '192.0.2.1')).toBe('192.0.2.1');
    }
  });
});

describe('configuration', () => {
  const problems = (env: Record<string, string>): string => problemsOf(env).join('\n');

  it('refuses a value it does not understand, naming the choices', () => {
    expect(problems({ TRUST_PROXY: 'true' })).toContain('TRUST_PROXY must be "none", "fly" or the number of proxies');
  });

  it('must be chosen explicitly in live mode', () => {
    expect(problems({ STRIPE_SECRET_KEY: 'sk_live_1', STRIPE_PUBLISHABLE_KEY: 'pk_live_1' })).toContain('TRUST_PROXY is required in live mode');
  });
});
