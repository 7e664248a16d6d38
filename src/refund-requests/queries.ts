// Every SQL statement about buyers' refund requests.
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database, RefundRequest } from '../db/schema.ts';

export async function insertRefundRequest(trx: Transaction<Database>, values: { orderId: string; buyerId: string; reason: string }): Promise<RefundRequest> {
  return trx
    .insertInto('refund_requests')
    .values({ order_id: values.orderId, buyer_id: values.buyerId, reason: values.reason })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function openRequestOf(db: Kysely<Database>, orderId: string): Promise<RefundRequest | undefined> {
  return db.selectFrom('refund_requests').selectAll().where('order_id', '=', orderId).where('status', '=', 'requested').executeTakeFirst();
}

export async function findRefundRequest(db: Kysely<Database>, requestId: string, orderId: string): Promise<RefundRequest | undefined> {
  return db.selectFrom('refund_requests').selectAll().where('id', '=', requestId).where('order_id', '=', orderId).executeTakeFirst();
}

export async function lockRefundRequest(trx: Transaction<Database>, requestId: string): Promise<RefundRequest | undefined> {
  return trx.selectFrom('refund_requests').selectAll().where('id', '=', requestId).forUpdate().executeTakeFirst();
}

/** Approval's first step: the request points at its refund, recorded in the same transaction. */
export async function linkRefund(trx: Transaction<Database>, requestId: string, refundId: string): Promise<void> {
  await trx.updateTable('refund_requests').set({ refund_id: refundId }).where('id', '=', requestId).where('status', '=', 'requested').execute();
}

export async function recordDecision(
  trx: Transaction<Database>,
  requestId: string,
  decision: {
    status: 'approved' | 'declined';
    decidedBy: string;
    role: 'seller' | 'admin';
    reason: string | null;
    refundId: string | null;
  },
): Promise<RefundRequest | undefined> {
  return trx
    .updateTable('refund_requests')
    .set({
      status: decision.status,
      decided_by: decision.decidedBy,
      decided_by_role: decision.role,
      decision_reason: decision.reason,
      decided_at: new Date(),
      refund_id: decision.refundId,
    })
    .where('id', '=', requestId)
    .where('status', '=', 'requested')
    .returningAll()
    .executeTakeFirst();
}

/** Who sent a refund (pressed Approve, for a request's refund), with their role; undefined if nobody on record. */
export async function refundSender(trx: Transaction<Database>, refundId: string): Promise<{ id: string; email: string; role: string } | undefined> {
  return trx
    .selectFrom('refunds')
    .innerJoin('users', 'users.id', 'refunds.requested_by')
    .select(['users.id', 'users.email', 'users.role'])
    .where('refunds.id', '=', refundId)
    .executeTakeFirst();
}

/** Adds the decider's note to an approval recorded without one (Stripe's event recorded it first). */
export async function addApprovalNote(trx: Transaction<Database>, requestId: string, note: string): Promise<RefundRequest | undefined> {
  return trx
    .updateTable('refund_requests')
    .set({ decision_reason: note })
    .where('id', '=', requestId)
    .where('status', '=', 'approved')
    .where('decision_reason', 'is', null)
    .returningAll()
    .executeTakeFirst();
}

/**
 * An order's requests, newest first (the buyer's, seller's and admin's order pages show them), each
 * with `refund_sent`: an approval recorded its refund (whose id is the request's) and Stripe did not
 * refuse it, so the request can only be approved (finished), no longer declined.
 */
export async function listOrderRefundRequests(db: Kysely<Database>, orderId: string): Promise<(RefundRequest & { refund_sent: boolean })[]> {
  return db
    .selectFrom('refund_requests')
    .leftJoin('refunds', 'refunds.id', 'refund_requests.id')
    .selectAll('refund_requests')
    .select(sql<boolean>`coalesce(refunds.status <> 'rejected', false)`.as('refund_sent'))
    .where('refund_requests.order_id', '=', orderId)
    .orderBy('refund_requests.created_at', 'desc')
    .execute();
}

/** Requests still waiting for an answer, the longest-waiting first, with what the admin list shows (`refund_sent` as above). */
export async function listOpenRefundRequests(db: Kysely<Database>, limit: number) {
  return db
    .selectFrom('refund_requests')
    .innerJoin('orders', 'orders.id', 'refund_requests.order_id')
    .innerJoin('users as seller', 'seller.id', 'orders.seller_id')
    .leftJoin('refunds', 'refunds.id', 'refund_requests.id')
    .select(sql<boolean>`coalesce(refunds.status <> 'rejected', false)`.as('refund_sent'))
    .select([
      'refund_requests.id',
      'refund_requests.order_id',
      'refund_requests.reason',
      'refund_requests.created_at',
      'orders.title',
      'orders.amount',
      'orders.amount_refunded',
      'orders.currency',
      'orders.buyer_email',
      'seller.display_name as seller_name',
    ])
    .where('refund_requests.status', '=', 'requested')
    .orderBy('refund_requests.created_at')
    .orderBy('refund_requests.id')
    .limit(limit)
    .execute();
}
