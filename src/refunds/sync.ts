// Stripe's word about refunds, in the two steps of every Stripe exchange: what to read from Stripe
// (with no transaction open), and `applyStripeRefund`, which records a snapshot inside the caller's
// transaction and brings the order's refunded total and status in line. The admin's refund (its
// answer), the refund webhooks and a refund made in Stripe's Dashboard all end here.
import { enqueueRefundIssuedEmail } from '../email/messages.ts';
import type { Kysely, Transaction } from 'kysely';
import type Stripe from 'stripe';
import type { Database, RefundStatus } from '../db/schema.ts';
import { isUuid } from '../ids.ts';
import { formatMoney } from '../money.ts';
import { findOrderByPayment, recordAmountRefunded, lockOrder, transitionOrder } from '../orders/queries.ts';
import type { TransitionSource } from '../orders/rules.ts';
import { insertExternalRefund, lockRefund, lockRefundByStripeId, recordRefundSnapshot, refundedTotal, refundMissingReversal } from './queries.ts';
import { isNewerSnapshot, refundStageFor, type RefundReason } from './rules.ts';
import { idOf } from '../stripe/ids.ts';

export interface RefundContext {
  /** When the snapshot was true, on Stripe's clock: the event's `created`, or the refund's for an API answer. */
  observedAt: Date;
  source: TransitionSource;
  stripeEventId?: string | null;
}

/** Read phase: every refund of a charge, as Stripe has them now (charge.refunded names none). */
export async function readChargeRefunds(stripe: Stripe, chargeId: string): Promise<Stripe.Refund[]> {
  return (await stripe.refunds.list({ charge: chargeId, limit: 100 })).data;
}

/**
 * Read phase: the amount of a refund's transfer reversal when the payload names it only by id and
 * we never recorded the API answer that carried it (a crash, a lost answer). Undefined otherwise.
 */
export async function readMissingReversalAmount(db: Kysely<Database>, stripe: Stripe, refund: Stripe.Refund): Promise<number | undefined> {
  if (typeof refund.transfer_reversal !== 'string') return undefined;
  const ourId = refund.metadata?.refund_id;
  const row = await refundMissingReversal(db, { refundId: isUuid(ourId) ? ourId : undefined, stripeRefundId: refund.id });
  if (row?.stripe_transfer_id == null) return undefined;
  return (await stripe.transfers.retrieveReversal(row.stripe_transfer_id, refund.transfer_reversal)).amount;
}

/**
 * Records a Stripe refund snapshot. Finds our row by `metadata.refund_id`, then by the Stripe id; a
 * refund made outside our admin gets a row of its own so the order's totals stay true. Older
 * snapshots never overwrite newer ones. Then the order's refunded total and status follow.
 */
export async function applyStripeRefund(
  trx: Transaction<Database>,
  refund: Stripe.Refund,
  ctx: RefundContext,
  reversalAmount?: number,
): Promise<{ refundId: string; status: RefundStatus } | undefined> {
  const ourId = refund.metadata?.refund_id;
  let row = isUuid(ourId) ? await lockRefund(trx, ourId) : undefined;
  row ??= await lockRefundByStripeId(trx, refund.id);
  if (row === undefined) {
    const order = await findOrderByPayment(trx, { chargeId: idOf(refund.charge), paymentIntentId: idOf(refund.payment_intent) });
    if (order === undefined) return undefined; // not one of our orders
    row = await insertExternalRefund(trx, {
      id: crypto.randomUUID(),
      order_id: order.id,
      amount: refund.amount,
      currency: refund.currency,
      reason: (refund.reason as RefundReason | null) ?? null,
      reverse_transfer: refund.transfer_reversal !== null,
      refund_application_fee: false,
      status: 'requested',
      stripe_refund_id: refund.id,
    });
  }
  const status = refund.status as RefundStatus;
  const newer = isNewerSnapshot(row, ctx.observedAt, status);
  const reversal = typeof refund.transfer_reversal === 'object' && refund.transfer_reversal !== null ? refund.transfer_reversal.amount : reversalAmount;
  const reversalToRecord = reversal !== undefined && (newer || row.transfer_reversal_amount === null) ? reversal : undefined;
  if (newer || row.stripe_refund_id === null || reversalToRecord !== undefined) {
    await recordRefundSnapshot(trx, row.id, {
      stripeRefundId: refund.id,
      newer: newer ? { status, observedAt: ctx.observedAt, failureReason: refund.failure_reason ?? null } : undefined,
      transferReversalAmount: reversalToRecord,
    });
  }
  await syncOrderRefunds(trx, row.order_id, ctx);
  await enqueueRefundIssuedEmail(trx, row.id); // once it has succeeded
  return { refundId: row.id, status: newer ? status : row.status };
}

/** Refund statuses that mean Stripe took the refund (failed and canceled ones did not go through). */
export const ACCEPTED_REFUND_STATUSES: ReadonlySet<RefundStatus> = new Set<RefundStatus>(['pending', 'requires_action', 'succeeded']);

/** The order's refunded total from its refunds, and its status through the orders state machine. */
async function syncOrderRefunds(trx: Transaction<Database>, orderId: string, ctx: RefundContext): Promise<void> {
  const order = await lockOrder(trx, orderId);
  if (order === undefined) return;
  const refunded = await refundedTotal(trx, orderId);
  if (refunded !== order.amount_refunded) await recordAmountRefunded(trx, orderId, refunded);
  const stage = refundStageFor(order, refunded);
  if (stage === undefined) return;
  await transitionOrder(trx, orderId, {
    to: stage.to,
    source: ctx.source === 'admin' ? 'admin' : 'webhook',
    stripeEventId: ctx.stripeEventId ?? null,
    ...(stage.correction ? { correction: 'refund_failed' as const } : {}),
    reason: stage.correction
      ? `a refund failed; refunded now ${formatMoney(refunded, order.currency)} of ${formatMoney(order.amount, order.currency)}`
      : `refunded ${formatMoney(refunded, order.currency)} of ${formatMoney(order.amount, order.currency)}`,
  });
}
