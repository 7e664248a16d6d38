// Every SQL statement about refunds. Functions that lock rows take a `Transaction`.
import { sql, type Insertable, type Kysely, type Transaction } from 'kysely';
import type { Database, Order, RefundRow, RefundsTable, RefundStatus } from '../db/schema.ts';
import { COUNTED, LIVE } from './rules.ts';

/** What can still be refunded: the order minus every live refund (requested ones included). */
export async function refundableLeft(db: Kysely<Database>, order: Pick<Order, 'id' | 'amount'>): Promise<number> {
  const row = await db
    .selectFrom('refunds')
    .select(sql<number>`coalesce(sum(amount), 0)::bigint`.as('held'))
    .where('order_id', '=', order.id)
    .where('status', 'in', LIVE)
    .executeTakeFirstOrThrow();
  return order.amount - Number(row.held);
}

/** What the order counts as refunded: the refunds whose money left (or is leaving) the platform. */
export async function refundedTotal(trx: Transaction<Database>, orderId: string): Promise<number> {
  const row = await trx
    .selectFrom('refunds')
    .select(sql<number>`coalesce(sum(amount), 0)::bigint`.as('refunded'))
    .where('order_id', '=', orderId)
    .where('status', 'in', COUNTED)
    .executeTakeFirstOrThrow();
  return Number(row.refunded);
}

export async function findRefund(db: Kysely<Database>, refundId: string): Promise<RefundRow | undefined> {
  return db.selectFrom('refunds').selectAll().where('id', '=', refundId).executeTakeFirst();
}

export async function lockRefund(trx: Transaction<Database>, refundId: string): Promise<RefundRow | undefined> {
  return trx.selectFrom('refunds').selectAll().where('id', '=', refundId).forUpdate().executeTakeFirst();
}

export async function lockRefundByStripeId(trx: Transaction<Database>, stripeRefundId: string): Promise<RefundRow | undefined> {
  return trx.selectFrom('refunds').selectAll().where('stripe_refund_id', '=', stripeRefundId).forUpdate().executeTakeFirst();
}

export async function insertRefund(trx: Transaction<Database>, values: Insertable<RefundsTable>): Promise<RefundRow> {
  return trx.insertInto('refunds').values(values).returningAll().executeTakeFirstOrThrow();
}

/** A refund made outside our admin (Stripe's Dashboard), unless a concurrent writer inserted it first. */
export async function insertExternalRefund(trx: Transaction<Database>, values: Insertable<RefundsTable> & { stripe_refund_id: string }): Promise<RefundRow> {
  return (
    (await trx
      .insertInto('refunds')
      .values(values)
      .onConflict((oc) => oc.column('stripe_refund_id').doNothing())
      .returningAll()
      .executeTakeFirst()) ??
    (await trx.selectFrom('refunds').selectAll().where('stripe_refund_id', '=', values.stripe_refund_id).forUpdate().executeTakeFirstOrThrow())
  );
}

/** Stripe refused the refund: only a refund still `requested` can become `rejected`. */
export async function markRefundRejected(trx: Transaction<Database>, refundId: string, message: string): Promise<RefundRow | undefined> {
  return trx
    .updateTable('refunds')
    .set({ status: 'rejected', error_message: message, updated_at: new Date() })
    .where('id', '=', refundId)
    .where('status', '=', 'requested')
    .returningAll()
    .executeTakeFirst();
}

export async function recordRefundSnapshot(
  trx: Transaction<Database>,
  refundId: string,
  snapshot: {
    stripeRefundId: string;
    newer: { status: RefundStatus; observedAt: Date; failureReason: string | null } | undefined;
    transferReversalAmount: number | undefined;
  },
): Promise<void> {
  await trx
    .updateTable('refunds')
    .set({
      stripe_refund_id: snapshot.stripeRefundId,
      ...(snapshot.newer !== undefined
        ? { status: snapshot.newer.status, observed_at: snapshot.newer.observedAt, failure_reason: snapshot.newer.failureReason }
        : {}),
      ...(snapshot.transferReversalAmount !== undefined ? { transfer_reversal_amount: snapshot.transferReversalAmount } : {}),
      updated_at: new Date(),
    })
    .where('id', '=', refundId)
    .execute();
}

/** A refund of ours (by our id, or by Stripe's) without its reversal amount yet, with the order's transfer to read it from. */
export async function refundMissingReversal(db: Kysely<Database>, ids: { refundId: string | undefined; stripeRefundId: string }) {
  return db
    .selectFrom('refunds')
    .innerJoin('orders', 'orders.id', 'refunds.order_id')
    .select(['refunds.id', 'orders.stripe_transfer_id'])
    .where((eb) =>
      eb.or([eb('refunds.stripe_refund_id', '=', ids.stripeRefundId), ...(ids.refundId !== undefined ? [eb('refunds.id', '=', ids.refundId)] : [])]),
    )
    .where('refunds.transfer_reversal_amount', 'is', null)
    .executeTakeFirst();
}

export async function listOrderRefunds(db: Kysely<Database>, orderId: string): Promise<RefundRow[]> {
  return db.selectFrom('refunds').selectAll().where('order_id', '=', orderId).orderBy('created_at').execute();
}
