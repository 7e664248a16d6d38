// What buyers do with orders, and what the system does for them. Each exported function is one
// action and owns its transactions; Stripe is only ever called with none open:
//   (a) a short transaction records the intent and its idempotency key — here the order itself,
//       whose id gives the key `order:<id>:checkout` — and takes the locks it needs (the listing's
//       stock);
//   (b) it commits;
//   (c) Stripe is called with that key;
//   (d) a second short write records the answer, and only fills a blank, so an event that got
//       there first (see ./sync.ts: it adopts the object by the order id it carries) makes it a
//       no-op, and the reverse.
// A double submit reaches the same order, sends the same key and gets Stripe's same object.
import type { Kysely } from 'kysely';
import type Stripe from 'stripe';
import type { Database, Order, OrderFlow, ShipTo } from '../db/schema.ts';
import { DomainError, found } from '../errors.ts';
import { MAXIMUM_AMOUNT } from '../money.ts';
import { DEFAULT_SHIPPING_COUNTRIES } from '../countries.ts';
import { findBuyerCustomer } from '../customers/queries.ts';
import { ensureBuyerCustomer } from '../customers/use-cases.ts';
import { classifyStripeError } from '../stripe/errors.ts';
import { lockSellerForSale } from '../sellers/queries.ts';
import { sendKeyed } from '../stripe/keyed.ts';
import { applicationFeeFor } from './fees.ts';
import { applyPayment, findUnrecordedPayment, readOrderPayment, type PaymentFacts } from './sync.ts';
import {
  countPendingOrders,
  feeTermsFor,
  findBuyerOrder,
  findOrder,
  findOrderByAttempt,
  insertOrder,
  lockBuyer,
  lockListingForSale,
  lockOrder,
  markPaymentIntentRequested,
  ordersDueForReconciliation,
  recordCheckoutSession,
  recordPaymentIntent,
  replaceShipTo,
  takeStock,
  transitionOrder,
} from './queries.ts';
import { canChangeShippingAddress, needsShippingAddress, sameShipTo } from './shipping.ts';
import {
  checkoutIdempotencyKey,
  checkoutSessionParams,
  checkoutTooLate,
  paymentIntentParams,
  PENDING_ORDERS_PER_BUYER,
  type TransitionSource,
} from './rules.ts';

export interface PlaceOrderInput {
  buyerId: string;
  buyerEmail: string;
  listingId: string;
  quantity: number;
  /** The buy form's nonce: a second submit of the same form is the same order. */
  attemptId: string;
  flow: OrderFlow;
  /** One-click (`saved_card`): the buyer's saved card, fixed on the order so every retry sends the same request. */
  paymentMethodId?: string;
  /** The custom flow's "save this card for next time". */
  savePaymentMethod?: boolean;
  /** Hosted Checkout: the buyer's Customer the session pays as, fixed on the order so every retry sends the same request. */
  customerId?: string;
}

/**
 * Creates the order in ONE transaction: lock the buyer (their pending orders are counted one
 * placement at a time, so parallel buys cannot pass the cap together), lock the listing row, check that it is for sale and that
 * its seller can take charges now, reserve stock (never below zero; unlimited skips it), price it
 * (amount, application fee from the fee policy) and insert it. The same form twice (the same
 * attempt id) gets the first order back: the unique attempt id serialises the two inserts, and the
 * loser reads the winner.
 */
export async function placeOrder(db: Kysely<Database>, input: PlaceOrderInput): Promise<Order> {
  const existing = await findOrderByAttempt(db, input.attemptId);
  if (existing !== undefined) return sameAttempt(existing, input);
  try {
    return await db.transaction().execute(async (trx) => {
      await lockBuyer(trx, input.buyerId);
      if ((await countPendingOrders(trx, input.buyerId)) >= PENDING_ORDERS_PER_BUYER)
        throw new DomainError('too_many_pending_orders', { limit: PENDING_ORDERS_PER_BUYER });
      const listing = await lockListingForSale(trx, input.listingId);
      if (listing === undefined || !listing.active || listing.taken_down || listing.billing_interval !== 'one_off')
        throw new DomainError('listing_not_for_sale');
      // Moderation: a suspended seller's listings are not for sale (as the catalogue hides them).
      const seller = await lockSellerForSale(trx, listing.seller_id);
      if (seller?.suspended === true) throw new DomainError('listing_not_for_sale');
      if (seller === undefined || seller.stripe_account_id === null || !seller.can_sell) throw new DomainError('seller_cannot_take_payments');
      if (listing.kind === 'physical' && input.flow === 'saved_card') throw new DomainError('one_click_needs_address');
      const amount = listing.price_amount * input.quantity;
      if (amount > MAXIMUM_AMOUNT) throw new DomainError('order_too_large', { maximum: MAXIMUM_AMOUNT, currency: listing.currency });
      if (listing.stock !== null) {
        if (listing.stock < input.quantity) throw new DomainError('sold_out', { left: listing.stock, asked: input.quantity });
        await takeStock(trx, listing.id, input.quantity);
      }
      const terms = await feeTermsFor(trx, listing.seller_id, listing.currency);
      return insertOrder(trx, {
        buyer_id: input.buyerId,
        seller_id: listing.seller_id,
        listing_id: listing.id,
        checkout_attempt_id: input.attemptId,
        flow: input.flow,
        title: listing.title,
        quantity: input.quantity,
        unit_amount: listing.price_amount,
        amount,
        currency: listing.currency,
        application_fee_amount: applicationFeeFor(amount, terms),
        fee_policy_id: terms.policyId,
        fee_basis_points: terms.basisPoints,
        fee_fixed_amount: terms.fixedAmount,
        on_behalf_of: terms.onBehalfOf,
        destination_account: seller.stripe_account_id,
        buyer_email: input.buyerEmail,
        stock_reserved: listing.stock !== null,
        payment_method_id: input.paymentMethodId ?? null,
        save_payment_method: input.savePaymentMethod ?? false,
        stripe_customer_id: input.customerId ?? null,
        kind: listing.kind,
        // Physical goods are fulfilled once paid; digital ones never are.
        fulfilment_status: listing.kind === 'physical' ? 'awaiting_shipment' : null,
      });
    });
  } catch (error) {
    // A concurrent submit of the same form won the insert; ours rolled back (stock included).
    if (isUniqueViolation(error)) {
      const winner = await findOrderByAttempt(db, input.attemptId);
      if (winner !== undefined) return sameAttempt(winner, input);
    }
    throw error;
  }
}

function sameAttempt(order: Order, input: PlaceOrderInput): Order {
  if (
    order.buyer_id !== input.buyerId ||
    order.listing_id !== input.listingId ||
    order.flow !== input.flow ||
    order.payment_method_id !== (input.paymentMethodId ?? null)
  ) {
    throw new DomainError('checkout_form_reused');
  }
  return order;
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
}

/**
 * "Buy now" with hosted Checkout: the order (a), then its Checkout Session (c, d).
 * A crash between Stripe's answer and our write is repaired by the same form again (same order,
 * same key, same session), by the session's own events (they carry the order id and adopt the
 * session), or by the reconciler, which finds the session at Stripe.
 */
export async function buyWithCheckout(
  db: Kysely<Database>,
  stripe: Stripe,
  input: Omit<PlaceOrderInput, 'flow'> & { publicUrl: string; shippingCountries?: readonly string[] },
): Promise<{ order: Order; redirectUrl: string }> {
  const order = await placeOrder(db, { ...input, flow: 'hosted', customerId: await checkoutCustomer(db, stripe, input) });
  if (order.status !== 'pending') throw new DomainError('order_not_awaiting_payment');
  if (order.stripe_checkout_url !== null) return { order, redirectUrl: order.stripe_checkout_url };
  if (checkoutTooLate(order)) {
    await cancelOrder(db, order.id, 'Checkout was not started in time.');
    throw new DomainError('checkout_started_too_late');
  }
  let session: Stripe.Checkout.Session;
  try {
    // Built from the order row alone (its Customer included): a retry sends the same request.
    session = await sendKeyed(() =>
      stripe.checkout.sessions.create(checkoutSessionParams(order, input.publicUrl, input.shippingCountries ?? DEFAULT_SHIPPING_COUNTRIES), {
        idempotencyKey: checkoutIdempotencyKey(order.id),
      }),
    );
  } catch (error) {
    return refusedToStart(db, order, error);
  }
  if (session.url === null) throw new Error(`Checkout Session ${session.id} has no url`);
  const saved = await recordCheckoutSession(db, order.id, { id: session.id, url: session.url, expiresAt: new Date(session.expires_at * 1000) });
  return { order: saved, redirectUrl: saved.stripe_checkout_url ?? session.url };
}

/**
 * The Customer a hosted order pays as, decided BEFORE the order is recorded (and then read from
 * the order only): the buyer's existing one, so Checkout offers their saved cards and "save my
 * card"; or, for a buyer without one who ticked "Save my card for next time", one made now (that
 * is when it is first needed). A buyer with neither pays by email alone, as before. A resubmitted
 * form reaches its order, whose recorded choice wins over this one.
 */
async function checkoutCustomer(
  db: Kysely<Database>,
  stripe: Stripe,
  input: Pick<PlaceOrderInput, 'buyerId' | 'savePaymentMethod'>,
): Promise<string | undefined> {
  if (input.savePaymentMethod === true) return ensureBuyerCustomer(db, stripe, input.buyerId);
  return (await findBuyerCustomer(db, input.buyerId))?.stripe_customer_id ?? undefined;
}

/**
 * "Buy now" with the Payment Element: the order (a), then its PaymentIntent (c, d). A crash in
 * between is repaired like buyWithCheckout's: the same form (same key, same intent), the intent's
 * events (they adopt it), or the reconciler.
 */
export async function buyWithPaymentElement(db: Kysely<Database>, stripe: Stripe, input: Omit<PlaceOrderInput, 'flow'>): Promise<Order> {
  const order = await placeOrder(db, { ...input, flow: 'custom' });
  // Physical goods: the intent is made once the buyer has said where to ship (giveShippingAddress).
  if (needsShippingAddress(order)) return order;
  return (await startPaymentIntent(db, stripe, order)).order;
}

/**
 * The custom flow's address form. The buyer may give the address, and correct it, until the
 * PaymentIntent is asked for (startPaymentIntent marks the order under the same row lock first):
 * the intent is then made with the address as its `shipping`, so Stripe's copy and the seller's
 * are one. After that the same address again is accepted (a double submit) and another is refused
 * (`shipping_address_fixed`), never silently dropped.
 */
export async function giveShippingAddress(
  db: Kysely<Database>,
  buyerId: string,
  orderId: string,
  shipTo: ShipTo,
  allowedCountries: readonly string[],
): Promise<Order> {
  return db.transaction().execute(async (trx) => {
    const order = await lockOrder(trx, orderId);
    if (order === undefined || order.buyer_id !== buyerId || order.flow !== 'custom' || order.kind !== 'physical') throw new DomainError('not_found');
    if (order.status !== 'pending') throw new DomainError('order_not_awaiting_payment');
    if (!allowedCountries.includes(shipTo.country)) throw new DomainError('shipping_country_not_served', { country: shipTo.country });
    if (!canChangeShippingAddress(order)) {
      if (sameShipTo(order.ship_to, shipTo)) return order;
      throw new DomainError('shipping_address_fixed');
    }
    return found(await replaceShipTo(trx, order.id, shipTo));
  });
}

/**
 * The custom flow's pay page: the order's PaymentIntent and its client secret (made now if the
 * buy step's answer was lost). `redirect` when the order is no longer a custom-flow order waiting
 * for payment: the completion page tells its state.
 */
export async function openPaymentPage(
  db: Kysely<Database>,
  stripe: Stripe,
  buyerId: string,
  orderId: string,
): Promise<{ order: Order; clientSecret: string } | { redirect: string }> {
  const order = found(await findBuyerOrder(db, buyerId, orderId));
  if (order.flow !== 'custom' || order.status !== 'pending') return { redirect: `/orders/${order.id}/complete` };
  if (needsShippingAddress(order)) return { redirect: `/orders/${order.id}/shipping` };
  return startPaymentIntent(db, stripe, order);
}

async function startPaymentIntent(db: Kysely<Database>, stripe: Stripe, given: Order): Promise<{ order: Order; clientSecret: string }> {
  let order = given;
  if (order.status !== 'pending') throw new DomainError('order_not_awaiting_payment');
  if (order.stripe_payment_intent_id !== null) {
    const existing = await stripe.paymentIntents.retrieve(order.stripe_payment_intent_id);
    return { order, clientSecret: existing.client_secret ?? '' };
  }
  // Physical goods: the address is fixed from here, and the request is made from the order as
  // marked (a correction committed just before is in it; one after is refused).
  if (order.kind === 'physical') order = (await markPaymentIntentRequested(db, order.id)) ?? throwNotAwaitingPayment();
  let intent: Stripe.PaymentIntent;
  try {
    // "Save this card": the card is attached to the buyer's one Customer when the payment succeeds.
    const customerId = order.save_payment_method ? await ensureBuyerCustomer(db, stripe, order.buyer_id) : undefined;
    intent = await sendKeyed(() => stripe.paymentIntents.create(paymentIntentParams(order, customerId), { idempotencyKey: checkoutIdempotencyKey(order.id) }));
  } catch (error) {
    return refusedToStart(db, order, error);
  }
  return { order: await recordPaymentIntent(db, order.id, intent.id), clientSecret: intent.client_secret ?? '' };
}

function throwNotAwaitingPayment(): never {
  throw new DomainError('order_not_awaiting_payment');
}

/**
 * Stripe refused to start the payment (e.g. the seller's account is gone): nothing can be charged,
 * so the order is canceled and its stock released. No answer at all leaves it pending and says so
 * (a Checkout Session or PaymentIntent charges nothing by being created): the same request again,
 * with the same key, is safe, and reaches the same session or intent if the lost one was made.
 */
async function refusedToStart(db: Kysely<Database>, order: Order, error: unknown): Promise<never> {
  const problem = classifyStripeError(error);
  if (problem?.kind === 'unavailable') throw new DomainError('payment_start_unanswered');
  if (problem?.kind !== 'refused') throw error;
  await cancelOrder(db, order.id, `Stripe refused the payment: ${problem.message}`);
  throw new DomainError('payment_refused', { reason: problem.message });
}

async function cancelOrder(db: Kysely<Database>, orderId: string, reason: string): Promise<void> {
  await db.transaction().execute((trx) => transitionOrder(trx, orderId, { to: 'canceled', source: 'checkout', reason, patch: { failure_message: reason } }));
}

/**
 * The completion page: never trusts the redirect; asks Stripe about the buyer's order. Arriving
 * from hosted Checkout's "Cancel and go back" (`leftCheckout`, Stripe's cancel_url) cancels the
 * order at once, so its stock is not held for the session's hour. That is a GET, as Stripe sends
 * it; only the buyer's own session reaches it, with an order id nobody else can guess.
 */
export async function completeOrder(
  db: Kysely<Database>,
  stripe: Stripe,
  buyerId: string,
  orderId: string,
  options: { leftCheckout?: boolean } = {},
): Promise<Order> {
  const order = found(await findBuyerOrder(db, buyerId, orderId));
  if (options.leftCheckout === true && order.flow === 'hosted') {
    try {
      return await cancelPending(db, stripe, order);
    } catch (error) {
      // The expire (or the read around it) got no answer: not canceled yet, and the same address
      // again sends the same expire under the same key.
      if (classifyStripeError(error)?.kind === 'unavailable') throw new DomainError('order_cancel_unanswered');
      throw error;
    }
  }
  try {
    return await syncOrderFromStripe(db, stripe, order, 'completion_page');
  } catch (error) {
    // Stripe cannot be asked right now: the order as recorded ("Processing", the page refreshes
    // itself), and Stripe's events settle it meanwhile.
    if (classifyStripeError(error)?.kind === 'unavailable') return order;
    throw error;
  }
}

/** "Cancel order" on a buyer's order still awaiting payment (either flow). */
export async function cancelOrderByBuyer(db: Kysely<Database>, stripe: Stripe, buyerId: string, orderId: string): Promise<Order> {
  return cancelPending(db, stripe, found(await findBuyerOrder(db, buyerId, orderId)));
}

/**
 * Ends a pending order at Stripe first, then records what Stripe says: the buyer may have paid a
 * moment ago, and then the order is paid, not canceled. The session is expired (or the intent
 * canceled) with a key derived from the order, so a retry after a lost answer sends the same
 * request; a refusal means it had already ended, and the read that follows tells how.
 */
async function cancelPending(db: Kysely<Database>, stripe: Stripe, order: Order): Promise<Order> {
  const now = await syncOrderFromStripe(db, stripe, order, 'completion_page');
  if (now.status !== 'pending') return now;
  try {
    if (now.stripe_checkout_session_id !== null) {
      await sendKeyed(() => stripe.checkout.sessions.expire(now.stripe_checkout_session_id!, undefined, { idempotencyKey: `order:${now.id}:expire` }));
    } else if (now.stripe_payment_intent_id !== null) {
      await sendKeyed(() =>
        stripe.paymentIntents.cancel(
          now.stripe_payment_intent_id!,
          { cancellation_reason: 'requested_by_customer' },
          { idempotencyKey: `order:${now.id}:cancel` },
        ),
      );
    } else {
      await cancelOrder(db, now.id, 'Canceled by the buyer.');
      return found(await findOrder(db, now.id));
    }
  } catch (error) {
    if (classifyStripeError(error)?.kind !== 'refused') throw error;
  }
  return syncOrderFromStripe(db, stripe, now, 'checkout');
}

/**
 * "What does Stripe say about this order now?", for an order still pending (anything else is
 * already the truth we recorded): read Stripe, then record it in one short transaction.
 */
export async function syncOrderFromStripe(db: Kysely<Database>, stripe: Stripe, order: Order, source: TransitionSource): Promise<Order> {
  if (order.status !== 'pending') return order;
  const facts = await readOrderPayment(stripe, order);
  return facts === undefined ? order : settle(db, stripe, facts, source, order);
}

/** Records what Stripe said about an order's payment, and closes the payment of an order that failed just now. */
export async function settle(db: Kysely<Database>, stripe: Stripe, facts: PaymentFacts, source: TransitionSource, order: Order): Promise<Order> {
  const applied = await db.transaction().execute((trx) => applyPayment(trx, facts, { source }));
  if (applied?.failedNow === true) await stopPaymentOfFailedOrder(db, stripe, facts.orderId);
  return applied?.order ?? order;
}

/**
 * A custom-flow order failed and its stock is back on sale: the buyer must not be able to pay its
 * intent afterwards. The order's status is the recorded intent and the keys come from its id, so
 * running this again (the failure's event is retried, or delivered twice) sends the same request.
 * A refusal (e.g. the buyer paid with another card a moment ago) is left to the events that
 * follow: a late success still moves the order to paid.
 */
export async function stopPaymentOfFailedOrder(db: Kysely<Database>, stripe: Stripe, orderId: string): Promise<void> {
  const order = await findOrder(db, orderId);
  // A hosted order fails only once its session has ended (see applyPayment): nothing to close.
  if (order?.status !== 'payment_failed' || order.flow === 'hosted') return;
  try {
    if (order.stripe_payment_intent_id !== null) {
      await sendKeyed(() =>
        stripe.paymentIntents.cancel(order.stripe_payment_intent_id!, { cancellation_reason: 'abandoned' }, { idempotencyKey: `order:${order.id}:cancel` }),
      );
    }
  } catch (error) {
    if (classifyStripeError(error)?.kind !== 'refused') throw error;
  }
}

/**
 * Pending orders whose payment window is over, for when webhooks were lost and the buyer never came
 * back: each is settled by asking Stripe (an expired session → canceled, stock released; a paid one
 * → paid). A draft with no session or intent recorded is first looked for at Stripe (our process
 * may have stopped before recording Stripe's answer); if Stripe has none, it is canceled. Custom-flow
 * intents left unpaid for a day are canceled at Stripe. Meant for a scheduled job (the worker's),
 * and safe to run anywhere at any time: it ends in the same transition function as everything else.
 */
export async function reconcilePendingOrders(db: Kysely<Database>, stripe: Stripe, now = new Date()): Promise<{ checked: number; settled: number }> {
  const due = await ordersDueForReconciliation(db, now);
  let settled = 0;
  for (const order of due) {
    const after = await reconcileOrder(db, stripe, order);
    if (after.status !== 'pending') settled += 1;
  }
  return { checked: due.length, settled };
}

/** Intent states in which nobody has paid yet and nothing is in flight. */
const ABANDONABLE = ['requires_payment_method', 'requires_confirmation', 'requires_action'];

async function reconcileOrder(db: Kysely<Database>, stripe: Stripe, order: Order): Promise<Order> {
  if (order.stripe_checkout_session_id === null && order.stripe_payment_intent_id === null) {
    const unrecorded = await findUnrecordedPayment(stripe, order);
    if (unrecorded !== undefined) return settle(db, stripe, unrecorded, 'reconcile', order);
    return (
      await db.transaction().execute((trx) =>
        transitionOrder(trx, order.id, {
          to: 'canceled',
          source: 'reconcile',
          reason: 'checkout never started',
          patch: { failure_message: 'Checkout was not started.' },
        }),
      )
    ).order;
  }
  if (order.flow !== 'hosted' && order.stripe_payment_intent_id !== null && order.checkout_expires_at === null) {
    // A Payment Element (or one-click) intent has no expiry of its own: one left unpaid for its hold
    // (30 minutes, CUSTOM_FLOW_HOLD_MS) is given up and its stock released. The order (pending, past
    // its hold) is the recorded intent and its id the key; if we stop after the
    // cancel, the next run sends the same request and the intent's canceled event settles it anyway.
    const facts = await readOrderPayment(stripe, order);
    const after = facts === undefined ? order : await settle(db, stripe, facts, 'reconcile', order);
    const intentId = order.stripe_payment_intent_id;
    if (after.status !== 'pending' || !ABANDONABLE.includes(facts?.intent?.status ?? '')) return after;
    await sendKeyed(() => stripe.paymentIntents.cancel(intentId, { cancellation_reason: 'abandoned' }, { idempotencyKey: `order:${order.id}:cancel` }));
    return syncOrderFromStripe(db, stripe, after, 'reconcile');
  }
  return syncOrderFromStripe(db, stripe, order, 'reconcile');
}
