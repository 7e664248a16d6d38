// What a seller does after a physical order is paid: mark it shipped (carrier and tracking number),
// then delivered. Each action is one short transaction under the order's row lock: the rules
// (./shipping.ts) decide, the step is recorded with who took it and when, and the buyer's
// "order shipped" email is enqueued in the same transaction under a key naming the order, so a
// double submit records one step and sends one email. No Stripe call is involved.
import type { Kysely, Transaction } from 'kysely';
import type { Database, FulfilmentStep, Order } from '../db/schema.ts';
import { enqueueOrderShippedEmail } from '../email/messages.ts';
import { DomainError, found } from '../errors.ts';
import { listFulfilmentSteps, lockSellerOrder, recordFulfilmentStep } from './fulfilment-queries.ts';
import { FULFILMENT_WORDS, fulfilmentDecision } from './shipping.ts';

export interface ShipInput {
  sellerId: string;
  orderId: string;
  carrier: string;
  trackingNumber: string;
}

export async function markShipped(db: Kysely<Database>, input: ShipInput): Promise<Order> {
  const shipment = { carrier: input.carrier.trim(), trackingNumber: input.trackingNumber.trim() };
  return takeStep(db, input.sellerId, input.orderId, 'shipped', async (trx, order) => {
    const shipped = await recordFulfilmentStep(trx, order.id, { step: 'shipped', actorId: input.sellerId, ...shipment });
    await enqueueOrderShippedEmail(trx, shipped, shipment);
    return shipped;
  });
}

export async function markDelivered(db: Kysely<Database>, input: { sellerId: string; orderId: string }): Promise<Order> {
  return takeStep(db, input.sellerId, input.orderId, 'delivered', (trx, order) =>
    recordFulfilmentStep(trx, order.id, { step: 'delivered', actorId: input.sellerId }),
  );
}

type Apply = (trx: Transaction<Database>, order: Order) => Promise<Order>;

/** The seller's own order (else not found), locked; the step applied when the rules allow it, nothing done when it was already taken. */
async function takeStep(db: Kysely<Database>, sellerId: string, orderId: string, step: FulfilmentStep, apply: Apply): Promise<Order> {
  return db.transaction().execute(async (trx) => {
    const order = found(await lockSellerOrder(trx, sellerId, orderId));
    const decision = fulfilmentDecision(order, step);
    if (decision.kind === 'refused') throw new DomainError('fulfilment_refused', { reason: decision.reason });
    if (decision.kind === 'already') return order;
    return apply(trx, order);
  });
}

/** What the buyer's and seller's order pages show about fulfilment; null for a digital order. */
export async function fulfilmentView(db: Kysely<Database>, order: Order) {
  if (order.fulfilment_status === null) return null;
  const steps = await listFulfilmentSteps(db, order.id);
  const shipped = steps.find((s) => s.step === 'shipped');
  const delivered = steps.find((s) => s.step === 'delivered');
  return {
    status: order.fulfilment_status,
    words: FULFILMENT_WORDS[order.fulfilment_status],
    shippedAt: shipped?.created_at ?? null,
    carrier: shipped?.carrier ?? null,
    trackingNumber: shipped?.tracking_number ?? null,
    deliveredAt: delivered?.created_at ?? null,
  };
}
