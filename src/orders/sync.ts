// Stripe's word about an order's payment, in two steps that never overlap: `read…` asks Stripe with
// no transaction open, and `applyPayment` writes what it said inside the caller's transaction. The
// payment webhook handlers, the completion page and the reconciler all go through these two, and
// every status change ends in `transitionOrder`, so the first to arrive moves the order and the
// second is a no-op.
//
// A session or intent carrying our order id that the order has not recorded yet is adopted: it is
// our own call's answer that never got written (a crash between Stripe's answer and our commit) —
// if it is what we would have sent: the order's amount and currency, its metadata, and for an intent
// its destination and application fee. One that differs from what the order recorded, or does not
// match like that, is not this order's payment: it changes nothing and comes back as `refused`
// (the webhook handlers then ignore its event, saying why). Whose account the object is on is the
// handlers' check (see `origin` in src/webhooks/handler.ts): only the platform's may act.
import type { Kysely, Transaction } from 'kysely';
import type Stripe from 'stripe';
import type { Database, Order, ShipTo } from '../db/schema.ts';
import {
  findOrder,
  recordAttemptFailure,
  recordChargeFacts,
  recordCheckoutSession,
  recordPaymentIntent,
  recordShipTo,
  transitionOrder,
  type ChargeFacts,
} from './queries.ts';
import { needsShippingAddress, shipToFromStripe } from './shipping.ts';
import { declineOf, matchesOrder, orderIdOf, paymentVerdict, type TransitionInput, type TransitionSource } from './rules.ts';
import { idOf } from '../stripe/ids.ts';

export interface PaymentFacts {
  orderId: string;
  /** The Checkout Session, when the payment goes through one. */
  session?: {
    id: string;
    url: string | null;
    status: Stripe.Checkout.Session.Status | null;
    amount: number | null;
    currency: string | null;
    expiresAt: number;
    metadata: Stripe.Metadata | null;
  };
  /** The PaymentIntent as Stripe says it is now (absent while nobody has pressed Pay). */
  intent?: Stripe.PaymentIntent;
  /** Money facts of a succeeded intent's charge. */
  charge?: ChargeFacts;
  /** Where to ship, as Stripe collected it (Checkout's page) or was told (our form, on the intent). */
  shipTo?: ShipTo;
}

/** Money facts of a destination charge, from Stripe: its balance transaction's fee, the transfer, the fee. */
export async function fetchChargeFacts(stripe: Stripe, chargeId: string): Promise<ChargeFacts> {
  const charge = await stripe.charges.retrieve(chargeId, { expand: ['balance_transaction', 'transfer'] });
  const txn = typeof charge.balance_transaction === 'object' ? charge.balance_transaction : null;
  const transfer = typeof charge.transfer === 'object' ? charge.transfer : null;
  // Destination charge: the whole transfer lands on the seller, then the application fee is taken
  // from it. Stripe's own fee is the platform's (it is on the platform's charge transaction).
  const transferred = transfer?.amount ?? charge.transfer_data?.amount ?? null;
  const fee = charge.application_fee_amount ?? 0;
  return {
    chargeId: charge.id,
    transferId: idOf(charge.transfer),
    applicationFeeId: idOf(charge.application_fee),
    stripeFee: txn?.fee ?? null,
    sellerNet: transferred === null ? null : transferred - fee,
  };
}

async function chargeFactsOf(stripe: Stripe, intent: Stripe.PaymentIntent | undefined): Promise<ChargeFacts | undefined> {
  const chargeId = intent?.status === 'succeeded' ? idOf(intent.latest_charge) : null;
  return chargeId === null ? undefined : fetchChargeFacts(stripe, chargeId);
}

/** A Checkout Session (an event's payload or a fresh read): the intent as it is now, and its money facts. */
export async function readSessionPayment(stripe: Stripe, session: Stripe.Checkout.Session): Promise<PaymentFacts | undefined> {
  const orderId = orderIdOf(session);
  if (orderId === undefined) return undefined;
  const intentId = idOf(session.payment_intent);
  // The intent is the payment: read it as it is now (events arrive in any order). An expired
  // session's intent is read too: its last declined attempt says why the order ended.
  const intent =
    intentId === null
      ? undefined
      : typeof session.payment_intent === 'object' && session.payment_intent !== null
        ? session.payment_intent
        : await stripe.paymentIntents.retrieve(intentId);
  const shipTo = (await sessionShipTo(stripe, session)) ?? shipToFromStripe(intent?.shipping);
  return {
    orderId,
    ...(shipTo !== undefined ? { shipTo } : {}),
    session: {
      id: session.id,
      url: session.url,
      status: session.status,
      amount: session.amount_total,
      currency: session.currency,
      expiresAt: session.expires_at,
      metadata: session.metadata,
    },
    ...(intent !== undefined ? { intent } : {}),
    ...(await chargeFactsFor(stripe, intent)),
  };
}

/**
 * A PaymentIntent. A success is final, so its payload is used as it is; anything else may be stale
 * (the buyer may have paid with another card since), so `reread` asks Stripe for it now.
 */
export async function readIntentPayment(stripe: Stripe, intent: Stripe.PaymentIntent, options: { reread: boolean }): Promise<PaymentFacts | undefined> {
  const orderId = orderIdOf(intent);
  if (orderId === undefined) return undefined;
  const now = options.reread && intent.status !== 'succeeded' ? await stripe.paymentIntents.retrieve(intent.id) : intent;
  const shipTo = shipToFromStripe(now.shipping);
  return { orderId, intent: now, ...(shipTo !== undefined ? { shipTo } : {}), ...(await chargeFactsFor(stripe, now)) };
}

/**
 * The address a completed session collected (`collected_information.shipping_details` at our API
 * version). An event's payload that lacks it while the session asked for one (an older or trimmed
 * payload) is completed by reading the session now, before any transaction.
 */
async function sessionShipTo(stripe: Stripe, session: Stripe.Checkout.Session): Promise<ShipTo | undefined> {
  const collected = shipToFromStripe(session.collected_information?.shipping_details);
  if (collected !== undefined || session.status !== 'complete' || session.shipping_address_collection == null) return collected;
  const now = await stripe.checkout.sessions.retrieve(session.id);
  return shipToFromStripe(now.collected_information?.shipping_details);
}

/**
 * A hosted order's intent event may be handled before its session's: if the intent does not carry
 * the address, the order's recorded session is read for it, so the seller's "new sale" (sent when
 * the order is paid) says where to ship whichever event comes first.
 */
export async function withSessionShipTo(db: Kysely<Database>, stripe: Stripe, facts: PaymentFacts | undefined): Promise<PaymentFacts | undefined> {
  if (facts === undefined || facts.shipTo !== undefined || facts.intent?.status !== 'succeeded') return facts;
  const order = await findOrder(db, facts.orderId);
  if (order === undefined || !needsShippingAddress(order) || order.stripe_checkout_session_id === null) return facts;
  const shipTo = await sessionShipTo(stripe, await stripe.checkout.sessions.retrieve(order.stripe_checkout_session_id));
  return shipTo === undefined ? facts : { ...facts, shipTo };
}

async function chargeFactsFor(stripe: Stripe, intent: Stripe.PaymentIntent | undefined): Promise<{ charge?: ChargeFacts }> {
  const charge = await chargeFactsOf(stripe, intent);
  return charge === undefined ? {} : { charge };
}

/** What Stripe says now about an order's recorded session or intent (undefined for a draft with neither). */
export async function readOrderPayment(stripe: Stripe, order: Order): Promise<PaymentFacts | undefined> {
  if (order.stripe_checkout_session_id !== null) {
    return readSessionPayment(stripe, await stripe.checkout.sessions.retrieve(order.stripe_checkout_session_id, { expand: ['payment_intent'] }));
  }
  if (order.stripe_payment_intent_id !== null) {
    return readIntentPayment(stripe, await stripe.paymentIntents.retrieve(order.stripe_payment_intent_id), { reread: false });
  }
  return undefined;
}

/**
 * A draft's payment object that Stripe made but we never recorded (our process stopped between
 * Stripe's answer and our write): found by the order id it carries, among objects created since
 * the order. Undefined when Stripe has none.
 */
export async function findUnrecordedPayment(stripe: Stripe, order: Order): Promise<PaymentFacts | undefined> {
  const created = { gte: Math.floor(order.created_at.getTime() / 1000) - 60 };
  if (order.flow === 'hosted') {
    for await (const session of stripe.checkout.sessions.list({ created, limit: 100, expand: ['data.payment_intent'] })) {
      if (orderIdOf(session) === order.id) return readSessionPayment(stripe, session);
    }
    return undefined;
  }
  for await (const intent of stripe.paymentIntents.list({ created, limit: 100 })) {
    if (orderIdOf(intent) === order.id) return readIntentPayment(stripe, intent, { reread: false });
  }
  return undefined;
}

export interface ApplyContext {
  source: TransitionSource;
  stripeEventId?: string | null;
}

export interface AppliedPayment {
  order: Order;
  /** The order moved to payment_failed just now: its session or intent must be closed (see stopPaymentOfFailedOrder). */
  failedNow: boolean;
  /** Set when the session or intent is not this order's payment: why. Nothing was changed. */
  refused?: string;
}

/** Writes what Stripe said about an order's payment. Undefined when the order is not ours. */
export async function applyPayment(trx: Transaction<Database>, facts: PaymentFacts, ctx: ApplyContext): Promise<AppliedPayment | undefined> {
  let order = await findOrder(trx, facts.orderId);
  if (order === undefined) return undefined;
  const refused = (reason: string): AppliedPayment => ({ order: order!, failedNow: false, refused: reason });
  const event = { source: ctx.source, stripeEventId: ctx.stripeEventId ?? null };

  const { session, intent } = facts;
  if (session !== undefined) {
    if (order.stripe_checkout_session_id !== null && order.stripe_checkout_session_id !== session.id) {
      return refused(`Checkout Session ${session.id} is not order ${order.id}'s (${order.stripe_checkout_session_id})`);
    }
    if (!matchesOrder(order, session.amount, session.currency)) {
      return refused(
        `Checkout Session ${session.id} (${session.amount} ${session.currency}) does not match order ${order.id} (${order.amount} ${order.currency})`,
      );
    }
    if (order.stripe_checkout_session_id === null) {
      if (!carriesOrderMetadata(order, session.metadata))
        return refused(`Checkout Session ${session.id} was not made for order ${order.id} (its metadata differs)`);
      order = await recordCheckoutSession(trx, order.id, { id: session.id, url: session.url, expiresAt: new Date(session.expiresAt * 1000) });
    }
    if (session.status === 'expired') {
      // A hosted order ends with its session (it expired, or the buyer canceled): failed when its
      // last attempt was declined (the reason stays on the order), otherwise canceled.
      const moved = await transitionOrder(trx, order.id, { ...hostedOrderEnd(order, intent), ...event, reason: 'checkout session expired' });
      return { order: moved.order, failedNow: false };
    }
  }
  if (intent === undefined) return { order, failedNow: false };

  if (!matchesOrder(order, intent.amount, intent.currency)) {
    return refused(`PaymentIntent ${intent.id} (${intent.amount} ${intent.currency}) does not match order ${order.id} (${order.amount} ${order.currency})`);
  }
  if (order.stripe_payment_intent_id === null) {
    const notOurs = intentMismatch(order, intent);
    if (notOurs !== undefined) return refused(`PaymentIntent ${intent.id} was not made for order ${order.id} (${notOurs})`);
    order = await recordPaymentIntent(trx, order.id, intent.id);
  } else if (order.stripe_payment_intent_id !== intent.id) {
    return refused(`PaymentIntent ${intent.id} is not order ${order.id}'s (${order.stripe_payment_intent_id})`);
  }

  const verdict = paymentVerdict(intent);
  if (verdict === null) return { order, failedNow: false };
  if (order.flow === 'hosted' && verdict.to === 'payment_failed') {
    // Stripe keeps a Checkout Session open after a declined card or a failed 3D Secure and its
    // page invites another card: the order waits for that (stock still held) with the reason on
    // record; it ends only when the session does (expiry, or the buyer cancels).
    return { order: await recordAttemptFailure(trx, order.id, verdict.patch ?? {}), failedNow: false };
  }
  if (order.flow === 'hosted' && verdict.to === 'canceled') {
    // The session's intent is canceled when the session expires (its own event may come later).
    return {
      order: (await transitionOrder(trx, order.id, { ...hostedOrderEnd(order, intent), ...event, reason: verdict.reason ?? null })).order,
      failedNow: false,
    };
  }
  // The address of a paid order before the transition: the seller's "new sale", enqueued with it, carries it.
  if (verdict.to === 'paid' && facts.shipTo !== undefined && needsShippingAddress(order)) order = await recordShipTo(trx, order.id, facts.shipTo);
  const result = await transitionOrder(trx, order.id, { ...verdict, ...event });
  if (verdict.to === 'paid' && facts.charge !== undefined) {
    await recordChargeFacts(trx, order.id, facts.charge);
    return { order: (await findOrder(trx, order.id)) ?? result.order, failedNow: false };
  }
  return { order: result.order, failedNow: result.applied && verdict.to === 'payment_failed' };
}

/**
 * How a hosted order ends with its session (it expired, or the buyer canceled): failed when an
 * attempt was declined (the reason stays on the order), otherwise canceled.
 */
function hostedOrderEnd(order: Order, intent: Stripe.PaymentIntent | undefined): Pick<TransitionInput, 'to' | 'patch'> {
  const error = intent?.last_payment_error ?? null;
  if (error !== null) return { to: 'payment_failed', patch: declineOf(error) };
  return { to: order.failure_message !== null ? 'payment_failed' : 'canceled' };
}

/** The metadata every payment object of ours carries (see metadataFor in ./rules.ts). */
function carriesOrderMetadata(order: Order, metadata: Stripe.Metadata | null | undefined): boolean {
  return (
    metadata?.order_id === order.id &&
    metadata.buyer_id === order.buyer_id &&
    metadata.seller_id === order.seller_id &&
    metadata.listing_id === order.listing_id
  );
}

/** What differs between an unrecorded intent and the destination charge we create for the order. */
function intentMismatch(order: Order, intent: Stripe.PaymentIntent): string | undefined {
  if (!carriesOrderMetadata(order, intent.metadata)) return 'its metadata differs';
  if (intent.transfer_data?.destination == null || idOf(intent.transfer_data.destination) !== order.destination_account) return 'another destination';
  if ((intent.application_fee_amount ?? 0) !== order.application_fee_amount) return 'another application fee';
  return undefined;
}
