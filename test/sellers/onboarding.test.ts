// Seller onboarding over HTTP: our app (real routes, real w.database) and the real Stripe SDK talking
// to the w.emu. The emulator's hosted onboarding page is driven over HTTP like a browser would.
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { accountIdempotencyKey, ensureConnectedAccount } from '../../src/sellers/use-cases.ts';
import { createTestUser, TEST_PASSWORD, TestClient, testConfig, type Response } from '../helpers/app.ts';
import { isPglite } from '../helpers/database.ts';
import { useWorld } from '../helpers/fixture.ts';

const w = useWorld({ emulator: true });
let ipCounter = 10;

/** A seller signed up through the real form, from their own address (rate limits are per IP). */
async function signUpSeller(): Promise<{ client: TestClient; sellerId: string; email: string }> {
  const client = new TestClient(w.app, `10.0.0.${ipCounter++}`);
  const email = `seller-${ipCounter}-${Date.now()}@example.test`;
  const response = await client.post('/signup', { email, password: TEST_PASSWORD, displayName: `Seller ${ipCounter}`, role: 'seller' });
  expect(response.location).toBe('/seller');
  const user = await w.db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirstOrThrow();
  return { client, sellerId: user.id, email };
}

/** What a browser does on the emulator's onboarding page: open the link, press one outcome button. */
async function completeOnboarding(linkUrl: string, outcome: string): Promise<string> {
  const page = await fetch(linkUrl, { redirect: 'manual' });
  expect(page.status).toBe(200);
  const html = await page.text();
  const session = /name="session" value="([^"]+)"/.exec(html)?.[1];
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  expect(session).toBeDefined();
  expect(html).toContain(`value="${outcome}"`);
  const submitted = await fetch(new URL(action!, linkUrl), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ session: session!, outcome }).toString(),
  });
  expect([302, 303]).toContain(submitted.status);
  return submitted.headers.get('location') ?? '';
}

/** Our own URL (as Stripe redirects to it) → the path the test client requests. */
const localPath = (url: string) => {
  const u = new URL(url);
  return u.pathname + u.search;
};

async function startPayouts(client: TestClient, country = 'US'): Promise<Response> {
  return client.post('/seller/payouts/start', { country });
}

async function onboardWith(outcome: string): Promise<{ client: TestClient; sellerId: string; page: Response }> {
  const seller = await signUpSeller();
  const start = await startPayouts(seller.client);
  expect(start.statusCode).toBe(303);
  const back = await completeOnboarding(start.location!, outcome);
  expect(localPath(back)).toBe('/seller/payouts/return');
  // The return page reads Stripe, says so once (a flash) and redirects: a reload is the plain dashboard.
  const returned = await seller.client.get(localPath(back));
  expect([returned.statusCode, returned.location]).toEqual([303, '/seller']);
  const page = await seller.client.get('/seller');
  expect(page.statusCode).toBe(200);
  return { ...seller, page };
}

/** GET, following our own 303 (the return page redirects to the dashboard with a flash). */
async function followed(client: TestClient, path: string): Promise<Response> {
  const first = await client.get(path);
  return first.statusCode === 303 && first.location?.startsWith('/') === true ? client.get(first.location) : first;
}

const stateShown = (page: Response) => /data-account-state="([a-z_]+)"/.exec(page.body)?.[1];

describe('Set up payouts', () => {
  it('a new seller sees "not started" and a country choice', async () => {
    const { client } = await signUpSeller();
    const dashboard = await client.get('/seller');
    expect(dashboard.statusCode).toBe(200);
    expect(stateShown(dashboard)).toBe('not_started');
    expect(dashboard.body).toContain('Set up payouts');
    expect(dashboard.body).toContain('<option value="GB">United Kingdom</option>');
    expect(dashboard.body).not.toContain('Open Stripe Express dashboard');
  });

  it('sign up → Set up payouts → "verified" at Stripe → the return page shows enabled; the account is Express-like', async () => {
    const { client, sellerId, email } = await signUpSeller();
    const start = await startPayouts(client, 'GB');
    expect(start.statusCode).toBe(303);
    expect(start.location).toMatch(new RegExp(`^${w.emu.url}/hosted/onboarding/`));

    // Before the seller finishes, our dashboard says so (not "done").
    const meanwhile = await client.get('/seller');
    expect(stateShown(meanwhile)).toBe('onboarding_incomplete');
    expect(meanwhile.body).toContain('Continue setup with Stripe');

    const back = await completeOnboarding(start.location!, 'verified');
    const page = await followed(client, localPath(back));
    expect(stateShown(page)).toBe('enabled');
    expect(page.body).toContain('Welcome back from Stripe');
    expect(page.body).toContain('Open Stripe Express dashboard');

    const row = await w.db.selectFrom('sellers').selectAll().where('id', '=', sellerId).executeTakeFirstOrThrow();
    expect(row.account_state).toBe('enabled');
    expect(row.charges_enabled).toBe(true);
    expect(row.payouts_enabled).toBe(true);
    const account = await w.emu.stripe.accounts.retrieve(row.stripe_account_id);
    expect(account.controller).toMatchObject({
      stripe_dashboard: { type: 'express' },
      fees: { payer: 'application' },
      losses: { payments: 'application' },
      requirement_collection: 'stripe',
    });
    expect(account.capabilities).toEqual({ card_payments: 'active', transfers: 'active' });
    expect(account.metadata).toEqual({ seller_id: sellerId });
    expect(account.country).toBe('GB');
    expect(account.email).toBe(email);
  });

  it('the Express dashboard button mints a login link and redirects to it', async () => {
    const { client } = await onboardWith('verified');
    const response = await client.post('/seller/payouts/dashboard');
    expect(response.statusCode).toBe(303);
    expect(response.location).toMatch(new RegExp(`^${w.emu.url}/hosted/express/`));
    const dashboard = await fetch(response.location!);
    expect(dashboard.status).toBe(200);
  });

  it('no Express dashboard before details are submitted', async () => {
    const { client } = await signUpSeller();
    await startPayouts(client);
    const dashboard = await client.get('/seller');
    expect(dashboard.body).not.toContain('Open Stripe Express dashboard');
    const response = await client.post('/seller/payouts/dashboard');
    expect(response.location).toBe('/seller');
  });

  it('"requirements still due" → restricted, listing what is due in plain words and the deadline', async () => {
    const { page } = await onboardWith('requirements_due');
    expect(stateShown(page)).toBe('restricted');
    expect(page.body).toContain('An identity document (passport, ID card or driving licence)');
    expect(page.body).toMatch(/data-testid="requirements-deadline">\d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    expect(page.body).toContain('Provide the missing information');
  });

  it('"rejected" → rejected', async () => {
    const { page } = await onboardWith('rejected');
    expect(stateShown(page)).toBe('rejected');
    expect(page.body).toContain('Stripe has rejected this account');
  });

  it('"pending verification" → pending_verification, with a way to check again', async () => {
    const { client, sellerId, page } = await onboardWith('pending_verification');
    expect(stateShown(page)).toBe('pending_verification');
    expect(page.body).toContain('Check status now');
    // Stripe finishes verifying; "Check status now" re-reads the account.
    const row = await w.db.selectFrom('sellers').select('stripe_account_id').where('id', '=', sellerId).executeTakeFirstOrThrow();
    await w.emu.control('POST', `/_emulator/accounts/${row.stripe_account_id}/onboarding`, { outcome: 'verified' });
    const checked = await client.post('/seller/payouts/check');
    expect(checked.location).toBe('/seller');
    expect(stateShown(await client.get('/seller'))).toBe('enabled');
  });

  it('leaving without finishing → still onboarding_incomplete; returning is never "done" by itself', async () => {
    const { page } = await onboardWith('incomplete');
    expect(stateShown(page)).toBe('onboarding_incomplete');
    expect(page.body).toContain('Continue setup with Stripe');
    // Stripe's form asks for the details itself; we do not list twenty field names at the seller.
    expect(page.body).not.toContain('data-testid="requirements-due"');
  });

  it('Continue setup reuses the one account', async () => {
    const { client, sellerId } = await signUpSeller();
    await startPayouts(client, 'US');
    await startPayouts(client, 'FR'); // the country is fixed by the first request
    const rows = await w.db.selectFrom('sellers').selectAll().where('id', '=', sellerId).execute();
    expect(rows).toHaveLength(1);
    const account = await w.emu.stripe.accounts.retrieve(rows[0]!.stripe_account_id);
    expect(account.country).toBe('US');
  });

  it('rejects a country that is not on the list, beside the field', async () => {
    const { client, sellerId } = await signUpSeller();
    const response = await startPayouts(client, 'XX');
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('Choose the country where you or your business are based');
    const row = await w.db.selectFrom('sellers').select('stripe_account_id').where('id', '=', sellerId).executeTakeFirst();
    expect(row?.stripe_account_id ?? null).toBeNull();
  });

  it('is for sellers only', async () => {
    const buyer = new TestClient(w.app, '10.0.1.1');
    await buyer.post('/signup', { email: `buyer-${Date.now()}@example.test`, password: TEST_PASSWORD, displayName: 'Buyer', role: 'buyer' });
    expect((await buyer.get('/seller')).statusCode).toBe(403);
    expect((await buyer.post('/seller/payouts/start', { country: 'US' })).statusCode).toBe(403);
    const visitor = new TestClient(w.app, '10.0.1.2');
    const response = await visitor.get('/seller/payouts/return');
    expect(response.statusCode).toBe(303);
    expect(response.location).toBe('/login?next=%2Fseller%2Fpayouts%2Freturn');
  });
});

describe('links that expired or were used', () => {
  it('an expired link sends the seller to our refresh route, which mints a new working link', async () => {
    const { client } = await signUpSeller();
    const start = await startPayouts(client);
    await w.emu.advanceClock(60 * 60); // well past an Account Link's lifetime
    const expired = await fetch(start.location!, { redirect: 'manual' });
    expect([302, 303]).toContain(expired.status);
    const refreshUrl = expired.headers.get('location')!;
    expect(localPath(refreshUrl)).toBe('/seller/payouts/refresh');

    const refreshed = await followed(client, localPath(refreshUrl));
    expect(refreshed.statusCode).toBe(303);
    expect(refreshed.location).toMatch(new RegExp(`^${w.emu.url}/hosted/onboarding/`));
    expect(refreshed.location).not.toBe(start.location);
    const back = await completeOnboarding(refreshed.location!, 'verified');
    expect(stateShown(await followed(client, localPath(back)))).toBe('enabled');
  });

  it('a link opened twice goes to refresh too, and the refresh works', async () => {
    const { client } = await signUpSeller();
    const start = await startPayouts(client);
    await fetch(start.location!);
    const again = await fetch(start.location!, { redirect: 'manual' });
    expect(localPath(again.headers.get('location')!)).toBe('/seller/payouts/refresh');
    const refreshed = await client.get('/seller/payouts/refresh');
    expect((await fetch(refreshed.location!)).status).toBe(200);
  });

  it('refresh without an account goes back to the dashboard', async () => {
    const { client } = await signUpSeller();
    const response = await client.get('/seller/payouts/refresh');
    expect(response.location).toBe('/seller');
  });
});

describe('exactly one account per seller', () => {
  const accountsFor = async (sellerId: string) => (await w.emu.stripe.accounts.list({ limit: 100 })).data.filter((a) => a.metadata?.seller_id === sellerId);

  it('two concurrent "Set up payouts" requests → one account at Stripe and one in our database', async () => {
    const { client, sellerId } = await signUpSeller();
    const token = await client.csrfToken();
    // Two tabs and a double click: four requests in flight at once.
    const responses = await Promise.all(Array.from({ length: 4 }, () => client.post('/seller/payouts/start', { country: 'US' }, { csrf: token })));
    expect(responses.map((r) => r.statusCode)).toEqual([303, 303, 303, 303]);
    expect(await accountsFor(sellerId)).toHaveLength(1);
    const rows = await w.db.selectFrom('sellers').select('stripe_account_id').where('id', '=', sellerId).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.stripe_account_id).toBe((await accountsFor(sellerId))[0]!.id);
  });

  // Two app instances (two connection pools) racing for the same seller: only the row lock of a real
  // PostgreSQL server can be contended across connections, so this runs where one is available.
  it.skipIf(isPglite())('two app instances racing → still one account', async () => {
    const other = await buildApp({
      config: testConfig(),
      db: (await import('../../src/db/connect.ts')).connectPostgres(w.database.url!).db,
      stripe: w.emu.stripe,
      logger: false,
    });
    await other.ready();
    try {
      const user = await createTestUser(w.db, 'seller');
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          ensureConnectedAccount(i % 2 === 0 ? w.app.db : other.db, w.emu.stripe, { sellerId: user.id, country: 'US', email: user.email }),
        ),
      );
      expect(new Set(results.map((r) => r.accountId)).size).toBe(1);
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(await accountsFor(user.id)).toHaveLength(1);
    } finally {
      await other.db.destroy();
      await other.close();
    }
  });

  it('a crash between Stripe creating the account and our commit: the retry gets the same account', async () => {
    const user = await createTestUser(w.db, 'seller');
    // The first attempt reaches Stripe, then our process "dies" before storing the id: simulate by
    // creating the account exactly as ensureConnectedAccount would, with the same key, and not storing it.
    await ensureConnectedAccount(w.db, w.emu.stripe, { sellerId: user.id, country: 'US', email: user.email });
    const stored = await w.db.selectFrom('sellers').select('stripe_account_id').where('id', '=', user.id).executeTakeFirstOrThrow();
    await w.db.updateTable('sellers').set({ stripe_account_id: null }).where('id', '=', user.id).execute();

    const retried = await ensureConnectedAccount(w.db, w.emu.stripe, { sellerId: user.id, country: 'US', email: user.email });
    expect(retried.accountId).toBe(stored.stripe_account_id);
    expect(await accountsFor(user.id)).toHaveLength(1);
    expect(accountIdempotencyKey(user.id)).toBe(`seller:${user.id}:connect-account`);
  });

  it('after the idempotency window, an account created but never stored is found by metadata, not duplicated', async () => {
    const user = await createTestUser(w.db, 'seller');
    // Our request was stored two days ago, Stripe created the account, and we crashed before storing it.
    await w.db
      .insertInto('sellers')
      .values({ id: user.id, account_country: 'US', account_email: user.email, account_requested_at: new Date(Date.now() - 2 * 86_400_000) })
      .execute();
    const orphan = await w.emu.stripe.accounts.create({
      country: 'US',
      email: user.email,
      metadata: { seller_id: user.id },
      controller: {
        stripe_dashboard: { type: 'express' },
        fees: { payer: 'application' },
        losses: { payments: 'application' },
        requirement_collection: 'stripe',
      },
    });
    const result = await ensureConnectedAccount(w.db, w.emu.stripe, { sellerId: user.id, country: 'US', email: user.email });
    expect(result).toEqual({ accountId: orphan.id, created: false });
    expect(await accountsFor(user.id)).toHaveLength(1);
  });

  it('the database refuses one account for two sellers', async () => {
    const a = await createTestUser(w.db, 'seller');
    const b = await createTestUser(w.db, 'seller');
    await w.db.insertInto('sellers').values({ id: a.id, stripe_account_id: 'acct_shared' }).execute();
    await expect(w.db.insertInto('sellers').values({ id: b.id, stripe_account_id: 'acct_shared' }).execute()).rejects.toThrow();
    const n = await w.db
      .selectFrom('sellers')
      .select(sql<number>`count(*)::int`.as('n'))
      .where('stripe_account_id', '=', 'acct_shared')
      .executeTakeFirstOrThrow();
    expect(n.n).toBe(1);
  });
});

describe('when Stripe fails', () => {
  it('Set up payouts during a Stripe outage: a plain message, and the retry creates the one account', async () => {
    const { client, sellerId } = await signUpSeller();
    await w.emu.control('POST', '/_emulator/faults', { method: 'POST', path: '/v1/accounts', kind: '500', count: 1 });
    const failed = await startPayouts(client);
    expect(failed.statusCode).toBe(303);
    expect(failed.location).toBe('/seller');
    const after = await client.get('/seller');
    expect(after.body).toContain('We could not reach Stripe to set up payouts');
    const retried = await startPayouts(client);
    expect(retried.location).toMatch(new RegExp(`^${w.emu.url}/hosted/onboarding/`));
    const accounts = (await w.emu.stripe.accounts.list({ limit: 100 })).data.filter((a) => a.metadata?.seller_id === sellerId);
    expect(accounts).toHaveLength(1);
  });

  it('the return page during a Stripe outage shows the last known state and says it may be out of date', async () => {
    const { client } = await signUpSeller();
    const start = await startPayouts(client);
    const back = await completeOnboarding(start.location!, 'verified');
    await w.emu.control('POST', '/_emulator/faults', { method: 'GET', path: '/v1/accounts', kind: '500', count: 1 });
    const page = await followed(client, localPath(back));
    expect(page.statusCode).toBe(200);
    expect(stateShown(page)).toBe('onboarding_incomplete');
    expect(page.body).toContain('this status may be out of date');
    expect(stateShown(await followed(client, localPath(back)))).toBe('enabled');
  });

  it('an account no longer connected to the platform: the return page and "check now" explain it, never a 500', async () => {
    const { client, sellerId } = await signUpSeller();
    const start = await startPayouts(client);
    const back = await completeOnboarding(start.location!, 'verified');
    const seller = await w.db.selectFrom('sellers').select('stripe_account_id').where('id', '=', sellerId).executeTakeFirstOrThrow();
    await w.emu.stripe.accounts.del(seller.stripe_account_id!);
    const page = await followed(client, localPath(back));
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('no longer connected to this marketplace');
    const check = await client.post('/seller/payouts/check');
    expect(check.statusCode).toBe(303);
    const dashboard = await client.get('/seller');
    expect(dashboard.body).toContain('no longer connected to this marketplace');
  });
});
