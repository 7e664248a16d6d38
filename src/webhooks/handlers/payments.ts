// Payment family: Checkout Sessions, PaymentIntents and charges of our destination charges move
// orders through the orders module (src/orders/payments.ts → the one transition function), the
// same code the completion page runs. Events arrive in any order and more than once:
// - a success is final, so its payload is applied as it is;
// - failure, processing and cancel payloads may be stale (the buyer may have paid with another
//   card since), so the intent is re-read from Stripe and what it says now is applied.
import type Stripe from 'stripe';
import { applyCheckoutSession, applyPaymentIntent, fetchChargeFacts, orderIdOf, recordChargeFacts } from '../../orders/payments.ts';
import type { EventHandler, HandlerContext, HandlerRegistry } from '../registry.ts';

// Typed by what it reads, so it fits every checkout.session.* handler slot.
async function session(event: { id: string; data: { object: Stripe.Checkout.Session } }, ctx: HandlerContext): Promise<void> {
  await applyCheckoutSession(ctx.db, ctx.stripe, event.data.object, { source: 'webhook', stripeEventId: event.id });
}

const intentSucceeded: EventHandler<'payment_intent.succeeded'> = async (event, ctx) => {
  await applyPaymentIntent(ctx.db, ctx.stripe, event.data.object, { source: 'webhook', stripeEventId: event.id });
};

async function intentChanged(event: { id: string; data: { object: Stripe.PaymentIntent } }, ctx: HandlerContext): Promise<void> {
  if (orderIdOf(event.data.object) === undefined) return; // not one of our orders
  const now: Stripe.PaymentIntent = await ctx.stripe.paymentIntents.retrieve(event.data.object.id);
  await applyPaymentIntent(ctx.db, ctx.stripe, now, { source: 'webhook', stripeEventId: event.id });
}

// The money facts (Stripe's fee from the balance transaction, transfer, application fee). The
// order's status is the intent's business; this only fills in facts, so it is safe in any order.
const chargeSucceeded: EventHandler<'charge.succeeded'> = async (event, ctx) => {
  const orderId = orderIdOf(event.data.object);
  if (orderId === undefined) return;
  const order = await ctx.db.selectFrom('orders').select(['id', 'amount', 'currency']).where('id', '=', orderId).executeTakeFirst();
  if (order === undefined) return;
  const facts = await fetchChargeFacts(ctx.stripe, event.data.object.id);
  await recordChargeFacts(ctx.db, order.id, facts);
};

export const paymentHandlers: HandlerRegistry = {
  'checkout.session.completed': session,
  'checkout.session.expired': session,
  'checkout.session.async_payment_succeeded': session,
  'checkout.session.async_payment_failed': session,
  'payment_intent.succeeded': intentSucceeded,
  'payment_intent.payment_failed': intentChanged,
  'payment_intent.processing': intentChanged,
  'payment_intent.canceled': intentChanged,
  'charge.succeeded': chargeSucceeded,
};
