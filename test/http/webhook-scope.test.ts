// Stripe's webhook endpoints sit in their own scope, outside the site: a delivery gets no cookies, no
// CSP or other page headers, and the session hook never looks its (browser-like) cookie up. The
// site around it keeps all of that, and its not-found and error pages still know who is signed in.
import type { KyselyPlugin } from 'kysely';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useWorld, type SignedIn } from '../helpers/fixture.ts';
import { makeEvent, postSigned, signature } from '../helpers/webhooks.ts';

let signedIn: SignedIn;
/** Every statement the app sends, as its query tree (JSON): enough to see which tables it touches. */
const statements: string[] = [];
const recorder: KyselyPlugin = {
  transformQuery: (args) => {
    statements.push(JSON.stringify(args.node));
    return args.node;
  },
  transformResult: async (args) => args.result,
};
const sessionLookups = () => statements.filter((s) => s.includes('"name":"sessions"')).length;

// The app's statements go through the recorder; the test's own reads do not.
const w = useWorld({ db: (database) => database.db.withPlugin(recorder) });

beforeAll(async () => {
  signedIn = await w.signIn('buyer');
});
beforeEach(() => {
  statements.length = 0;
});

/** The signed-in browser's cookies (session and CSRF), as a webhook request might carry any cookie. */
const browserCookies = () => [...signedIn.client.cookies].map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('; ');

describe('a webhook delivery', () => {
  it('is answered without Set-Cookie or page headers, and the session hook never queries for it', async () => {
    const payload = JSON.stringify(makeEvent('customer.created', { id: 'cus_scope', object: 'customer' }));
    const response = await w.app.inject({
      method: 'POST',
      url: '/webhooks/stripe',
      headers: {
        'content-type': 'application/json',
        'stripe-signature': signature(payload, w.config.stripe.platformWebhookSecret!),
        cookie: browserCookies(),
      },
      payload,
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['set-cookie']).toBeUndefined();
    for (const header of ['content-security-policy', 'x-frame-options', 'strict-transport-security', 'permissions-policy', 'cache-control']) {
      expect(response.headers[header], header).toBeUndefined();
    }
    expect(sessionLookups()).toBe(0);
    // It was stored (through the prepared insert, which bypasses Kysely and so this recorder): the
    // request did reach the database, just not the sessions table.
    const stored = await w.db
      .selectFrom('stripe_events')
      .select('id')
      .where('id', '=', (JSON.parse(payload) as { id: string }).id)
      .executeTakeFirst();
    expect(stored).toBeDefined();
  });

  it('a forged one still gets its 400 without CSRF getting in the way', async () => {
    const response = await postSigned(w.app, '/webhooks/stripe/connect', '{"id":"evt_x"}', 't=1,v1=00');
    expect(response.statusCode).toBe(400);
    expect(response.headers['set-cookie']).toBeUndefined();
  });
});

describe('the site around it', () => {
  it('pages keep their CSP and the session hook', async () => {
    const page = await signedIn.client.get('/account');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.headers['permissions-policy']).toBeDefined();
    expect(page.headers['cache-control']).toBe('no-store');
    expect(sessionLookups()).toBeGreaterThan(0);
  });

  it('the not-found page knows who is signed in and carries the page headers', async () => {
    const page = await signedIn.client.get('/no/such/page');
    expect(page.statusCode).toBe(404);
    expect(page.body).toContain('Page not found');
    expect(page.body).toContain(signedIn.user.display_name);
    expect(page.headers['content-security-policy']).toBeDefined();
  });

  it('the error page (a form without its CSRF token) knows who is signed in', async () => {
    const page = await signedIn.client.post('/logout', {}, { csrf: false });
    expect(page.statusCode).toBe(403);
    expect(page.body).toContain(signedIn.user.display_name);
    expect(page.headers['content-security-policy']).toBeDefined();
  });
});
