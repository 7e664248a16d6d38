// Payment family: Checkout Sessions, PaymentIntents and charges of our destination charges move
// orders through the orders module (src/orders/sync.ts), the same code the completion page runs.
// Events arrive in any order and more than once:
// - a success is final, so its payload is used as it is;
// - failure, processing and cancel payloads may be stale (the buyer may have paid with another
//   card since), so the intent is re-read from Stripe, before the transaction, and what it says
//   now is applied;
// - a custom-flow order that ends payment_failed has its intent closed at Stripe afterwards, so
//   the stock released can never be paid for twice (a hosted order waits for its session to end).
// Only the platform account's own events count (`origin`): a connected account can create objects
// in its own account carrying any order id in their metadata. And an object the order did not make
// (another amount, currency, destination or id than recorded) is refused: its event is ignored,
// with the reason, never retried.
import { applyPayment, fetchChargeFacts, readIntentPayment, readSessionPayment, withSessionShipTo, type PaymentFacts } from '../../orders/sync.ts';
import { findOrder, recordChargeFacts, type ChargeFacts } from '../../orders/queries.ts';
import { orderIdOf } from '../../orders/rules.ts';
import { stopPaymentOfFailedOrder } from '../../orders/use-cases.ts';
import { IgnoreEvent, type EventHandler, type HandlerRegistry } from '../handler.ts';
import type { Transaction } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { idOf } from '../../stripe/ids.ts';

type SessionEvent =
  'checkout.session.completed' | 'checkout.session.expired' | 'checkout.session.async_payment_succeeded' | 'checkout.session.async_payment_failed';
type IntentEvent = 'payment_intent.succeeded' | 'payment_intent.payment_failed' | 'payment_intent.processing' | 'payment_intent.canceled';

/** Applies what the event says; an object that is not the order's payment makes the event ignored. */
async function applyOrIgnore(db: Transaction<Database>, facts: PaymentFacts | undefined, eventId: string): Promise<void> {
  if (facts === undefined) return;
  const applied = await applyPayment(db, facts, { source: 'webhook', stripeEventId: eventId });
  if (applied?.refused !== undefined) throw new IgnoreEvent(applied.refused);
}

const session: EventHandler<SessionEvent, PaymentFacts | undefined> = {
  origin: 'platform',
  read: (event, { stripe }) => readSessionPayment(stripe, event.data.object),
  apply: (event, { db, facts }) => applyOrIgnore(db, facts, event.id),
  async after(event, { db, stripe }) {
    const orderId = orderIdOf(event.data.object);
    if (orderId !== undefined) await stopPaymentOfFailedOrder(db, stripe, orderId);
  },
};

const intent: EventHandler<IntentEvent, PaymentFacts | undefined> = {
  origin: 'platform',
  read: async (event, { db, stripe }) =>
    withSessionShipTo(db, stripe, await readIntentPayment(stripe, event.data.object, { reread: event.type !== 'payment_intent.succeeded' })),
  apply: (event, { db, facts }) => applyOrIgnore(db, facts, event.id),
  async after(event, { db, stripe }) {
    const orderId = orderIdOf(event.data.object);
    if (orderId !== undefined) await stopPaymentOfFailedOrder(db, stripe, orderId);
  },
};

// The money facts (Stripe's fee from the balance transaction, transfer, application fee). The
// order's status is the intent's business; this only fills in facts, so it is safe in any order.
const chargeSucceeded: EventHandler<'charge.succeeded', { orderId: string; charge: ChargeFacts } | undefined> = {
  origin: 'platform',
  async read(event, { db, stripe }) {
    const orderId = orderIdOf(event.data.object);
    const order = orderId === undefined ? undefined : await findOrder(db, orderId);
    if (orderId === undefined || order === undefined) return undefined;
    const intentId = idOf(event.data.object.payment_intent);
    if (order.stripe_payment_intent_id !== null && order.stripe_payment_intent_id !== intentId) {
      throw new IgnoreEvent(
        `charge ${event.data.object.id} is not order ${order.id}'s (its intent ${intentId ?? 'none'}, the order's ${order.stripe_payment_intent_id})`,
      );
    }
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
