// Applying what Stripe says about an order's payment. The webhook handlers (payment family) and the
// completion page both come here, and everything ends in `transitionOrder`, so the first to arrive
// moves the order and the second is a no-op.
//
// What counts as Stripe's word:
// - a PaymentIntent that `succeeded` → paid (final: a succeeded intent never goes back);
// - a Checkout Session `complete` with `payment_status: 'paid'` → paid;
// - an intent back at `requires_payment_method` with a `last_payment_error` (decline, failed 3DS)
//   → payment_failed with Stripe's reason; we then close the session / cancel the intent, so the
//   released stock can never be paid for twice;
// - a session `expired` or an intent `canceled` → canceled (stock released);
// - anything else (requires_action, processing, an open session) → still pending.
// An amount or currency that does not match the order is never accepted as payment for it.
import type { Kysely } from 'kysely';
import Stripe from 'stripe';
import type { Database, Order } from '../db/schema.ts';
import { findOrder } from './orders.ts';
import { transitionOrder, type TransitionSource } from './state.ts';

export interface ApplyContext {
  source: TransitionSource;
  stripeEventId?: string | null;
}

export interface ChargeFacts {
  chargeId: string;
  transferId: string | null;
  applicationFeeId: string | null;
  stripeFee: number | null;
  sellerNet: number | null;
}

const idOf = (value: string | { id: string } | null | undefined): string | null =>
  value === null || value === undefined ? null : typeof value === 'string' ? value : value.id;

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

export async function recordChargeFacts(db: Kysely<Database>, orderId: string, facts: ChargeFacts): Promise<void> {
  await db.updateTable('orders').set({
    stripe_charge_id: facts.chargeId,
    stripe_transfer_id: facts.transferId,
    stripe_application_fee_id: facts.applicationFeeId,
    stripe_fee_amount: facts.stripeFee,
    seller_net_amount: facts.sellerNet,
    updated_at: new Date(),
  }).where('id', '=', orderId).execute();
}

export function orderIdOf(object: { metadata?: Stripe.Metadata | null; client_reference_id?: string | null }): string | undefined {
  const id = object.metadata?.order_id ?? object.client_reference_id ?? undefined;
  return id !== undefined && /^[0-9a-f-]{36}$/i.test(id) ? id : undefined;
}

function matches(order: Order, amount: number | null | undefined, currency: string | null | undefined): boolean {
  return amount === order.amount && currency?.toLowerCase() === order.currency;
}

/** Applies a PaymentIntent's state to its order. Returns the order as it is afterwards. */
export async function applyPaymentIntent(db: Kysely<Database>, stripe: Stripe, intent: Stripe.PaymentIntent, ctx: ApplyContext): Promise<Order | undefined> {
  const orderId = orderIdOf(intent);
  if (orderId === undefined) return undefined;
  let order = await findOrder(db, orderId);
  if (order === undefined) return undefined;
  if (!matches(order, intent.amount, intent.currency)) {
    throw new Error(`PaymentIntent ${intent.id} (${intent.amount} ${intent.currency}) does not match order ${order.id} (${order.amount} ${order.currency})`);
  }
  if (order.stripe_payment_intent_id === null) {
    await db.updateTable('orders').set({ stripe_payment_intent_id: intent.id, updated_at: new Date() })
      .where('id', '=', order.id).where('stripe_payment_intent_id', 'is', null).execute();
  } else if (order.stripe_payment_intent_id !== intent.id) {
    return order; // not this order's payment (a stale or foreign intent carrying our metadata)
  }

  if (intent.status === 'succeeded') {
    const chargeId = idOf(intent.latest_charge);
    const facts = chargeId === null ? undefined : await fetchChargeFacts(stripe, chargeId);
    const result = await transitionOrder(db, order.id, { to: 'paid', source: ctx.source, stripeEventId: ctx.stripeEventId ?? null, patch: { paid_at: new Date() } });
    if (facts !== undefined) await recordChargeFacts(db, order.id, facts);
    return facts === undefined ? result.order : findOrder(db, order.id);
  }
  if (intent.status === 'canceled') {
    return (await transitionOrder(db, order.id, { to: 'canceled', source: ctx.source, stripeEventId: ctx.stripeEventId ?? null, reason: `payment canceled (${intent.cancellation_reason ?? 'no reason'})` })).order;
  }
  if (intent.status === 'requires_payment_method' && intent.last_payment_error) {
    const error = intent.last_payment_error;
    const result = await transitionOrder(db, order.id, {
      to: 'payment_failed', source: ctx.source, stripeEventId: ctx.stripeEventId ?? null,
      reason: error.decline_code ?? error.code ?? null,
      patch: { failure_code: error.decline_code ?? error.code ?? null, failure_message: error.message ?? 'The payment failed.' },
    });
    order = result.order;
    if (result.applied) await stopFurtherAttempts(stripe, order);
    return order;
  }
  return order;
}

/**
 * The order failed and its stock is back on sale: the buyer must not be able to pay this session or
 * intent afterwards. A failure here (e.g. the buyer paid with another card a moment ago) is left to
 * the events that follow: a late success still moves the order to paid.
 */
async function stopFurtherAttempts(stripe: Stripe, order: Order): Promise<void> {
  try {
    if (order.stripe_checkout_session_id !== null) {
      await stripe.checkout.sessions.expire(order.stripe_checkout_session_id, undefined, { idempotencyKey: `order:${order.id}:expire` });
    } else if (order.stripe_payment_intent_id !== null) {
      await stripe.paymentIntents.cancel(order.stripe_payment_intent_id, { cancellation_reason: 'abandoned' }, { idempotencyKey: `order:${order.id}:cancel` });
    }
  } catch (error) {
    if (!(error instanceof Stripe.errors.StripeInvalidRequestError)) throw error;
  }
}

export async function applyCheckoutSession(db: Kysely<Database>, stripe: Stripe, session: Stripe.Checkout.Session, ctx: ApplyContext): Promise<Order | undefined> {
  const orderId = orderIdOf(session);
  if (orderId === undefined) return undefined;
  const order = await findOrder(db, orderId);
  if (order === undefined || order.stripe_checkout_session_id !== session.id) return order;
  if (!matches(order, session.amount_total, session.currency)) {
    throw new Error(`Checkout Session ${session.id} (${session.amount_total} ${session.currency}) does not match order ${order.id}`);
  }
  const intentId = idOf(session.payment_intent);
  if (session.status === 'expired') {
    return (await transitionOrder(db, order.id, { to: 'canceled', source: ctx.source, stripeEventId: ctx.stripeEventId ?? null, reason: 'checkout session expired' })).order;
  }
  if (intentId === null) return order; // open, nobody has pressed Pay yet
  // The intent is the payment: read it as it is now (events may arrive in any order).
  const intent = typeof session.payment_intent === 'object' && session.payment_intent !== null
    ? session.payment_intent
    : await stripe.paymentIntents.retrieve(intentId);
  return applyPaymentIntent(db, stripe, intent, ctx);
}

/**
 * The completion page's question: "what does Stripe say about this order now?" Only for orders
 * still pending; anything else is already the truth we recorded.
 */
export async function syncOrderFromStripe(db: Kysely<Database>, stripe: Stripe, order: Order, source: TransitionSource = 'completion_page'): Promise<Order> {
  if (order.status !== 'pending') return order;
  let updated: Order | undefined;
  if (order.stripe_checkout_session_id !== null) {
    const session = await stripe.checkout.sessions.retrieve(order.stripe_checkout_session_id, { expand: ['payment_intent'] });
    updated = await applyCheckoutSession(db, stripe, session, { source });
  } else if (order.stripe_payment_intent_id !== null) {
    const intent = await stripe.paymentIntents.retrieve(order.stripe_payment_intent_id);
    updated = await applyPaymentIntent(db, stripe, intent, { source });
  }
  return updated ?? order;
}

/** A failed or canceled payment's words for the buyer. */
export function failureMessageOf(order: Order): string | null {
  return order.failure_message;
}

/**
 * Pending orders whose payment window is over, for when webhooks were lost and the buyer never came
 * back: each is settled by asking Stripe (an expired session → canceled, stock released; a paid one
 * → paid). A draft whose Stripe call never succeeded (no session, no intent) and is older than a
 * session could ever live is canceled. Meant for a scheduled job (the worker's), and safe to run
 * anywhere at any time: it ends in the same transition function as everything else.
 */
export async function reconcilePendingOrders(db: Kysely<Database>, stripe: Stripe, now = new Date()): Promise<{ checked: number; settled: number }> {
  const draftCutoff = new Date(now.getTime() - 2 * 60 * 60 * 1000);
  const customMaxAge = new Date(now.getTime() - 24 * 60 * 60 * 1000);
  const due = await db.selectFrom('orders').selectAll()
    .where('status', '=', 'pending')
    .where((eb) => eb.or([
      eb('checkout_expires_at', '<', now),
      eb.and([eb('stripe_checkout_session_id', 'is', null), eb('stripe_payment_intent_id', 'is', null), eb('created_at', '<', draftCutoff)]),
      eb.and([eb('flow', '=', 'custom'), eb('created_at', '<', customMaxAge)]),
    ]))
    .orderBy('created_at').limit(500).execute();
  let settled = 0;
  for (const order of due) {
    let after: Order;
    if (order.stripe_checkout_session_id === null && order.stripe_payment_intent_id === null) {
      after = (await transitionOrder(db, order.id, { to: 'canceled', source: 'reconcile', reason: 'checkout never started', patch: { failure_message: 'Checkout was not started.' } })).order;
    } else if (order.flow === 'custom' && order.stripe_payment_intent_id !== null && order.checkout_expires_at === null) {
      // A Payment Element intent has no expiry of its own: one left unpaid for a day is given up.
      const intent = await stripe.paymentIntents.retrieve(order.stripe_payment_intent_id);
      after = (await applyPaymentIntent(db, stripe, intent, { source: 'reconcile' })) ?? order;
      if (after.status === 'pending' && ['requires_payment_method', 'requires_confirmation', 'requires_action'].includes(intent.status)) {
        await stripe.paymentIntents.cancel(intent.id, { cancellation_reason: 'abandoned' }, { idempotencyKey: `order:${order.id}:cancel` });
        after = (await applyPaymentIntent(db, stripe, await stripe.paymentIntents.retrieve(intent.id), { source: 'reconcile' })) ?? after;
      }
    } else {
      after = await syncOrderFromStripe(db, stripe, order, 'reconcile');
    }
    if (after.status !== 'pending') settled += 1;
  }
  return { checked: due.length, settled };
}
