import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { FREE_FAILURES } from '../../src/auth/login-throttle.ts';
import { area } from '../../src/http/areas.ts';
import { SESSION_COOKIE, SESSION_LIFETIME_MS, validateSessionToken } from '../../src/auth/sessions.ts';
import { createTestUser, TEST_PASSWORD, TestClient } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';

const w = useWorld({
  register: (instance) => {
    instance.register(
      area('any', async (app) => {
        app.get('/_test/any', async () => 'any user page');
      }),
    );
    instance.register(
      area(['seller'], async (app) => {
        app.get('/_test/seller', async () => 'seller page');
      }),
    );
    instance.register(
      area(['admin'], async (app) => {
        app.get('/_test/admin', async () => 'admin page');
      }),
    );
  },
});

const countUsers = async () =>
  Number(
    (
      await w.db
        .selectFrom('users')
        .select(sql<number>`count(*)`.as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

describe('sign up', () => {
  it('creates a buyer, signs them in and redirects home', async () => {
    const client = new TestClient(w.app);
    const response = await client.post('/signup', { email: 'Alice@Example.test', password: 'long-enough-pw', displayName: 'Alice', role: 'buyer' });
    expect(response.statusCode).toBe(303);
    expect(response.location).toBe('/');
    expect(client.cookies.get(SESSION_COOKIE)).toBeDefined();
    const account = await client.get('/account');
    expect(account.statusCode).toBe(200);
    expect(account.body).toContain('Alice@Example.test');
    const stored = await w.db.selectFrom('users').selectAll().where('email', '=', 'Alice@Example.test').executeTakeFirstOrThrow();
    expect(stored.role).toBe('buyer');
    expect(stored.password_hash).toMatch(/^\$argon2id\$/);
  });

  it('sends a new seller to the seller dashboard', async () => {
    const response = await new TestClient(w.app).post('/signup', {
      email: 'shop@example.test',
      password: 'long-enough-pw',
      displayName: 'Shop',
      role: 'seller',
    });
    expect(response.location).toBe('/seller');
  });

  it('refuses the same email in another case, keeping the input and creating nothing', async () => {
    const before = await countUsers();
    const response = await new TestClient(w.app).post('/signup', {
      email: 'ALICE@example.TEST',
      password: 'another-password',
      displayName: 'Imposter',
      role: 'buyer',
    });
    expect(response.statusCode).toBe(409);
    expect(response.body).toContain('An account with this email already exists');
    expect(response.body).toContain('value="ALICE@example.TEST"');
    expect(response.body).toContain('value="Imposter"');
    expect(response.body).not.toContain('another-password');
    expect(await countUsers()).toBe(before);
  });

  it('shows a message beside each bad field and never a 500', async () => {
    const response = await new TestClient(w.app).post('/signup', { email: 'not-an-email', password: 'short', displayName: '', role: 'wizard' });
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('Enter a valid email address');
    expect(response.body).toContain('Use a password of 10');
    expect(response.body).toContain('Enter your name');
    expect(response.body).toContain('Choose whether you are buying or selling');
    expect(response.body).toContain('value="not-an-email"');
  });

  it('cannot be used to create an admin', async () => {
    const response = await new TestClient(w.app).post('/signup', { email: 'sneaky@example.test', password: 'long-enough-pw', displayName: 'S', role: 'admin' });
    expect(response.statusCode).toBe(400);
    expect(await w.db.selectFrom('users').select('id').where('email', '=', 'sneaky@example.test').executeTakeFirst()).toBeUndefined();
  });
});

describe('log in and out', () => {
  it('rejects a wrong password without saying which part was wrong', async () => {
    const user = await createTestUser(w.db, 'buyer');
    const client = new TestClient(w.app);
    const response = await client.post('/login', { email: user.email, password: 'wrong-password' });
    expect(response.statusCode).toBe(401);
    expect(response.body).toContain('That email and password do not match an account.');
    expect(client.cookies.get(SESSION_COOKIE)).toBeUndefined();
    const unknown = await client.post('/login', { email: 'nobody@example.test', password: 'whatever' });
    expect(unknown.body).toContain('That email and password do not match an account.');
  });

  it('accepts the email in any case', async () => {
    const user = await createTestUser(w.db, 'buyer');
    const response = await new TestClient(w.app).post('/login', { email: user.email.toUpperCase(), password: TEST_PASSWORD });
    expect(response.statusCode).toBe(303);
  });

  it('issues a new session id on login and ends the one the browser had (no fixation)', async () => {
    const user = await createTestUser(w.db, 'buyer');
    const client = new TestClient(w.app);
    await client.post('/login', { email: user.email, password: TEST_PASSWORD });
    const first = client.cookies.get(SESSION_COOKIE)!;
    await client.post('/login', { email: user.email, password: TEST_PASSWORD });
    const second = client.cookies.get(SESSION_COOKIE)!;
    expect(second.split('.')[0]).not.toBe(first.split('.')[0]);
    expect(await validateSessionToken(w.db, first)).toBeNull();
    expect(await validateSessionToken(w.db, second)).not.toBeNull();
  });

  it('logs out: the session row is gone and the old cookie no longer works', async () => {
    const { client } = await w.signIn('buyer');
    const token = client.cookies.get(SESSION_COOKIE)!;
    const response = await client.post('/logout');
    expect(response.statusCode).toBe(303);
    expect(client.cookies.get(SESSION_COOKIE)).toBeUndefined();
    expect(await validateSessionToken(w.db, token)).toBeNull();
    const replay = new TestClient(w.app);
    replay.cookies.set(SESSION_COOKIE, token);
    expect((await replay.get('/account')).statusCode).toBe(303);
  });

  it('signs a user out of every session at once', async () => {
    const user = await createTestUser(w.db, 'seller');
    const laptop = new TestClient(w.app);
    const phone = new TestClient(w.app);
    await laptop.post('/login', { email: user.email, password: TEST_PASSWORD });
    await phone.post('/login', { email: user.email, password: TEST_PASSWORD });
    const response = await laptop.post('/account/logout-everywhere');
    expect(response.statusCode).toBe(303);
    expect((await phone.get('/_test/any')).statusCode).toBe(303);
    const left = await w.db.selectFrom('sessions').select('id').where('user_id', '=', user.id).execute();
    expect(left).toHaveLength(0);
  });

  it('ignores an off-site next= and follows a local one', async () => {
    const user = await createTestUser(w.db, 'buyer');
    for (const evil of ['https://evil.example', '//evil.example', '/\\evil.example', 'javascript:alert(1)']) {
      const response = await new TestClient(w.app).post('/login', { email: user.email, password: TEST_PASSWORD, next: evil });
      expect(response.statusCode).toBe(303);
      expect(response.location).toBe('/');
    }
    const page = await new TestClient(w.app).get('/login?next=https://evil.example');
    expect(page.body).not.toContain('evil.example');
    const local = await new TestClient(w.app).post('/login', { email: user.email, password: TEST_PASSWORD, next: '/account?tab=1' });
    expect(local.location).toBe('/account?tab=1');
  });

  it('throttles repeated failures for one email, even with the right password', async () => {
    const user = await createTestUser(w.db, 'buyer');
    const client = new TestClient(w.app, '10.9.8.7');
    for (let i = 0; i < FREE_FAILURES.pair; i++) {
      expect((await client.post('/login', { email: user.email, password: `wrong-${i}` })).statusCode).toBe(401);
    }
    const blocked = await client.post('/login', { email: user.email, password: TEST_PASSWORD });
    expect(blocked.statusCode).toBe(429);
    expect(blocked.body).toContain('Too many failed attempts');
    expect(client.cookies.get(SESSION_COOKIE)).toBeUndefined();
  });
});

describe('session expiry and renewal', () => {
  it('rejects and deletes an expired session', async () => {
    const { client, user } = await w.signIn('buyer');
    await w.db
      .updateTable('sessions')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('user_id', '=', user.id)
      .execute();
    const response = await client.get('/account');
    expect(response.statusCode).toBe(303);
    expect(response.location).toBe('/login?next=%2Faccount');
    expect(await w.db.selectFrom('sessions').select('id').where('user_id', '=', user.id).execute()).toHaveLength(0);
  });

  it('slides the expiry forward once less than half the lifetime is left, and sends the cookie again', async () => {
    const { client, user } = await w.signIn('buyer');
    const soon = new Date(Date.now() + 3 * 24 * 60 * 60 * 1000);
    await w.db.updateTable('sessions').set({ expires_at: soon }).where('user_id', '=', user.id).execute();
    const response = await w.app.inject({ method: 'GET', url: '/account', headers: { cookie: `${SESSION_COOKIE}=${client.cookies.get(SESSION_COOKIE)}` } });
    expect(response.statusCode).toBe(200);
    const renewedCookie = response.cookies.find((c) => c.name === SESSION_COOKIE);
    expect(renewedCookie?.httpOnly).toBe(true);
    expect(renewedCookie?.sameSite).toBe('Lax');
    const row = await w.db.selectFrom('sessions').select('expires_at').where('user_id', '=', user.id).executeTakeFirstOrThrow();
    expect(row.expires_at.getTime()).toBeGreaterThan(Date.now() + SESSION_LIFETIME_MS - 60_000);
  });

  it('leaves a fresh session alone (no write on every request)', async () => {
    const { client } = await w.signIn('buyer');
    const response = await w.app.inject({ method: 'GET', url: '/account', headers: { cookie: `${SESSION_COOKIE}=${client.cookies.get(SESSION_COOKIE)}` } });
    expect(response.cookies.find((c) => c.name === SESSION_COOKIE)).toBeUndefined();
  });

  it('refuses a token whose secret half is wrong', async () => {
    const { client } = await w.signIn('buyer');
    const [id] = client.cookies.get(SESSION_COOKIE)!.split('.');
    const forged = new TestClient(w.app);
    forged.cookies.set(SESSION_COOKIE, `${id}.${'a'.repeat(24)}`);
    expect((await forged.get('/account')).statusCode).toBe(303);
  });
});

describe('CSRF', () => {
  it('rejects a form without a token with 403 and changes nothing', async () => {
    const before = await countUsers();
    const response = await new TestClient(w.app).post(
      '/signup',
      { email: 'csrf@example.test', password: 'long-enough-pw', displayName: 'C', role: 'buyer' },
      { csrf: false },
    );
    expect(response.statusCode).toBe(403);
    expect(response.body).toContain('This form has expired');
    expect(await countUsers()).toBe(before);
  });

  it('rejects a forged token, and a logged-in user is not logged out by a cross-site form', async () => {
    const { client, user } = await w.signIn('buyer');
    const response = await client.post('/account/logout-everywhere', {}, { csrf: 'forged-token' });
    expect(response.statusCode).toBe(403);
    const sessions = await w.db.selectFrom('sessions').select('id').where('user_id', '=', user.id).execute();
    expect(sessions).toHaveLength(1);
  });
});

describe('guards', () => {
  const routes = [
    { url: '/_test/any', allowed: ['buyer', 'seller', 'admin'] },
    { url: '/_test/seller', allowed: ['seller'] },
    { url: '/_test/admin', allowed: ['admin'] },
  ] as const;

  it('sends a visitor to log in, remembering where they were going', async () => {
    for (const route of routes) {
      const response = await new TestClient(w.app).get(route.url);
      expect(response.statusCode).toBe(303);
      expect(response.location).toBe(`/login?next=${encodeURIComponent(route.url)}`);
    }
  });

  it('lets the right role in and gives the wrong role a 403 page', async () => {
    for (const role of ['buyer', 'seller', 'admin'] as const) {
      const { client } = await w.signIn(role);
      for (const route of routes) {
        const response = await client.get(route.url);
        if ((route.allowed as readonly string[]).includes(role)) {
          expect(response.statusCode, `${role} on ${route.url}`).toBe(200);
        } else {
          expect(response.statusCode, `${role} on ${route.url}`).toBe(403);
          expect(response.body).toContain('Not allowed');
        }
      }
    }
  });
});

describe('pages', () => {
  it('renders a 404 page with no internals', async () => {
    const response = await new TestClient(w.app).get('/no/such/page');
    expect(response.statusCode).toBe(404);
    expect(response.body).toContain('Page not found');
  });

  it('answers health and readiness', async () => {
    expect((await w.app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await w.app.inject('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready' });
  });

  it('sends security headers', async () => {
    const response = await new TestClient(w.app).get('/');
    expect(response.headers['content-security-policy']).toContain("default-src 'self'");
    expect(response.headers['x-content-type-options']).toBe('nosniff');
  });
});
