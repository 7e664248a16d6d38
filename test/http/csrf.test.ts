// CSRF tokens are bound to the session they were issued in, and the secret behind them is replaced
// whenever a session starts or ends (src/http/csrf.ts).
import { describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from '../../src/auth/sessions.ts';
import { CSRF_COOKIE } from '../../src/http/csrf.ts';
import { createTestUser, loginAs, TEST_PASSWORD, TestClient } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';

const w = useWorld();

const tokenOn = async (client: TestClient, url = '/login'): Promise<string> => {
  const token = /name="_csrf" value="([^"]+)"/.exec((await client.get(url)).body)?.[1];
  if (token === undefined) throw new Error(`no CSRF token on ${url}`);
  return token;
};
const sessionCount = async (userId: string) => (await w.db.selectFrom('sessions').select('id').where('user_id', '=', userId).execute()).length;

describe('tokens are bound to the session', () => {
  it('refuses an anonymous token, made with the very same secret, from a signed-in browser', async () => {
    const { client, user } = await loginAs(w.app, 'buyer');
    await client.get('/account');
    // A visitor holding the same secret cookie (as a cookie-tossing attacker could arrange) gets a
    // token that is valid for visitors only.
    const visitor = new TestClient(w.app);
    visitor.cookies.set(CSRF_COOKIE, client.cookies.get(CSRF_COOKIE)!);
    const anonymousToken = await tokenOn(visitor);
    expect(visitor.cookies.get(CSRF_COOKIE)).toBe(client.cookies.get(CSRF_COOKIE));

    const refused = await client.post('/account/logout-everywhere', {}, { csrf: anonymousToken });
    expect(refused.statusCode).toBe(403);
    expect(await sessionCount(user.id)).toBe(1);
    const accepted = await client.post('/account/logout-everywhere', {}, { csrf: await tokenOn(client, '/account') });
    expect(accepted.statusCode).toBe(303);
    expect(await sessionCount(user.id)).toBe(0);
  });

  it("refuses another session's token, even with the same secret", async () => {
    const alice = await loginAs(w.app, 'buyer');
    const bob = await loginAs(w.app, 'buyer');
    await alice.client.get('/account');
    bob.client.cookies.set(CSRF_COOKIE, alice.client.cookies.get(CSRF_COOKIE)!);
    const alicesToken = await tokenOn(alice.client, '/account');
    expect((await bob.client.post('/account/logout-everywhere', {}, { csrf: alicesToken })).statusCode).toBe(403);
    expect(await sessionCount(bob.user.id)).toBe(1);
  });
});

describe('the secret is replaced when a session starts or ends', () => {
  it('at sign-in: the secret from before is cleared, and the page after gets a new one', async () => {
    const user = await createTestUser(w.db, 'buyer');
    const client = new TestClient(w.app);
    await client.get('/login');
    const before = client.cookies.get(CSRF_COOKIE);
    expect(before).toBeDefined();
    const login = await client.post('/login', { email: user.email, password: TEST_PASSWORD });
    expect(login.statusCode).toBe(303);
    expect(client.cookies.get(CSRF_COOKIE)).toBeUndefined();
    await client.get('/account');
    expect(client.cookies.get(CSRF_COOKIE)).toBeDefined();
    expect(client.cookies.get(CSRF_COOKIE)).not.toBe(before);
  });

  it('at sign-up', async () => {
    const client = new TestClient(w.app);
    await client.get('/signup');
    const before = client.cookies.get(CSRF_COOKIE);
    const signup = await client.post('/signup', {
      email: `csrf-${Date.now()}@example.test`,
      password: TEST_PASSWORD,
      displayName: 'Csrf Rotation',
      role: 'buyer',
    });
    expect(signup.statusCode).toBe(303);
    await client.get('/account');
    expect(client.cookies.get(CSRF_COOKIE)).not.toBe(before);
  });

  it('at sign-out', async () => {
    const { client } = await loginAs(w.app, 'buyer');
    await client.get('/account');
    const before = client.cookies.get(CSRF_COOKIE);
    expect((await client.post('/logout')).statusCode).toBe(303);
    expect(client.cookies.get(CSRF_COOKIE)).toBeUndefined();
    await client.get('/');
    expect(client.cookies.get(CSRF_COOKIE)).not.toBe(before);
  });

  it('when the session cookie turns out dead, the page served with that news still has a working form', async () => {
    const user = await createTestUser(w.db, 'buyer');
    const client = new TestClient(w.app);
    await client.get('/login');
    client.cookies.set(SESSION_COOKIE, `${'a'.repeat(24)}.${'b'.repeat(24)}`);
    const token = await tokenOn(client);
    expect(client.cookies.get(SESSION_COOKIE)).toBeUndefined();
    const login = await client.post('/login', { email: user.email, password: TEST_PASSWORD }, { csrf: token });
    expect(login.statusCode).toBe(303);
  });
});

describe('account settings and recovery (issue 16, point 5)', () => {
  it('refuse a missing or forged token, and visitors are sent to log in; nothing changes', async () => {
    const { client, user } = await loginAs(w.app, 'buyer');
    const before = async () =>
      JSON.stringify({
        user: await w.db.selectFrom('users').selectAll().where('id', '=', user.id).executeTakeFirstOrThrow(),
        outbox: (await w.db.selectFrom('email_outbox').select('id').execute()).length,
        resets: (await w.db.selectFrom('password_reset_tokens').select('id').execute()).length,
        changes: (await w.db.selectFrom('email_change_requests').select('id').execute()).length,
      });
    const snapshot = await before();
    const forms: [string, Record<string, string>][] = [
      ['/account/password', { currentPassword: TEST_PASSWORD, newPassword: 'quartz-lantern-meadow-47' }],
      ['/account/email', { email: 'elsewhere@example.test', currentPassword: TEST_PASSWORD }],
      ['/account/delete', { currentPassword: TEST_PASSWORD, confirm: 'yes' }],
      ['/password-reset', { email: user.email }],
      ['/password-reset/new', { token: `${'a'.repeat(24)}.${'b'.repeat(24)}`, password: 'quartz-lantern-meadow-47' }],
      ['/email-change/confirm', { token: `${'a'.repeat(24)}.${'b'.repeat(24)}` }],
    ];
    for (const [url, body] of forms) {
      expect((await client.post(url, body, { csrf: false })).statusCode, url).toBe(403);
      expect((await client.post(url, body, { csrf: 'forged' })).statusCode, url).toBe(403);
    }
    const visitor = new TestClient(w.app);
    for (const url of ['/account/password', '/account/email', '/account/delete']) {
      const page = await visitor.get(url);
      expect([page.statusCode, page.location?.startsWith('/login')], url).toEqual([303, true]);
      const post = await visitor.post(url, forms.find(([u]) => u === url)![1]);
      expect([post.statusCode, post.location?.startsWith('/login')], url).toEqual([303, true]);
    }
    expect(await before()).toBe(snapshot);
    expect((await client.get('/account')).statusCode).toBe(200);
  });
});
