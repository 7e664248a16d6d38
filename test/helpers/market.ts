// The marketplace's people and things for tests, made with the project's own use cases (Connect
// onboarding, the custom payment flow, syncing from Stripe) against the emulator: sellers whose
// accounts are enabled, listings, pending or paid orders, and "Buy now" pressed. Nothing is mocked.
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { beforeAll, expect } from 'vitest';
import type { Database, DisputeRow, Listing, ListingKind, Order, RefundRow, User } from '../../src/db/schema.ts';
import { buyWithCheckout, buyWithPaymentElement, syncOrderFromStripe } from '../../src/orders/use-cases.ts';
import { requestRefund } from '../../src/refunds/use-cases.ts';
import { ensureConnectedAccount, syncAccountFromStripe } from '../../src/sellers/use-cases.ts';
import { createTestUser, type Response, type TestClient } from './app.ts';
import type { World } from './fixture.ts';

/** What these helpers need of a world: a World, or a test's own app and emulator put together. */
export type Stage = Pick<World, 'db' | 'stripe' | 'emu' | 'signIn' | 'settle'>;

export interface TestSeller {
  user: User;
  accountId: string;
}

/**
 * A seller whose Connect account finished onboarding (charges and payouts enabled), recorded in
 * our database. `manualPayouts` keeps balances put (no automatic payout takes them away).
 */
export async function createSeller(w: Pick<Stage, 'db' | 'stripe' | 'emu'>, options: { manualPayouts?: boolean; userId?: string } = {}): Promise<TestSeller> {
  const user =
    options.userId === undefined
      ? await createTestUser(w.db, 'seller')
      : await w.db.selectFrom('users').selectAll().where('id', '=', options.userId).executeTakeFirstOrThrow();
  const { accountId } = await ensureConnectedAccount(w.db, w.stripe, { sellerId: user.id, country: 'US', email: user.email });
  await w.emu.control('POST', `/_emulator/accounts/${accountId}/onboarding`, { outcome: 'verified' });
  if (options.manualPayouts === true) await w.stripe.accounts.update(accountId, { settings: { payouts: { schedule: { interval: 'manual' } } } });
  await syncAccountFromStripe(w.db, w.stripe, accountId);
  return { user, accountId };
}

/** An enabled seller signed in through the login form. */
export async function enabledSeller(w: Pick<Stage, 'db' | 'stripe' | 'emu' | 'signIn'>): Promise<TestSeller & { sellerId: string; client: TestClient }> {
  const { client, userId } = await w.signIn('seller');
  const seller = await createSeller(w, { userId });
  const row = await w.db.selectFrom('sellers').select(['account_state', 'charges_enabled']).where('id', '=', userId).executeTakeFirstOrThrow();
  expect(row).toEqual({ account_state: 'enabled', charges_enabled: true });
  return { ...seller, sellerId: userId, client };
}

/** A listing of `sellerId`; digital unless `kind` says otherwise (most tests buy things nobody ships). */
export async function addListing(
  db: Kysely<Database>,
  sellerId: string,
  values: { price: number; currency?: string; stock?: number | null; title?: string; kind?: ListingKind },
): Promise<Listing> {
  return db
    .insertInto('listings')
    .values({
      seller_id: sellerId,
      title: values.title ?? `Thing ${randomUUID().slice(0, 6)}`,
      price_amount: values.price,
      currency: values.currency ?? 'usd',
      stock: values.stock === undefined ? null : values.stock,
      kind: values.kind ?? 'digital',
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** A listing's id (unlimited stock unless given). */
export async function createListing(w: Stage, sellerId: string, price: number, options: { currency?: string; stock?: number | null } = {}): Promise<string> {
  return (await addListing(w.db, sellerId, { price, ...options })).id;
}

/** Presses "Buy now" on the listing page (the form's own attempt id unless one is given). */
export async function buy(client: TestClient, listingId: string, quantity = 1, attempt = randomUUID()): Promise<Response> {
  return client.post(`/checkout/${listingId}`, { quantity, attempt });
}

/** The order behind a Checkout session, from the URL "Buy now" sent the buyer to. */
export async function orderIdFromSessionUrl(db: Kysely<Database>, sessionUrl: string): Promise<string> {
  const sessionId = new URL(sessionUrl).pathname.split('/').pop()!;
  const row = await db.selectFrom('orders').select('id').where('stripe_checkout_session_id', '=', sessionId).executeTakeFirstOrThrow();
  return row.id;
}

/** A custom-flow order with its PaymentIntent made and recorded; nobody has paid yet. */
export async function createPendingOrder(w: Stage, seller: TestSeller, amount: number, currency = 'usd', buyer?: User): Promise<Order> {
  const listingId = await createListing(w, seller.user.id, amount, { currency });
  const payer = buyer ?? (await createTestUser(w.db, 'buyer'));
  return buyWithPaymentElement(w.db, w.stripe, { buyerId: payer.id, buyerEmail: payer.email, listingId, quantity: 1, attemptId: randomUUID() });
}

/** A buyer pays a new listing of `seller` through the custom flow; the order is paid, and its events settled. */
export async function createPaidOrder(w: Stage, seller: TestSeller, options: { amount: number; paymentMethod?: string; buyer?: User }): Promise<Order> {
  const order = await createPendingOrder(w, seller, options.amount, 'usd', options.buyer);
  await w.stripe.paymentIntents.confirm(order.stripe_payment_intent_id!, { payment_method: options.paymentMethod ?? 'pm_card_bypassPending' });
  await syncOrderFromStripe(w.db, w.stripe, order, 'completion_page');
  await w.settle();
  return orderRow(w.db, order.id);
}

export async function orderRow(db: Kysely<Database>, orderId: string): Promise<Order> {
  return db.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirstOrThrow();
}

export async function refundRows(db: Kysely<Database>, orderId: string): Promise<RefundRow[]> {
  return db.selectFrom('refunds').selectAll().where('order_id', '=', orderId).orderBy('created_at').execute();
}

export async function disputeRow(db: Kysely<Database>, disputeId: string): Promise<DisputeRow | undefined> {
  return db.selectFrom('disputes').selectAll().where('id', '=', disputeId).executeTakeFirst();
}

export async function transitionsOf(db: Kysely<Database>, orderId: string) {
  return db
    .selectFrom('order_transitions')
    .select(['from_status', 'to_status', 'source', 'stripe_event_id'])
    .where('order_id', '=', orderId)
    .orderBy('id')
    .execute();
}

/** The hidden value of `name` in the first form on a page that has it. */
export function hiddenValue(body: string, name: string): string | undefined {
  return new RegExp(`name="${name}" value="([^"]*)"`).exec(body)?.[1];
}

export function csrfFrom(body: string): string | undefined {
  return hiddenValue(body, '_csrf');
}

/** An admin refunds `amount` ("25.00") of an order through the order page's form, reversing the transfer and the fee; returns the refund's id. */
export async function refundByAdmin(w: World, orderId: string, amount: string): Promise<string> {
  const page = await w.admin.get(`/admin/orders/${orderId}`);
  const refundId = hiddenValue(page.body, 'refund_id')!;
  const form = { refund_id: refundId, amount, reason: 'requested_by_customer', reverse_transfer: 'on', refund_application_fee: 'on', confirm: 'yes' };
  const response = await w.admin.post(`/admin/orders/${orderId}/refunds`, form);
  if (response.statusCode !== 303) throw new Error(`refund of ${orderId} answered ${response.statusCode}`);
  await w.settle();
  return refundId;
}

/** A hosted-Checkout order for a new listing of `seller`, placed by a new buyer through the use case (session made and recorded); nobody has paid yet. */
export async function createHostedOrder(w: World, seller: TestSeller, amount: number): Promise<Order> {
  const listingId = await createListing(w, seller.user.id, amount);
  const buyer = await createTestUser(w.db, 'buyer');
  const input = { buyerId: buyer.id, buyerEmail: buyer.email, listingId, quantity: 1, attemptId: randomUUID(), publicUrl: w.app.config.publicUrl };
  return (await buyWithCheckout(w.db, w.stripe, input)).order;
}

/** The signed-in admin refunds `amount` ("40.00") of an order through the use case, reversing the transfer and (unless told not to) the fee. */
export async function requestRefundAsAdmin(w: World, orderId: string, amount: string, options: { refundApplicationFee?: boolean } = {}): Promise<RefundRow> {
  return requestRefund(w.db, w.stripe, w.actor, {
    refundId: randomUUID(),
    orderId,
    amount,
    reason: null,
    reverseTransfer: true,
    refundApplicationFee: options.refundApplicationFee ?? true,
  });
}

/** The amount (minor units) of the line `key` in an order page's money breakdown (`data-line`), if the page shows it. */
export function lineAmount(body: string, key: string): number | undefined {
  const match = new RegExp(`data-line="${key}">[\\s\\S]*?data-amount="(-?\\d+)"`).exec(body);
  return match === null ? undefined : Number(match[1]);
}

/** A seller (`createSeller`) for a test file or `describe` block: filled in before its tests, on the world started before it. */
export function useSeller(w: Pick<Stage, 'db' | 'stripe' | 'emu'>, options: { manualPayouts?: boolean } = {}): TestSeller {
  const seller = {} as TestSeller;
  beforeAll(async () => {
    Object.assign(seller, await createSeller(w, options));
  });
  return seller;
}

export type EnabledSeller = Awaited<ReturnType<typeof enabledSeller>>;

/** An enabled seller signed in (`enabledSeller`) for a test file or `describe` block, filled in likewise. */
export function useEnabledSeller(w: Pick<Stage, 'db' | 'stripe' | 'emu' | 'signIn'>): EnabledSeller {
  const seller = {} as EnabledSeller;
  beforeAll(async () => {
    Object.assign(seller, await enabledSeller(w));
  });
  return seller;
}

/**
 * A new buyer presses "Buy now" on a new listing of `sellerId` and is sent to Stripe's hosted
 * Checkout page: the listing, the signed-in buyer, the session's URL and our order's id.
 */
export async function startCheckout(
  w: Pick<Stage, 'db' | 'signIn'>,
  sellerId: string,
  listing: { price: number; stock: number | null; currency?: string },
  quantity = 1,
) {
  const created = await addListing(w.db, sellerId, listing);
  const buyer = await w.signIn('buyer');
  const response = await buy(buyer.client, created.id, quantity);
  expect(response.statusCode).toBe(303);
  expect(response.location).toMatch(/\/hosted\/checkout\/cs_test_/);
  const sessionUrl = response.location!;
  return { listing: created, buyer, sessionUrl, orderId: await orderIdFromSessionUrl(w.db, sessionUrl) };
}

/** What our order pages say of an order's outcome (`data-testid="outcome"`). */
export function outcomeOf(body: string): string | undefined {
  return /data-testid="outcome">([^<]+)</.exec(body)?.[1];
}

/** A listing's stock now (null: unlimited). */
export async function stockOf(db: Kysely<Database>, listingId: string): Promise<number | null> {
  return (await db.selectFrom('listings').select('stock').where('id', '=', listingId).executeTakeFirstOrThrow()).stock;
}

/** A seller our database records as enabled, with no Connect account (for catalogue tests, where nobody pays); their id. */
export async function recordEnabledSeller(db: Kysely<Database>, displayName?: string): Promise<string> {
  const seller = await createTestUser(db, 'seller', displayName === undefined ? {} : { displayName });
  await db
    .insertInto('sellers')
    .values({ id: seller.id, account_state: 'enabled', charges_enabled: true, payouts_enabled: true, details_submitted: true })
    .execute();
  return seller.id;
}
