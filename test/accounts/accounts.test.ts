// Accounts (issue 16, point 5) through the real app, database and emulator: a password reset by an
// emailed single-use link that expires in an hour and is stored hashed; changing the password ends
// the other sessions; a new email takes effect only through the link sent to it (and reaches the
// buyer's Stripe Customer); a deleted buyer's orders stay while their personal data goes.
import { sha256 } from '@oslojs/crypto/sha2';
import { describe, expect, it } from 'vitest';
import type { KyselyPlugin, RootOperationNode } from 'kysely';
import { requestPasswordReset, resetPassword } from '../../src/accounts/use-cases.ts';
import { ensureBuyerCustomer } from '../../src/customers/use-cases.ts';
import type { User } from '../../src/db/schema.ts';
import { createTestUser, TEST_PASSWORD, TestClient } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';
import { createPaidOrder, createSeller } from '../helpers/market.ts';

const NEW_PASSWORD = 'quartz-lantern-meadow-47';
const h = useWorld({ webhooks: true, admin: true });

async function signIn(user: Pick<User, 'email'>, password = TEST_PASSWORD): Promise<{ client: TestClient; status: number }> {
  const client = new TestClient(h.app);
  const response = await client.post('/login', { email: user.email, password });
  return { client, status: response.statusCode };
}
const signedIn = async (client: TestClient) => (await client.get('/account')).statusCode === 200;

async function outboxTo(address: string, template: string) {
  return h.database.db
    .selectFrom('email_outbox')
    .selectAll()
    .where('to_address', '=', address)
    .where('template', '=', template)
    .orderBy('created_at')
    .execute();
}
/** The link of the newest message of `template` to `address`, as the email carries it. */
async function linkIn(address: string, template: string, key: 'resetPath' | 'confirmPath'): Promise<string> {
  const messages = await outboxTo(address, template);
  const data = messages.at(-1)?.data as Record<string, string> | undefined;
  if (data?.[key] === undefined) throw new Error(`no ${template} email to ${address}`);
  return data[key];
}
const tokenOf = (link: string) => new URL(link, 'http://x').searchParams.get('token')!;

describe('password reset', () => {
  it('emails a link only to an existing account, and the form answers alike either way', async () => {
    const user = await createTestUser(h.database.db, 'buyer');
    const visitor = new TestClient(h.app);
    const known = await visitor.post('/password-reset', { email: user.email.toUpperCase() });
    const unknown = await visitor.post('/password-reset', { email: `nobody-${Date.now()}@example.test` });
    expect([known.statusCode, known.location]).toEqual([303, '/login']);
    expect([unknown.statusCode, unknown.location]).toEqual([303, '/login']);
    expect(await outboxTo(user.email, 'password-reset')).toHaveLength(1);
    expect(await h.database.db.selectFrom('email_outbox').select('id').where('to_address', 'like', 'nobody-%').execute()).toEqual([]);
  });

  it('takes the same path for a known and an unknown address (no early answer), and keeps nothing for the unknown one', async () => {
    const user = await createTestUser(h.database.db, 'buyer');
    /** The statements a reset request runs, as "<kind> <first table>". */
    const statementsFor = async (email: string): Promise<string[]> => {
      const seen: string[] = [];
      const tableOf = (node: RootOperationNode) => /"table":\{.*?"name":"(\w+)"/.exec(JSON.stringify(node))?.[1] ?? '?';
      const recorder: KyselyPlugin = {
        transformQuery: ({ node }) => {
          seen.push(`${node.kind} ${tableOf(node)}`);
          return node;
        },
        transformResult: async ({ result }) => result,
      };
      await requestPasswordReset(h.database.db.withPlugin(recorder), email);
      return seen;
    };
    const unknownEmail = `nobody-${Date.now()}@example.test`;
    const known = await statementsFor(user.email);
    const unknown = await statementsFor(unknownEmail);
    expect(known).toEqual([
      'SelectQueryNode users',
      'SelectQueryNode users',
      'SelectQueryNode password_reset_tokens',
      'InsertQueryNode password_reset_tokens',
      'InsertQueryNode email_outbox',
    ]);
    expect(unknown).toEqual(known);
    expect(await outboxTo(user.email, 'password-reset')).toHaveLength(1);
    expect(await outboxTo(unknownEmail, 'password-reset')).toEqual([]);
  });

  it('keeps only a hash of the secret in the token table (the outbox copy is scrubbed once sent: test/email/link-tokens)', async () => {
    const user = await createTestUser(h.database.db, 'buyer');
    await new TestClient(h.app).post('/password-reset', { email: user.email });
    const token = tokenOf(await linkIn(user.email, 'password-reset', 'resetPath'));
    const [id, secret] = token.split('.');
    const row = await h.database.db.selectFrom('password_reset_tokens').selectAll().where('id', '=', id!).executeTakeFirstOrThrow();
    expect(Buffer.from(row.secret_hash).equals(Buffer.from(sha256(new TextEncoder().encode(secret))))).toBe(true);
    expect(JSON.stringify(row)).not.toContain(secret);
    // An hour to live.
    expect(Math.abs(row.expires_at.getTime() - row.created_at.getTime() - 3_600_000)).toBeLessThan(5_000);
  });

  it('sets the new password once, ends every session, and the same link then fails', async () => {
    const user = await createTestUser(h.database.db, 'buyer');
    const { client: elsewhere } = await signIn(user);
    expect(await signedIn(elsewhere)).toBe(true);
    const visitor = new TestClient(h.app);
    await visitor.post('/password-reset', { email: user.email });
    const link = await linkIn(user.email, 'password-reset', 'resetPath');
    expect((await visitor.get(link)).statusCode).toBe(200);

    const done = await visitor.post('/password-reset/new', { token: tokenOf(link), password: NEW_PASSWORD });
    expect([done.statusCode, done.location]).toEqual([303, '/login']);
    expect(await signedIn(elsewhere)).toBe(false);
    expect((await signIn(user)).status).toBe(401);
    expect((await signIn(user, NEW_PASSWORD)).status).toBe(303);

    // Single use: the link is dead, and submitting it again changes nothing.
    expect((await visitor.get(link)).statusCode).toBe(400);
    const again = await visitor.post('/password-reset/new', { token: tokenOf(link), password: 'another-orchid-granite-58' });
    expect(again.statusCode).toBe(400);
    expect(again.body).toContain('not valid any more');
    expect((await signIn(user, 'another-orchid-granite-58')).status).toBe(401);
  });

  it('expires after an hour', async () => {
    const user = await createTestUser(h.database.db, 'buyer');
    await new TestClient(h.app).post('/password-reset', { email: user.email });
    const token = tokenOf(await linkIn(user.email, 'password-reset', 'resetPath'));
    const row = await h.database.db.selectFrom('password_reset_tokens').select('created_at').where('id', '=', token.split('.')[0]!).executeTakeFirstOrThrow();
    const at = (minutes: number) => new Date(row.created_at.getTime() + minutes * 60_000);
    await expect(resetPassword(h.database.db, { token, password: NEW_PASSWORD }, at(61))).rejects.toMatchObject({ code: 'account_link_invalid' });
    await resetPassword(h.database.db, { token, password: NEW_PASSWORD }, at(59));
    expect((await signIn(user, NEW_PASSWORD)).status).toBe(303);
  });

  it('a tampered secret, a weak password and a flood of requests get nowhere', async () => {
    const user = await createTestUser(h.database.db, 'buyer');
    const visitor = new TestClient(h.app);
    await visitor.post('/password-reset', { email: user.email });
    const token = tokenOf(await linkIn(user.email, 'password-reset', 'resetPath'));
    const forged = `${token.split('.')[0]}.${'a'.repeat(24)}`;
    expect((await visitor.post('/password-reset/new', { token: forged, password: NEW_PASSWORD })).statusCode).toBe(400);
    const weak = await visitor.post('/password-reset/new', { token, password: 'password1234' });
    expect(weak.statusCode).toBe(400);
    expect(weak.body).toContain('too easy to guess');
    expect((await signIn(user)).status).toBe(303); // unchanged, and the link still works afterwards
    expect((await visitor.post('/password-reset/new', { token, password: NEW_PASSWORD })).statusCode).toBe(303);

    for (let i = 0; i < 5; i++) await visitor.post('/password-reset', { email: user.email });
    expect(await outboxTo(user.email, 'password-reset')).toHaveLength(3);
  });
});

describe('changing the password', () => {
  it('needs the current password and signs out the other sessions, not this one', async () => {
    const user = await createTestUser(h.database.db, 'seller');
    const { client: here } = await signIn(user);
    const { client: there } = await signIn(user);
    const wrong = await here.post('/account/password', { currentPassword: 'not-my-password', newPassword: NEW_PASSWORD });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.body).toContain('That is not your current password.');
    expect(await signedIn(there)).toBe(true);

    const changed = await here.post('/account/password', { currentPassword: TEST_PASSWORD, newPassword: NEW_PASSWORD });
    expect([changed.statusCode, changed.location]).toEqual([303, '/account']);
    expect(await signedIn(here)).toBe(true);
    expect(await signedIn(there)).toBe(false);
    expect((await signIn(user, NEW_PASSWORD)).status).toBe(303);
  });
});

describe('changing the email', () => {
  it('changes nothing until the link sent to the new address is confirmed; then Stripe hears of it', async () => {
    const buyer = await createTestUser(h.database.db, 'buyer');
    const customerId = await ensureBuyerCustomer(h.database.db, h.stripe, buyer.id);
    const { client } = await signIn(buyer);
    const newEmail = `moved-${Date.now()}@example.test`;
    expect((await client.post('/account/email', { email: newEmail, currentPassword: 'wrong-password-here' })).statusCode).toBe(400);
    const asked = await client.post('/account/email', { email: newEmail, currentPassword: TEST_PASSWORD });
    expect(asked.statusCode).toBe(303);
    const stillOld = await h.database.db.selectFrom('users').select('email').where('id', '=', buyer.id).executeTakeFirstOrThrow();
    expect(stillOld.email).toBe(buyer.email);
    expect(await outboxTo(buyer.email, 'email-changed')).toEqual([]); // nothing changed yet, nothing to announce

    const link = await linkIn(newEmail, 'email-change-confirm', 'confirmPath');
    const visitor = new TestClient(h.app); // the link may be opened in any browser
    const page = await visitor.get(link);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(newEmail);
    expect((await visitor.post('/email-change/confirm', { token: tokenOf(link) })).statusCode).toBe(303);
    const moved = await h.database.db.selectFrom('users').select('email').where('id', '=', buyer.id).executeTakeFirstOrThrow();
    expect(moved.email).toBe(newEmail);
    expect(((await h.stripe.customers.retrieve(customerId)) as { email: string | null }).email).toBe(newEmail);
    // Single use.
    expect((await visitor.post('/email-change/confirm', { token: tokenOf(link) })).statusCode).toBe(400);
    // The OLD address is told, once, with the new one only hinted at.
    const notices = await outboxTo(buyer.email, 'email-changed');
    expect(notices).toHaveLength(1);
    expect(notices[0]!.data).toMatchObject({ newEmailHint: `m…@example.test` });
    expect(JSON.stringify(notices[0]!.data)).not.toContain(newEmail);
    expect(await outboxTo(newEmail, 'email-changed')).toEqual([]);
  });

  it('sends no link to an address another account has (without saying so), and refuses one taken before confirming', async () => {
    const a = await createTestUser(h.database.db, 'buyer');
    const b = await createTestUser(h.database.db, 'buyer');
    const { client } = await signIn(a);
    const taken = await client.post('/account/email', { email: b.email, currentPassword: TEST_PASSWORD });
    expect([taken.statusCode, taken.location]).toEqual([303, '/account']); // the same answer as for a free address
    expect(await outboxTo(b.email, 'email-change-confirm')).toEqual([]);
    const free = `free-${Date.now()}@example.test`;
    await client.post('/account/email', { email: free, currentPassword: TEST_PASSWORD });
    const link = await linkIn(free, 'email-change-confirm', 'confirmPath');
    const c = await createTestUser(h.database.db, 'buyer', { email: free }); // someone signs up with it meanwhile
    expect((await client.post('/email-change/confirm', { token: tokenOf(link) })).statusCode).toBe(409);
    expect((await h.database.db.selectFrom('users').select('email').where('id', '=', a.id).executeTakeFirstOrThrow()).email).toBe(a.email);
    expect(await outboxTo(a.email, 'email-changed')).toEqual([]); // refused: no notice
    expect(c.email).toBe(free);
  });
});

describe('deleting a buyer account', () => {
  it('keeps the orders and removes the personal data, here and at Stripe (the Customer is deleted)', async () => {
    const seller = await createSeller(h);
    const buyer = await createTestUser(h.database.db, 'buyer', { displayName: 'Ada Lovelace' });
    const orderId = (await createPaidOrder(h, seller, { amount: 2_500, buyer })).id;
    const customerId = await ensureBuyerCustomer(h.database.db, h.stripe, buyer.id);
    const { client } = await signIn(buyer);
    await new TestClient(h.app, '10.16.0.1').post('/password-reset', { email: buyer.email });
    expect(await outboxTo(buyer.email, 'password-reset')).toHaveLength(1);

    expect((await client.post('/account/delete', { currentPassword: TEST_PASSWORD })).statusCode).toBe(400); // not confirmed
    expect((await client.post('/account/delete', { currentPassword: 'wrong-password', confirm: 'yes' })).statusCode).toBe(400);
    const deleted = await client.post('/account/delete', { currentPassword: TEST_PASSWORD, confirm: 'yes' });
    expect([deleted.statusCode, deleted.location]).toEqual([303, '/']);

    const db = h.database.db;
    const order = await db.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirstOrThrow();
    expect(order.status).toBe('paid');
    expect(order.buyer_id).toBe(buyer.id);
    const row = await db.selectFrom('users').selectAll().where('id', '=', buyer.id).executeTakeFirstOrThrow();
    const everything = JSON.stringify({
      row,
      order,
      outbox: await db.selectFrom('email_outbox').selectAll().execute(),
      sessions: await db.selectFrom('sessions').selectAll().where('user_id', '=', buyer.id).execute(),
      familiar: await db.selectFrom('login_familiar_addresses').selectAll().where('user_id', '=', buyer.id).execute(),
      resets: await db.selectFrom('password_reset_tokens').selectAll().where('user_id', '=', buyer.id).execute(),
    });
    expect(everything).not.toContain(buyer.email);
    expect(everything).not.toContain('Ada Lovelace');
    expect(await db.selectFrom('sessions').select('id').where('user_id', '=', buyer.id).execute()).toEqual([]);
    expect(await signedIn(client)).toBe(false);
    expect((await signIn(buyer)).status).toBe(401);
    expect((await signIn({ email: row.email }, TEST_PASSWORD)).status).toBe(401);
    expect(await h.stripe.customers.retrieve(customerId)).toEqual({ id: customerId, object: 'customer', deleted: true });
    // The seller still sees the sale.
    const { client: sellerClient } = await (async () => {
      const c = new TestClient(h.app);
      await c.post('/login', { email: seller.user.email, password: TEST_PASSWORD });
      return { client: c };
    })();
    expect((await sellerClient.get(`/seller/orders/${orderId}`)).statusCode).toBe(200);
  });

  it('is for buyers only, and not while an order waits for payment', async () => {
    const seller = await createTestUser(h.database.db, 'seller');
    const { client: sellerClient } = await signIn(seller);
    expect((await sellerClient.post('/account/delete', { currentPassword: TEST_PASSWORD, confirm: 'yes' })).statusCode).toBe(409);
    expect(await signedIn(sellerClient)).toBe(true);

    const onboarded = await createSeller(h);
    const buyer = await createTestUser(h.database.db, 'buyer');
    const listing = await h.database.db
      .insertInto('listings')
      .values({ seller_id: onboarded.user.id, title: 'Lamp', price_amount: 1_000, currency: 'usd', stock: null, kind: 'digital' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const { client } = await signIn(buyer);
    const { buyWithPaymentElement } = await import('../../src/orders/use-cases.ts');
    await buyWithPaymentElement(h.database.db, h.stripe, {
      buyerId: buyer.id,
      buyerEmail: buyer.email,
      listingId: listing.id,
      quantity: 1,
      attemptId: crypto.randomUUID(),
    });
    const refused = await client.post('/account/delete', { currentPassword: TEST_PASSWORD, confirm: 'yes' });
    expect(refused.statusCode).toBe(409);
    expect(refused.body).toContain('waiting for payment');
    expect((await h.database.db.selectFrom('users').select('email').where('id', '=', buyer.id).executeTakeFirstOrThrow()).email).toBe(buyer.email);
  });
});
