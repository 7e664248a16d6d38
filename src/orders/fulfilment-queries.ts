// Every SQL statement about fulfilment: the steps a seller takes on a paid physical order. The
// order row is locked by the caller (lockOrder), so two submits of one step queue and the second
// finds it taken; the unique (order_id, step) index is the last word on "once".
import type { Kysely, Transaction } from 'kysely';
import type { Database, FulfilmentStep, Order } from '../db/schema.ts';

/** The seller's own order, locked; someone else's is the same as none. */
export async function lockSellerOrder(trx: Transaction<Database>, sellerId: string, orderId: string): Promise<Order | undefined> {
  return trx.selectFrom('orders').selectAll().where('id', '=', orderId).where('seller_id', '=', sellerId).forUpdate().executeTakeFirst();
}

export interface StepInput {
  step: FulfilmentStep;
  actorId: string;
  carrier?: string | null;
  trackingNumber?: string | null;
}

/** Records the step and moves the order's fulfilment status with it; returns the order as it is now. */
export async function recordFulfilmentStep(trx: Transaction<Database>, orderId: string, input: StepInput): Promise<Order> {
  await trx
    .insertInto('order_fulfilment_steps')
    .values({
      order_id: orderId,
      step: input.step,
      actor_id: input.actorId,
      carrier: input.carrier ?? null,
      tracking_number: input.trackingNumber ?? null,
    })
    .onConflict((oc) => oc.columns(['order_id', 'step']).doNothing())
    .execute();
  return trx
    .updateTable('orders')
    .set({ fulfilment_status: input.step, updated_at: new Date() })
    .where('id', '=', orderId)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** An order's steps, oldest first (buyer and seller pages). */
export async function listFulfilmentSteps(db: Kysely<Database>, orderId: string) {
  return db
    .selectFrom('order_fulfilment_steps')
    .select(['step', 'carrier', 'tracking_number', 'created_at'])
    .where('order_id', '=', orderId)
    .orderBy('id')
    .execute();
}
