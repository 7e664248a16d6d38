// The admin's refunds of orders (destination charges), following the rule for every Stripe call:
//   (a) one short transaction, under the order's row lock, checks the amount against what is left
//       (the order minus every live refund, `requested` ones included, so two refunds can never
//       together exceed the order) and records the refund as `requested`, its id being the form's
//       nonce and its idempotency key `refund:<id>`; with its audit entry;
//   (b) commit;
//   (c) `refunds.create` with that key and nothing open. A second submit of the same form finds the
//       row and sends the same key: Stripe makes one refund, and the second gets its answer;
//   (d) a second short transaction records Stripe's answer like any event would (newest snapshot
//       wins), so whichever of the answer and the refund.* events comes first, the other is a no-op.
// If we stop between (c) and (d), the row stays `requested` (its amount held): "send again" sends
// the same key and Stripe returns the same refund, and the refund's events carry
// `metadata.refund_id`, so the webhook handlers record it on our row either way.
import type { Kysely, Transaction } from 'kysely';
import type Stripe from 'stripe';
import { hasAuditEntry, recordAudit, type Actor } from '../admin/audit.ts';
import { getSetting } from '../admin/settings.ts';
import type { Database, Order, RefundRow } from '../db/schema.ts';
import { DomainError, found } from '../errors.ts';
import { amountFromForm } from '../money-input.ts';
import { listOrderDisputes } from '../disputes/queries.ts';
import { findOrder, lockOrder, recordOrderMoney } from '../orders/queries.ts';
import { classifyStripeError } from '../stripe/errors.ts';
import { sendKeyed } from '../stripe/keyed.ts';
import { findRefund, insertRefund, lockRefund, markRefundRejected, refundableLeft } from './queries.ts';
import { checkNotDisputed, checkRefundAmount, checkRefundable, refundIdempotencyKey, refundParams, type RefundReason } from './rules.ts';
import { applyStripeRefund } from './sync.ts';

export interface RefundRequest {
  /** The form's nonce: it becomes our refund's id, so the same form twice is the same refund. */
  refundId: string;
  orderId: string;
  /** As typed, in the order's currency ("25.00"). */
  amount: string;
  reason: RefundReason | null;
  reverseTransfer: boolean;
  refundApplicationFee: boolean;
}

export interface RefundPreview {
  order: Order;
  amount: number;
}

/** What a refund would do, checked like the real one (before the admin confirms it). */
export async function previewRefund(db: Kysely<Database>, request: RefundRequest): Promise<RefundPreview> {
  const order = found(await findOrder(db, request.orderId));
  const amount = amountFromForm(request.amount, order.currency);
  const existing = await findRefund(db, request.refundId);
  if (existing === undefined) {
    checkRefundable(order);
    checkNotDisputed(await listOrderDisputes(db, order.id));
    checkRefundAmount(order, await refundableLeft(db, order), amount);
  }
  return { order, amount };
}

/** The confirmed refund: records it (a, b), then sends it (c, d). */
export async function requestRefund(db: Kysely<Database>, stripe: Stripe, actor: Actor, request: RefundRequest): Promise<RefundRow> {
  await db.transaction().execute((trx) => recordRequestedRefund(trx, actor, request));
  return sendRefund(db, stripe, actor, request.refundId);
}

/**
 * Step (a) inside the caller's transaction: under the order's lock, checks the amount and records
 * the refund as `requested` with its audit entry (the same form again is the first one's refund).
 * A caller that decides something with the refund (a buyer's request) does so in this transaction.
 */
export async function recordRequestedRefund(trx: Transaction<Database>, actor: Actor, request: RefundRequest): Promise<void> {
  const order = found(await lockOrder(trx, request.orderId));
  const amount = amountFromForm(request.amount, order.currency);
  const existing = await lockRefund(trx, request.refundId);
  if (existing !== undefined) {
    // The same form again (double click, retry): the first submit's refund, never a second one.
    if (existing.order_id !== order.id || existing.amount !== amount) throw new DomainError('refund_form_reused');
    return;
  }
  checkRefundable(order);
  checkNotDisputed(await listOrderDisputes(trx, order.id));
  const left = await refundableLeft(trx, order);
  checkRefundAmount(order, left, amount);
  const refund = await insertRefund(trx, {
    id: request.refundId,
    order_id: order.id,
    amount,
    currency: order.currency,
    reason: request.reason,
    reverse_transfer: request.reverseTransfer,
    refund_application_fee: request.refundApplicationFee,
    requested_by: actor.id,
  });
  await recordAudit(trx, actor, {
    action: 'refund.request',
    targetType: 'order',
    targetId: order.id,
    before: { status: order.status, amount_refunded: order.amount_refunded, refundable: left },
    after: {
      refund_id: refund.id,
      amount: refund.amount,
      currency: refund.currency,
      reverse_transfer: refund.reverse_transfer,
      refund_application_fee: refund.refund_application_fee,
      reason: refund.reason,
    },
  });
}

/**
 * Sends a `requested` refund to Stripe (again: "send again" after a lost answer), with its key; the
 * refund as it is afterwards. Stripe refusing marks it `rejected`; no answer leaves it `requested`.
 */
export async function sendRefund(db: Kysely<Database>, stripe: Stripe, actor: Actor, refundId: string): Promise<RefundRow> {
  const row = found(await findRefund(db, refundId));
  if (row.status === 'rejected') throw new DomainError('refund_refused', { reason: row.error_message ?? 'Stripe refused this refund.' });
  if (row.status !== 'requested') return row;
  const order = found(await findOrder(db, row.order_id));

  let refund: Stripe.Refund;
  try {
    refund = await sendKeyed(() => stripe.refunds.create(refundParams(order, row), { idempotencyKey: refundIdempotencyKey(row.id) }));
  } catch (error) {
    const problem = classifyStripeError(error);
    if (problem === undefined) throw error;
    if (problem.kind === 'unavailable') throw new DomainError('stripe_outcome_unknown');
    await db.transaction().execute(async (trx) => {
      const rejected = await markRefundRejected(trx, row.id, problem.message);
      if (rejected !== undefined) {
        await recordAudit(trx, actor, {
          action: 'refund.rejected',
          targetType: 'order',
          targetId: order.id,
          before: { refund_id: row.id, status: 'requested' },
          after: { status: 'rejected', error: problem.message },
        });
      }
    });
    throw new DomainError('refund_refused', { reason: problem.message });
  }

  const saved = await db.transaction().execute(async (trx) => {
    await applyStripeRefund(trx, refund, { observedAt: new Date(refund.created * 1000), source: 'admin' });
    const after = (await lockRefund(trx, row.id))!;
    if (!(await hasAuditEntry(trx, 'refund.create', 'refund_id', row.id))) {
      await recordAudit(trx, actor, {
        action: 'refund.create',
        targetType: 'order',
        targetId: order.id,
        before: { refund_id: row.id, status: 'requested', order_status: order.status, amount_refunded: order.amount_refunded },
        after: {
          refund_id: row.id,
          stripe_refund: refund.id,
          status: after.status,
          amount: refund.amount,
          transfer_reversal_amount: after.transfer_reversal_amount,
        },
      });
    }
    return after;
  });
  // Fee and transfer totals for the breakdown now rather than when the events arrive (best
  // effort: the application_fee.refunded / transfer.reversed handlers record the same numbers).
  await refreshOrderMoney(db, stripe, order).catch(() => undefined);
  return saved;
}

/** The admin form's starting values. */
export async function refundDefaults(db: Kysely<Database>): Promise<{ reverseTransfer: boolean; refundApplicationFee: boolean }> {
  return { reverseTransfer: true, refundApplicationFee: await getSetting(db, 'refunds.refund_application_fee') };
}

/** Reads what came back from the fee and the seller's transfer at Stripe, then records it (totals only grow). */
async function refreshOrderMoney(db: Kysely<Database>, stripe: Stripe, order: Order): Promise<void> {
  const [fee, transfer] = await Promise.all([
    order.stripe_application_fee_id !== null ? stripe.applicationFees.retrieve(order.stripe_application_fee_id) : undefined,
    order.stripe_transfer_id !== null ? stripe.transfers.retrieve(order.stripe_transfer_id) : undefined,
  ]);
  await recordOrderMoney(db, order.id, { feeRefunded: fee?.amount_refunded ?? 0, transferReversed: transfer?.amount_reversed ?? 0 });
}
