// A buyer asks for a refund of a paid order; the order's seller or an admin approves or declines it.
// Approval is a refund through the refunds use case (src/refunds/use-cases.ts, with its transaction
// rule, idempotency key and audit entries) whose id is the request's own: approving twice, or
// again after a crash between the refund and the decision, sends the same refund, never a second.
// The refund is recorded in the transaction that checks the request is still open, so an approval
// and a decline exclude each other: once the refund exists a decline is refused.
// The refund takes back the seller's transfer (the seller pays for what they accept or the
// admin rules) and the platform's fee by the platform's setting, as an admin's refund does.
import type { Kysely, Transaction } from 'kysely';
import type Stripe from 'stripe';
import { recordAudit } from '../admin/audit.ts';
import type { Database, RefundRequest, RefundRow, Role } from '../db/schema.ts';
import { enqueueRefundRequestedEmail } from '../email/messages.ts';
import { DomainError, found } from '../errors.ts';
import { toDecimalString } from '../money.ts';
import { findOrder, lockOrder } from '../orders/queries.ts';
import { lockRefund, refundableLeft } from '../refunds/queries.ts';
import { checkRefundable } from '../refunds/rules.ts';
import { recordRequestedRefund, refundDefaults, sendRefund } from '../refunds/use-cases.ts';
import {
  addApprovalNote,
  findRefundRequest,
  insertRefundRequest,
  linkRefund,
  lockRefundRequest,
  openRequestOf,
  recordDecision,
  refundSender,
} from './queries.ts';

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

/** Declined, with the reason the buyer will read; refused once an approval sent the request's refund. */
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
    // An approval records the refund under this lock before asking Stripe; unless Stripe refused
    // it (nothing moved), the buyer is being refunded, and "Declined" would be untrue.
    const refund = await lockRefund(trx, locked.id);
    if (refund !== undefined && refund.status !== 'rejected') throw new DomainError('refund_request_refund_sent');
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

/**
 * Approved: the remaining amount is refunded by the refunds use case, (a) and (b) in the same
 * transaction as the decision's first step: under the request's lock (the one a decline takes) it
 * must still be `requested`, its refund is recorded and linked to it, and only then is Stripe asked
 * (c, with the refund's key); the decision is recorded with Stripe's answer (d). No answer from
 * Stripe leaves the request open with its refund: approving again sends the same refund and
 * finishes it, and a decline is refused. Stripe refusing leaves it open, to be declined.
 */
export async function approveRefundRequest(
  db: Kysely<Database>,
  stripe: Stripe,
  decider: Decider,
  input: { orderId: string; requestId: string; note?: string },
): Promise<{ request: RefundRequest; refund: RefundRow }> {
  const { order, request } = await requestFor(db, decider, input.orderId, input.requestId);
  const { refundApplicationFee } = await refundDefaults(db);
  await db.transaction().execute(async (trx) => {
    const locked = found(await lockRefundRequest(trx, request.id));
    if (locked.status !== 'requested') throw new DomainError('refund_request_decided', { status: locked.status });
    const lockedOrder = found(await lockOrder(trx, order.id));
    // A refund already made for this request (an approval whose answer was lost) keeps its amount.
    const earlier = await lockRefund(trx, request.id);
    const amount = earlier?.amount ?? (await refundableLeft(trx, lockedOrder));
    await recordRequestedRefund(trx, decider, {
      refundId: request.id,
      orderId: order.id,
      amount: toDecimalString(amount, order.currency),
      reason: 'requested_by_customer',
      reverseTransfer: true,
      refundApplicationFee,
    });
    await linkRefund(trx, request.id, request.id);
  });
  const refund = await sendRefund(db, stripe, decider, request.id);
  const note = input.note?.trim() || null;
  const decided = await db.transaction().execute(async (trx) => {
    const recorded = await recordDecision(trx, request.id, {
      status: 'approved',
      decidedBy: decider.id,
      role: deciderRole(decider),
      reason: note,
      refundId: refund.id,
    });
    if (recorded === undefined) {
      // Another approval, or Stripe's refund event (finishApprovalFromStripe), recorded it first; the note is this one's.
      const current = found(await lockRefundRequest(trx, request.id));
      return (note !== null && current.status === 'approved' ? await addApprovalNote(trx, request.id, note) : undefined) ?? current;
    }
    await recordAudit(trx, decider, {
      action: 'refund_request.approve',
      targetType: 'order',
      targetId: order.id,
      before: { request_id: request.id, status: 'requested' },
      after: { status: 'approved', refund_id: refund.id, amount: refund.amount, by: deciderRole(decider) },
    });
    return recorded;
  });
  // A decline is refused once the refund exists, so only an approval can have decided it.
  if (decided.status !== 'approved') throw new DomainError('refund_request_decided', { status: decided.status });
  return { request: decided, refund };
}

/**
 * Stripe's event says it took the refund an approval sent, and the request is still open: the
 * approval never heard Stripe's answer (a lost connection, a crash) and nobody pressed Approve again.
 * The request is recorded approved by whoever pressed Approve, with the audit entry that approval
 * would have written, so the buyer, seller and admin read "approved" on an order Stripe refunded.
 * Anything else (no such request, already decided) is left as it is. Runs in the event's transaction.
 */
export async function finishApprovalFromStripe(trx: Transaction<Database>, refundId: string): Promise<void> {
  const sender = await refundSender(trx, refundId);
  if (sender === undefined) return;
  const role = sender.role === 'admin' ? 'admin' : 'seller';
  const recorded = await recordDecision(trx, refundId, { status: 'approved', decidedBy: sender.id, role, reason: null, refundId });
  if (recorded === undefined) return;
  await recordAudit(trx, sender, {
    action: 'refund_request.approve',
    targetType: 'order',
    targetId: recorded.order_id,
    before: { request_id: recorded.id, status: 'requested' },
    after: { status: 'approved', refund_id: refundId, by: role, recorded_from: "Stripe's refund event" },
  });
}
