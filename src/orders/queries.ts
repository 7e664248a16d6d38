// Every SQL statement about orders (and the stock and fee policies an order takes). A function that
// locks rows takes a `Transaction`: the caller owns the transaction, and the type says so.
import { enqueueOrderPaidEmails } from '../email/messages.ts';
import { sql, type Insertable, type Kysely, type Transaction } from 'kysely';
import type { Database, Order, OrdersTable, OrderStatus, ShipTo } from '../db/schema.ts';
import { afterCursor, pageOf, PAGE_SIZE, type Cursor } from '../db/paging.ts';
import { DEFAULT_POLICY, type FeeTerms } from './fees.ts';
import { canTransition, CUSTOM_FLOW_HOLD_MS, releasesStock, type TransitionInput } from './rules.ts';

// ---- Placing an order ----

/**
 * The listing, locked against concurrent buyers, with whether an admin took it down. Whether its
 * seller can sell is read under the seller's lock (sellers/queries.ts `lockSellerForSale`).
 */
export async function lockListingForSale(trx: Transaction<Database>, listingId: string) {
  return trx
    .selectFrom('listings')
    .select(['id', 'seller_id', 'title', 'price_amount', 'currency', 'stock', 'active', 'billing_interval', 'kind'])
    .select((eb) =>
      eb.exists(eb.selectFrom('listing_takedowns').select('listing_id').whereRef('listing_takedowns.listing_id', '=', 'listings.id')).as('taken_down'),
    )
    .where('id', '=', listingId)
    .forUpdate()
    .executeTakeFirst();
}

/** Locks the buyer's row: one buyer's orders are placed one after another, so the pending count holds. */
export async function lockBuyer(trx: Transaction<Database>, buyerId: string): Promise<void> {
  await trx.selectFrom('users').select('id').where('id', '=', buyerId).forUpdate().executeTakeFirst();
}

export async function countPendingOrders(trx: Transaction<Database>, buyerId: string): Promise<number> {
  const row = await trx
    .selectFrom('orders')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('buyer_id', '=', buyerId)
    .where('status', '=', 'pending')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function takeStock(trx: Transaction<Database>, listingId: string, quantity: number): Promise<void> {
  await trx
    .updateTable('listings')
    .set((eb) => ({ stock: eb('stock', '-', quantity), updated_at: new Date() }))
    .where('id', '=', listingId)
    .execute();
}

/** The policy that prices a new order of `sellerId` in `currency` (see ./fees.ts for the order of precedence). */
export async function feeTermsFor(db: Kysely<Database>, sellerId: string, currency: string): Promise<FeeTerms> {
  const rows = await db
    .selectFrom('fee_policies')
    .selectAll()
    .where((eb) => eb.or([eb('seller_id', '=', sellerId), eb('seller_id', 'is', null)]))
    .where((eb) => eb.or([eb('currency', '=', currency), eb('currency', 'is', null)]))
    .execute();
  const rank = (row: (typeof rows)[number]): number => (row.seller_id !== null ? 0 : 2) + (row.currency !== null ? 0 : 1);
  const best = rows.sort((a, b) => rank(a) - rank(b))[0];
  if (best === undefined) return DEFAULT_POLICY;
  return { basisPoints: best.basis_points, fixedAmount: best.fixed_amount, onBehalfOf: best.on_behalf_of, policyId: best.id };
}

export async function insertOrder(trx: Transaction<Database>, values: Insertable<OrdersTable>): Promise<Order> {
  return trx.insertInto('orders').values(values).returningAll().executeTakeFirstOrThrow();
}

export async function findOrderByAttempt(db: Kysely<Database>, attemptId: string): Promise<Order | undefined> {
  return db.selectFrom('orders').selectAll().where('checkout_attempt_id', '=', attemptId).executeTakeFirst();
}

// ---- Reading orders ----

export async function findOrder(db: Kysely<Database>, orderId: string): Promise<Order | undefined> {
  return db.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirst();
}

/** The buyer's own order; someone else's is the same as none. */
export async function findBuyerOrder(db: Kysely<Database>, buyerId: string, orderId: string): Promise<Order | undefined> {
  return db.selectFrom('orders').selectAll().where('id', '=', orderId).where('buyer_id', '=', buyerId).executeTakeFirst();
}

export async function listBuyerOrders(db: Kysely<Database>, buyerId: string, limit = 100): Promise<Order[]> {
  return db.selectFrom('orders').selectAll().where('buyer_id', '=', buyerId).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
}

export async function listSellerOrders(db: Kysely<Database>, sellerId: string, limit = 100): Promise<Order[]> {
  return db.selectFrom('orders').selectAll().where('seller_id', '=', sellerId).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
}

/** The order a Stripe charge or PaymentIntent paid for, if it is one of ours. */
export async function findOrderByPayment(
  db: Kysely<Database>,
  payment: { chargeId?: string | null; paymentIntentId?: string | null },
): Promise<Order | undefined> {
  const { chargeId, paymentIntentId } = payment;
  if ((chargeId ?? null) === null && (paymentIntentId ?? null) === null) return undefined;
  return db
    .selectFrom('orders')
    .selectAll()
    .where((eb) =>
      eb.or([...(chargeId ? [eb('stripe_charge_id', '=', chargeId)] : []), ...(paymentIntentId ? [eb('stripe_payment_intent_id', '=', paymentIntentId)] : [])]),
    )
    .executeTakeFirst();
}

export interface OrderFilter {
  status?: OrderStatus | undefined;
  sellerId?: string | undefined;
  /** Created on or after this day (UTC)… */
  fromDay?: string | undefined;
  /** …and on or before this one. */
  toDay?: string | undefined;
  /** An order id, a buyer's email, a seller's name or email, or a Stripe id of the payment (see orderSearch). */
  q?: string | undefined;
  before?: Cursor | undefined;
}

/** The admin's order list: filters and keyset pages, newest first, with each seller's name. */
export async function listOrders(db: Kysely<Database>, filter: OrderFilter) {
  let query = db
    .selectFrom('orders')
    .innerJoin('users as s', 's.id', 'orders.seller_id')
    .select([
      'orders.id',
      'orders.created_at',
      'orders.title',
      'orders.amount',
      'orders.currency',
      'orders.application_fee_amount',
      'orders.amount_refunded',
      'orders.status',
      'orders.disputed',
      'orders.dispute_status',
      'orders.seller_id',
      's.display_name as seller_name',
    ])
    .orderBy('orders.created_at', 'desc')
    .orderBy('orders.id', 'desc')
    .limit(PAGE_SIZE + 1);
  if (filter.status !== undefined) query = query.where('orders.status', '=', filter.status);
  if (filter.sellerId !== undefined) query = query.where('orders.seller_id', '=', filter.sellerId);
  if (filter.fromDay !== undefined) query = query.where('orders.created_at', '>=', startOfDay(filter.fromDay));
  if (filter.toDay !== undefined) query = query.where('orders.created_at', '<', new Date(startOfDay(filter.toDay).getTime() + 86_400_000));
  if (filter.q !== undefined && filter.q.trim() !== '') query = query.where(orderSearch(filter.q.trim()));
  if (filter.before !== undefined) query = query.where(afterCursor(filter.before, 'orders', 'created_at'));
  const rows = await query.execute();
  return pageOf(rows, PAGE_SIZE, (row) => ({ at: row.created_at, id: row.id }));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const STRIPE_ID = /^(pi|ch|py|cs|tr|fee|re|du|acct)_[A-Za-z0-9_]+$/;

/**
 * The admin's search box, by what the text looks like: an order id (or a buyer or seller id), a
 * Stripe id (payment intent, charge, session, transfer, fee, refund, dispute, connected account),
 * an email (the buyer's on the order, or the seller's), or else part of the seller's name.
 */
function orderSearch(q: string) {
  return sql<boolean>`${
    UUID.test(q)
      ? sql`(orders.id = ${q}::uuid or orders.buyer_id = ${q}::uuid or orders.seller_id = ${q}::uuid)`
      : STRIPE_ID.test(q)
        ? sql`(${q} in (orders.stripe_payment_intent_id, orders.stripe_charge_id, orders.stripe_checkout_session_id, orders.stripe_transfer_id, orders.stripe_application_fee_id, orders.destination_account)
          or exists (select 1 from refunds r where r.order_id = orders.id and r.stripe_refund_id = ${q})
          or exists (select 1 from disputes d where d.order_id = orders.id and d.id = ${q}))`
        : q.includes('@')
          ? sql`(lower(orders.buyer_email) = lower(${q}) or lower(s.email) = lower(${q}))`
          : sql`(s.display_name ilike ${`%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`})`
  }`;
}

function startOfDay(day: string): Date {
  return new Date(`${day}T00:00:00.000Z`);
}

// ---- Moving an order ----

export async function lockOrder(trx: Transaction<Database>, orderId: string): Promise<Order | undefined> {
  return trx.selectFrom('orders').selectAll().where('id', '=', orderId).forUpdate().executeTakeFirst();
}

export interface TransitionResult {
  applied: boolean;
  order: Order;
}

/**
 * The one way an order's status changes: under the order's row lock, only if the state machine
 * allows it; stock is released (or taken again for a late payment) and the transition recorded.
 */
export async function transitionOrder(trx: Transaction<Database>, orderId: string, input: TransitionInput): Promise<TransitionResult> {
  const order = await lockOrder(trx, orderId);
  if (order === undefined) throw new Error(`no order ${orderId}`);
  if (!canTransition(order.status, input.to, input.correction)) return { applied: false, order };

  let stockReserved = order.stock_reserved;
  let reason = input.reason ?? null;
  if (releasesStock(input.to) && order.stock_reserved) {
    await trx
      .updateTable('listings')
      .set((eb) => ({ stock: eb('stock', '+', order.quantity), updated_at: new Date() }))
      .where('id', '=', order.listing_id)
      .where('stock', 'is not', null)
      .execute();
    stockReserved = false;
  }
  if (input.to === 'paid' && order.status === 'payment_failed') {
    // The stock went back when the payment failed; take it again if it is still there. If it is
    // not, the order is paid anyway (the buyer's money moved) and the shortfall is on record.
    const taken = await trx
      .updateTable('listings')
      .set((eb) => ({ stock: eb('stock', '-', order.quantity), updated_at: new Date() }))
      .where('id', '=', order.listing_id)
      .where('stock', '>=', order.quantity)
      .returning('stock')
      .executeTakeFirst();
    const unlimited = await trx.selectFrom('listings').select('stock').where('id', '=', order.listing_id).executeTakeFirstOrThrow();
    stockReserved = taken !== undefined;
    if (taken === undefined && unlimited.stock !== null) reason = `${reason ?? 'late payment'}; stock was no longer available (oversold by ${order.quantity})`;
  }

  const updated = await trx
    .updateTable('orders')
    .set({
      status: input.to,
      stock_reserved: stockReserved,
      updated_at: new Date(),
      ...(input.to === 'paid' ? { failure_code: null, failure_message: null, paid_at: input.patch?.paid_at ?? new Date() } : {}),
      ...(input.patch?.failure_code !== undefined ? { failure_code: input.patch.failure_code } : {}),
      ...(input.patch?.failure_message !== undefined ? { failure_message: input.patch.failure_message } : {}),
    })
    .where('id', '=', orderId)
    .returningAll()
    .executeTakeFirstOrThrow();
  await trx
    .insertInto('order_transitions')
    .values({
      order_id: orderId,
      from_status: order.status,
      to_status: input.to,
      source: input.source,
      stripe_event_id: input.stripeEventId ?? null,
      reason,
    })
    .execute();
  // The receipt and the seller's "new sale" commit with the payment (not on a refund correction back to paid).
  if (input.to === 'paid' && (order.status === 'pending' || order.status === 'payment_failed')) await enqueueOrderPaidEmails(trx, updated);
  return { applied: true, order: updated };
}

// ---- Stripe's ids and money facts on an order (each only fills a blank, so any order of arrival converges) ----

/** Records the order's Checkout Session unless one is already recorded; returns the order as it is now. */
export async function recordCheckoutSession(
  db: Kysely<Database>,
  orderId: string,
  session: { id: string; url: string | null; expiresAt: Date },
): Promise<Order> {
  await db
    .updateTable('orders')
    .set({ stripe_checkout_session_id: session.id, stripe_checkout_url: session.url, checkout_expires_at: session.expiresAt, updated_at: new Date() })
    .where('id', '=', orderId)
    .where('stripe_checkout_session_id', 'is', null)
    .execute();
  return db.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirstOrThrow();
}

/** Records the order's PaymentIntent unless one is already recorded; returns the order as it is now. */
export async function recordPaymentIntent(db: Kysely<Database>, orderId: string, intentId: string): Promise<Order> {
  await db
    .updateTable('orders')
    .set({ stripe_payment_intent_id: intentId, updated_at: new Date() })
    .where('id', '=', orderId)
    .where('stripe_payment_intent_id', 'is', null)
    .execute();
  return db.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirstOrThrow();
}

/**
 * The custom flow is about to send `paymentIntents.create` for a physical order: from now on its
 * address is fixed (see giveShippingAddress). The order as the request is to be made from, or
 * undefined when it is no longer waiting for payment. One statement: it waits for the form's lock.
 */
export async function markPaymentIntentRequested(db: Kysely<Database>, orderId: string): Promise<Order | undefined> {
  return db
    .updateTable('orders')
    .set({ payment_intent_requested_at: sql<Date>`coalesce(payment_intent_requested_at, now())`, updated_at: new Date() })
    .where('id', '=', orderId)
    .where('status', '=', 'pending')
    .returningAll()
    .executeTakeFirst();
}

/** The custom flow's form: the address, replaced while no PaymentIntent has been asked for (the caller holds the order's lock). */
export async function replaceShipTo(trx: Transaction<Database>, orderId: string, shipTo: ShipTo): Promise<Order | undefined> {
  return trx
    .updateTable('orders')
    .set({ ship_to: JSON.stringify(shipTo), updated_at: new Date() })
    .where('id', '=', orderId)
    .where('kind', '=', 'physical')
    .where('stripe_payment_intent_id', 'is', null)
    .where('payment_intent_requested_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
}

/** Where Stripe collected the address (hosted Checkout): recorded unless one is already (Stripe's copy and ours agree; the first wins). */
export async function recordShipTo(db: Kysely<Database>, orderId: string, shipTo: ShipTo): Promise<Order> {
  await db
    .updateTable('orders')
    .set({ ship_to: JSON.stringify(shipTo), updated_at: new Date() })
    .where('id', '=', orderId)
    .where('kind', '=', 'physical')
    .where('ship_to', 'is', null)
    .execute();
  return db.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirstOrThrow();
}

/** A declined attempt on an order still waiting for payment (hosted Checkout lets the buyer try another card). */
export async function recordAttemptFailure(
  trx: Transaction<Database>,
  orderId: string,
  failure: Partial<Pick<Order, 'failure_code' | 'failure_message'>>,
): Promise<Order> {
  await trx
    .updateTable('orders')
    .set({ failure_code: failure.failure_code ?? null, failure_message: failure.failure_message ?? null, updated_at: new Date() })
    .where('id', '=', orderId)
    .where('status', '=', 'pending')
    .execute();
  return trx.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirstOrThrow();
}

export interface ChargeFacts {
  chargeId: string;
  transferId: string | null;
  applicationFeeId: string | null;
  stripeFee: number | null;
  sellerNet: number | null;
}

export async function recordChargeFacts(db: Kysely<Database>, orderId: string, facts: ChargeFacts): Promise<void> {
  await db
    .updateTable('orders')
    .set({
      stripe_charge_id: facts.chargeId,
      stripe_transfer_id: facts.transferId,
      stripe_application_fee_id: facts.applicationFeeId,
      stripe_fee_amount: facts.stripeFee,
      seller_net_amount: facts.sellerNet,
      updated_at: new Date(),
    })
    .where('id', '=', orderId)
    .execute();
}

/** The application fee a destination charge created, if the charge's own read missed it. */
export async function recordApplicationFee(db: Kysely<Database>, chargeId: string, applicationFeeId: string): Promise<void> {
  await db
    .updateTable('orders')
    .set({ stripe_application_fee_id: applicationFeeId, updated_at: new Date() })
    .where('stripe_charge_id', '=', chargeId)
    .where('stripe_application_fee_id', 'is', null)
    .execute();
}

/** The transfer to the seller a destination charge created, if the charge's own read missed it. */
export async function recordTransfer(db: Kysely<Database>, chargeId: string, transferId: string, destination: string): Promise<void> {
  await db
    .updateTable('orders')
    .set({ stripe_transfer_id: transferId, updated_at: new Date() })
    .where('stripe_charge_id', '=', chargeId)
    .where('stripe_transfer_id', 'is', null)
    .where('destination_account', '=', destination)
    .execute();
}

export async function recordDisputeStatus(db: Kysely<Database>, orderId: string, status: string): Promise<void> {
  await db.updateTable('orders').set({ disputed: true, dispute_status: status, updated_at: new Date() }).where('id', '=', orderId).execute();
}

export async function recordAmountRefunded(trx: Transaction<Database>, orderId: string, refunded: number): Promise<void> {
  await trx.updateTable('orders').set({ amount_refunded: refunded, updated_at: new Date() }).where('id', '=', orderId).execute();
}

/** An order's money totals that only grow (fee refunded, transfer reversed, charge refunded), kept with GREATEST. */
export async function recordOrderMoney(
  db: Kysely<Database>,
  orderId: string,
  facts: { feeRefunded?: number; transferReversed?: number; chargeRefunded?: number },
): Promise<void> {
  await db
    .insertInto('order_money')
    .values({
      order_id: orderId,
      fee_refunded: facts.feeRefunded ?? 0,
      transfer_reversed: facts.transferReversed ?? 0,
      charge_refunded: facts.chargeRefunded ?? 0,
    })
    .onConflict((oc) =>
      oc.column('order_id').doUpdateSet({
        fee_refunded: sql`greatest(order_money.fee_refunded, excluded.fee_refunded)`,
        transfer_reversed: sql`greatest(order_money.transfer_reversed, excluded.transfer_reversed)`,
        charge_refunded: sql`greatest(order_money.charge_refunded, excluded.charge_refunded)`,
        updated_at: new Date(),
      }),
    )
    .execute();
}

export async function findOrderMoney(db: Kysely<Database>, orderId: string) {
  return db.selectFrom('order_money').selectAll().where('order_id', '=', orderId).executeTakeFirst();
}

/** The order a Stripe application fee or transfer belongs to. */
export async function findOrderByFeeOrTransfer(
  db: Kysely<Database>,
  ids: { applicationFeeId?: string; chargeId?: string; transferId?: string },
): Promise<Pick<Order, 'id'> | undefined> {
  return db
    .selectFrom('orders')
    .select('id')
    .where((eb) =>
      eb.or([
        ...(ids.applicationFeeId !== undefined ? [eb('stripe_application_fee_id', '=', ids.applicationFeeId)] : []),
        ...(ids.chargeId !== undefined ? [eb('stripe_charge_id', '=', ids.chargeId)] : []),
        ...(ids.transferId !== undefined ? [eb('stripe_transfer_id', '=', ids.transferId)] : []),
        eb.val(false),
      ]),
    )
    .executeTakeFirst();
}

// ---- Reconciliation ----

/**
 * Pending orders whose payment window is over: a session past its expiry, a draft that never got a
 * Stripe object in two hours, a custom-flow or one-click intent left unpaid for its hold (30 minutes).
 */
export async function ordersDueForReconciliation(db: Kysely<Database>, now: Date): Promise<Order[]> {
  const draftCutoff = new Date(now.getTime() - 2 * 60 * 60 * 1000);
  const customMaxAge = new Date(now.getTime() - CUSTOM_FLOW_HOLD_MS);
  return db
    .selectFrom('orders')
    .selectAll()
    .where('status', '=', 'pending')
    .where((eb) =>
      eb.or([
        eb('checkout_expires_at', '<', now),
        eb.and([eb('stripe_checkout_session_id', 'is', null), eb('stripe_payment_intent_id', 'is', null), eb('created_at', '<', draftCutoff)]),
        // One-click intents left at the bank's challenge hold their stock the same way.
        eb.and([eb('flow', 'in', ['custom', 'saved_card']), eb('created_at', '<', customMaxAge)]),
      ]),
    )
    .orderBy('created_at')
    .limit(500)
    .execute();
}
