// Headers and session limits: __Host- cookies under https, no-store for signed-in pages, a
// Permissions-Policy, and a session that ends a fixed time after sign-in however busy it is.
import { describe, expect, it } from 'vitest';
import { SESSION_ABSOLUTE_LIFETIME_MS, SESSION_COOKIE } from '../../src/auth/sessions.ts';
import { TEST_PASSWORD, testConfig, TestClient, type Response } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';

const w = useWorld();

const setCookies = (response: Response): string[] => {
  const header = response.headers['set-cookie'];
  return header === undefined ? [] : Array.isArray(header) ? header : [String(header)];
};

describe('cookies under https', () => {
  const https = useWorld({ config: testConfig({ PUBLIC_URL: 'https://market.example' }) });

  it('every cookie, set or cleared, is __Host- prefixed, Secure, Path=/ and has no Domain; and they work', async () => {
    const client = new TestClient(https.app);
    const seen: string[] = [];
    const email = `host-prefix-${Date.now()}@example.test`;
    seen.push(...setCookies(await client.get('/signup')));
    const signup = await client.post('/signup', { email, password: TEST_PASSWORD, displayName: 'Host Prefix', role: 'buyer' });
    expect(signup.statusCode).toBe(303);
    seen.push(...setCookies(signup));
    const account = await client.get('/account');
    expect(account.statusCode).toBe(200);
    expect(account.body).toContain(email);
    seen.push(...setCookies(account));
    seen.push(...setCookies(await client.post('/logout')));

    const names = new Set(seen.map((cookie) => cookie.split('=')[0]));
    expect([...names].sort()).toEqual(['__Host-csrf', '__Host-flash', '__Host-session']);
    for (const cookie of seen) {
      expect(cookie, cookie).toMatch(/; Secure/);
      expect(cookie, cookie).toMatch(/; Path=\/(;|$)/);
      expect(cookie, cookie).not.toMatch(/Domain=/i);
    }
    expect((await client.get('/account')).statusCode).toBe(303);
  });

  it('keeps plain names over http, where browsers would drop a __Host- cookie', async () => {
    const { client } = await w.signIn('buyer');
    expect(client.cookies.has(SESSION_COOKIE)).toBe(true);
    expect([...client.cookies.keys()].some((name) => name.startsWith('__Host-'))).toBe(false);
  });
});

describe('response headers', () => {
  it('no-store on everything a signed-in browser is sent, except static files', async () => {
    const { client } = await w.signIn('seller');
    for (const url of ['/account', '/seller', '/', '/no/such/page']) {
      expect((await client.get(url)).headers['cache-control'], url).toBe('no-store');
    }
    expect((await client.get('/static/app.css')).headers['cache-control']).not.toBe('no-store');
    expect((await new TestClient(w.app).get('/')).headers['cache-control']).toBeUndefined();
  });

  it('a Permissions-Policy that turns off unused features and lets only Stripe ask for payments', async () => {
    const policy = String((await new TestClient(w.app).get('/')).headers['permissions-policy']);
    for (const feature of ['camera=()', 'microphone=()', 'geolocation=()', 'usb=()']) expect(policy).toContain(feature);
    expect(policy).toContain('payment=(self "https://js.stripe.com"');
  });
});

describe('absolute session lifetime', () => {
  const ageSession = async (userId: string, ageMs: number, expiresInMs: number) => {
    await w.db
      .updateTable('sessions')
      .set({ created_at: new Date(Date.now() - ageMs) as never, expires_at: new Date(Date.now() + expiresInMs) })
      .where('user_id', '=', userId)
      .execute();
  };

  it('ends a session once it is older than the limit, even if it is in use and not yet idle-expired', async () => {
    const { client, user } = await w.signIn('admin');
    await ageSession(user.id, SESSION_ABSOLUTE_LIFETIME_MS + 60_000, 20 * 24 * 60 * 60 * 1000);
    const response = await client.get('/account');
    expect(response.statusCode).toBe(303);
    expect(await w.db.selectFrom('sessions').select('id').where('user_id', '=', user.id).execute()).toHaveLength(0);
  });

  it('never renews a session past its end of life', async () => {
    const { client, user } = await w.signIn('buyer');
    const age = SESSION_ABSOLUTE_LIFETIME_MS - 2 * 24 * 60 * 60 * 1000;
    await ageSession(user.id, age, 24 * 60 * 60 * 1000);
    expect((await client.get('/account')).statusCode).toBe(200);
    const row = await w.db.selectFrom('sessions').select(['created_at', 'expires_at']).where('user_id', '=', user.id).executeTakeFirstOrThrow();
    expect(row.expires_at.getTime()).toBeLessThanOrEqual(row.created_at.getTime() + SESSION_ABSOLUTE_LIFETIME_MS);
    expect(row.expires_at.getTime()).toBeGreaterThan(Date.now() + 24 * 60 * 60 * 1000);
  });
});
