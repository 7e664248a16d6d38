// Payment family: Checkout Sessions, PaymentIntents and charges of our destination charges move
// orders through the orders module (src/orders/sync.ts), the same code the completion page runs.
// Events arrive in any order and more than once:
// - a success is final, so its payload is used as it is;
// - failure, processing and cancel payloads may be stale (the buyer may have paid with another
//   card since), so the intent is re-read from Stripe, before the transaction, and what it says
//   now is applied;
// - a custom-flow order that ends payment_failed has its intent closed at Stripe afterwards, so
//   the stock released can never be paid for twice (a hosted order waits for its session to end).
import { applyPayment, fetchChargeFacts, readIntentPayment, readSessionPayment, type PaymentFacts } from '../../orders/sync.ts';
import { findOrder, recordChargeFacts, type ChargeFacts } from '../../orders/queries.ts';
import { orderIdOf } from '../../orders/rules.ts';
import { stopPaymentOfFailedOrder } from '../../orders/use-cases.ts';
import type { EventHandler, HandlerRegistry } from '../handler.ts';

type SessionEvent = 'checkout.session.completed' | 'checkout.session.expired' | 'checkout.session.async_payment_succeeded' | 'checkout.session.async_payment_failed';
type IntentEvent = 'payment_intent.succeeded' | 'payment_intent.payment_failed' | 'payment_intent.processing' | 'payment_intent.canceled';

const session: EventHandler<SessionEvent, PaymentFacts | undefined> = {
  read: (event, { stripe }) => readSessionPayment(stripe, event.data.object),
  async apply(event, { db, facts }) {
    if (facts !== undefined) await applyPayment(db, facts, { source: 'webhook', stripeEventId: event.id });
  },
  async after(event, { db, stripe }) {
    const orderId = orderIdOf(event.data.object);
    if (orderId !== undefined) await stopPaymentOfFailedOrder(db, stripe, orderId);
  },
};

const intent: EventHandler<IntentEvent, PaymentFacts | undefined> = {
  read: (event, { stripe }) => readIntentPayment(stripe, event.data.object, { reread: event.type !== 'payment_intent.succeeded' }),
  async apply(event, { db, facts }) {
    if (facts !== undefined) await applyPayment(db, facts, { source: 'webhook', stripeEventId: event.id });
  },
  async after(event, { db, stripe }) {
    const orderId = orderIdOf(event.data.object);
    if (orderId !== undefined) await stopPaymentOfFailedOrder(db, stripe, orderId);
  },
};

// The money facts (Stripe's fee from the balance transaction, transfer, application fee). The
// order's status is the intent's business; this only fills in facts, so it is safe in any order.
const chargeSucceeded: EventHandler<'charge.succeeded', { orderId: string; charge: ChargeFacts } | undefined> = {
  async read(event, { db, stripe }) {
    const orderId = orderIdOf(event.data.object);
    if (orderId === undefined || (await findOrder(db, orderId)) === undefined) return undefined;
    return { orderId, charge: await fetchChargeFacts(stripe, event.data.object.id) };
  },
  async apply(_event, { db, facts }) {
    if (facts !== undefined) await recordChargeFacts(db, facts.orderId, facts.charge);
  },
};

export const paymentHandlers: HandlerRegistry = {
  'checkout.session.completed': session,
  'checkout.session.expired': session,
  'checkout.session.async_payment_succeeded': session,
  'checkout.session.async_payment_failed': session,
  'payment_intent.succeeded': intent,
  'payment_intent.payment_failed': intent,
  'payment_intent.processing': intent,
  'payment_intent.canceled': intent,
  'charge.succeeded': chargeSucceeded,
};
