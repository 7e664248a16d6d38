// The one order state machine. Every status change — from a webhook handler, the completion page,
// a reconciliation job or (later) an admin refund — goes through `transitionOrder`, which locks the
// order row, applies the change only if the machine allows it, releases or re-takes stock, and
// records the transition. Whoever comes second finds the order already moved and does nothing, so
// "webhook first" and "completion page first" end in the same state with one recorded transition.
//
//   pending ──► paid ──► partially_refunded ──► refunded
//      │          └──────────────────────────────►┘
//      ├──► payment_failed ──► paid   (a late success: Stripe took the money, the truth wins)
//      └──► canceled                  (session expired / intent canceled)
//
// One correction runs backwards: a refund that Stripe reports as failed after it succeeded (the
// money did not reach the buyer) moves refunded → partially_refunded | paid, and
// partially_refunded → paid. Only the refund sync asks for it (`correction: 'refund_failed'`),
// from refund rows that are themselves freshness-guarded, so a late payment event can never
// move a refunded order back to paid.
//
// Leaving `pending` for payment_failed or canceled gives the reserved stock back.
import type { Kysely, Transaction } from 'kysely';
import type { Database, Order, OrderStatus } from '../db/schema.ts';
import { enqueueOrderPaidEmails } from '../email/messages.ts';
import { requireTransaction } from '../email/outbox.ts';

const ALLOWED: Record<OrderStatus, readonly OrderStatus[]> = {
  pending: ['paid', 'payment_failed', 'canceled'],
  payment_failed: ['paid'],
  canceled: [],
  paid: ['partially_refunded', 'refunded'],
  partially_refunded: ['refunded'],
  refunded: [],
};

const REFUND_FAILED_CORRECTIONS: Partial<Record<OrderStatus, readonly OrderStatus[]>> = {
  refunded: ['partially_refunded', 'paid'],
  partially_refunded: ['paid'],
};

export type TransitionCorrection = 'refund_failed';

export function canTransition(from: OrderStatus, to: OrderStatus, correction?: TransitionCorrection): boolean {
  if (ALLOWED[from].includes(to)) return true;
  return correction === 'refund_failed' && (REFUND_FAILED_CORRECTIONS[from]?.includes(to) ?? false);
}

export type TransitionSource = 'webhook' | 'completion_page' | 'reconcile' | 'admin';

export interface TransitionInput {
  to: OrderStatus;
  source: TransitionSource;
  stripeEventId?: string | null;
  reason?: string | null;
  /** A backward move the machine allows only on purpose (see REFUND_FAILED_CORRECTIONS). */
  correction?: TransitionCorrection;
  /** Facts that travel with this transition (failure reason, paid_at, …). */
  patch?: Partial<Pick<Order, 'failure_code' | 'failure_message' | 'paid_at'>>;
}

export interface TransitionResult {
  applied: boolean;
  order: Order;
}

/** Runs `fn` in a transaction, or inside the caller's if `db` already is one (webhook handlers). */
export async function inTransaction<T>(db: Kysely<Database>, fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  if (db.isTransaction) return fn(db);
  return db.transaction().execute((trx: Transaction<Database>) => fn(trx));
}

export async function transitionOrder(db: Kysely<Database>, orderId: string, input: TransitionInput): Promise<TransitionResult> {
  return inTransaction(db, async (trx) => {
    const order = await trx.selectFrom('orders').selectAll().where('id', '=', orderId).forUpdate().executeTakeFirstOrThrow();
    if (!canTransition(order.status, input.to, input.correction)) return { applied: false, order };

    let stockReserved = order.stock_reserved;
    let reason = input.reason ?? null;
    if ((input.to === 'payment_failed' || input.to === 'canceled') && order.stock_reserved) {
      await trx.updateTable('listings')
        .set((eb) => ({ stock: eb('stock', '+', order.quantity), updated_at: new Date() }))
        .where('id', '=', order.listing_id).where('stock', 'is not', null)
        .execute();
      stockReserved = false;
    }
    if (input.to === 'paid' && order.status === 'payment_failed') {
      // The stock went back when the payment failed; take it again if it is still there. If it is
      // not, the order is paid anyway (the buyer's money moved) and the shortfall is on record.
      const taken = await trx.updateTable('listings')
        .set((eb) => ({ stock: eb('stock', '-', order.quantity), updated_at: new Date() }))
        .where('id', '=', order.listing_id).where('stock', '>=', order.quantity)
        .returning('stock').executeTakeFirst();
      const unlimited = await trx.selectFrom('listings').select('stock').where('id', '=', order.listing_id).executeTakeFirstOrThrow();
      stockReserved = taken !== undefined;
      if (taken === undefined && unlimited.stock !== null) reason = `${reason ?? 'late payment'}; stock was no longer available (oversold by ${order.quantity})`;
    }

    const updated = await trx.updateTable('orders')
      .set({
        status: input.to,
        stock_reserved: stockReserved,
        updated_at: new Date(),
        ...(input.to === 'paid' ? { failure_code: null, failure_message: null, paid_at: input.patch?.paid_at ?? new Date() } : {}),
        ...(input.patch?.failure_code !== undefined ? { failure_code: input.patch.failure_code } : {}),
        ...(input.patch?.failure_message !== undefined ? { failure_message: input.patch.failure_message } : {}),
      })
      .where('id', '=', orderId)
      .returningAll().executeTakeFirstOrThrow();
    await trx.insertInto('order_transitions').values({
      order_id: orderId,
      from_status: order.status,
      to_status: input.to,
      source: input.source,
      stripe_event_id: input.stripeEventId ?? null,
      reason,
    }).execute();
    // The receipt and the seller's "new sale" commit with the payment (not on a refund correction back to paid).
    if (input.to === 'paid' && (order.status === 'pending' || order.status === 'payment_failed')) await enqueueOrderPaidEmails(requireTransaction(trx), updated);
    return { applied: true, order: updated };
  });
}
