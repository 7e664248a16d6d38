// A buyer asks for a refund of a paid order; the order's seller or an admin approves or declines it.
// Approval is a refund through the refunds use case (src/refunds/use-cases.ts, with its transaction
// rule, idempotency key and audit entries) whose id is the request's own: approving twice, or
// again after a crash between the refund and the decision, sends the same refund, never a second.
// The refund takes back the seller's transfer (the seller pays for what they accept or the
// admin rules) and the platform's fee by the platform's setting, as an admin's refund does.
import type { Kysely } from 'kysely';
import type Stripe from 'stripe';
import { recordAudit } from '../admin/audit.ts';
import type { Database, RefundRequest, Role } from '../db/schema.ts';
import { enqueueRefundRequestedEmail } from '../email/messages.ts';
import { DomainError, found } from '../errors.ts';
import { toDecimalString } from '../money.ts';
import { findOrder, lockOrder } from '../orders/queries.ts';
import { findRefund, refundableLeft } from '../refunds/queries.ts';
import { checkRefundable } from '../refunds/rules.ts';
import { refundDefaults, requestRefund } from '../refunds/use-cases.ts';
import { findRefundRequest, insertRefundRequest, lockRefundRequest, openRequestOf, recordDecision } from './queries.ts';

export interface Decider {
  id: string;
  email: string;
  role: Role;
}

/** The buyer's request: their own paid order with something left to refund, one open request at a time. */
export async function askForRefund(db: Kysely<Database>, input: { buyerId: string; orderId: string; reason: string }): Promise<RefundRequest> {
  return db.transaction().execute(async (trx) => {
    const order = await lockOrder(trx, input.orderId);
    if (order === undefined || order.buyer_id !== input.buyerId) throw new DomainError('not_found');
    checkRefundable(order);
    if ((await refundableLeft(trx, order)) <= 0)
      throw new DomainError('refund_exceeds_remaining', { left: 0, orderAmount: order.amount, currency: order.currency });
    if ((await openRequestOf(trx, order.id)) !== undefined) throw new DomainError('refund_request_open');
    const request = await insertRefundRequest(trx, { orderId: order.id, buyerId: input.buyerId, reason: input.reason.trim() });
    await enqueueRefundRequestedEmail(trx, order, request);
    return request;
  });
}

/** The request, if `decider` may decide it: the order's seller, or any admin. Others get not_found. */
async function requestFor(db: Kysely<Database>, decider: Decider, orderId: string, requestId: string) {
  const order = found(await findOrder(db, orderId));
  if (decider.role === 'buyer' || (decider.role === 'seller' && order.seller_id !== decider.id)) throw new DomainError('not_found');
  return { order, request: found(await findRefundRequest(db, requestId, orderId)) };
}

function deciderRole(decider: Decider): 'seller' | 'admin' {
  return decider.role === 'admin' ? 'admin' : 'seller';
}

/** Declined, with the reason the buyer will read. */
export async function declineRefundRequest(
  db: Kysely<Database>,
  decider: Decider,
  input: { orderId: string; requestId: string; reason: string },
): Promise<RefundRequest> {
  const reason = input.reason.trim();
  if (reason === '') throw new DomainError('decline_needs_reason');
  await requestFor(db, decider, input.orderId, input.requestId);
  return db.transaction().execute(async (trx) => {
    const locked = found(await lockRefundRequest(trx, input.requestId));
    if (locked.status !== 'requested') throw new DomainError('refund_request_decided', { status: locked.status });
    const declined = (await recordDecision(trx, locked.id, { status: 'declined', decidedBy: decider.id, role: deciderRole(decider), reason, refundId: null }))!;
    await recordAudit(trx, decider, {
      action: 'refund_request.decline',
      targetType: 'order',
      targetId: input.orderId,
      before: { request_id: locked.id, status: 'requested' },
      after: { status: 'declined', reason, by: deciderRole(decider) },
    });
    return declined;
  });
}

/** Approved: the remaining amount is refunded (a), (b), (c), (d) by the refunds use case, then the decision recorded. */
export async function approveRefundRequest(
  db: Kysely<Database>,
  stripe: Stripe,
  decider: Decider,
  input: { orderId: string; requestId: string; note?: string },
): Promise<RefundRequest> {
  const { order, request } = await requestFor(db, decider, input.orderId, input.requestId);
  if (request.status !== 'requested') throw new DomainError('refund_request_decided', { status: request.status });
  // A refund already made for this request (a crash before the decision was recorded) keeps its amount.
  const earlier = await findRefund(db, request.id);
  const amount = earlier?.amount ?? (await refundableLeft(db, order));
  const { refundApplicationFee } = await refundDefaults(db);
  const refund = await requestRefund(db, stripe, decider, {
    refundId: request.id,
    orderId: order.id,
    amount: toDecimalString(amount, order.currency),
    reason: 'requested_by_customer',
    reverseTransfer: true,
    refundApplicationFee,
  });
  return db.transaction().execute(async (trx) => {
    const decided = await recordDecision(trx, request.id, {
      status: 'approved',
      decidedBy: decider.id,
      role: deciderRole(decider),
      reason: input.note?.trim() || null,
      refundId: refund.id,
    });
    if (decided === undefined) return found(await lockRefundRequest(trx, request.id)); // the other click recorded it
    await recordAudit(trx, decider, {
      action: 'refund_request.approve',
      targetType: 'order',
      targetId: order.id,
      before: { request_id: request.id, status: 'requested' },
      after: { status: 'approved', refund_id: refund.id, amount: refund.amount, by: deciderRole(decider) },
    });
    return decided;
  });
}
