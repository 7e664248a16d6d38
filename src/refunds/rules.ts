// The rules of refunds, with no database and no Stripe: which refunds hold part of an order, how
// much can still be refunded, and which of two Stripe snapshots of a refund is the newer.
import type Stripe from 'stripe';
import type { Order, OrderStatus, RefundStatus } from '../db/schema.ts';
import { DomainError } from '../errors.ts';

export type RefundReason = 'duplicate' | 'fraudulent' | 'requested_by_customer';

/** Refunds that hold part of the order: requested (maybe at Stripe already) or accepted by Stripe. */
export const LIVE: RefundStatus[] = ['requested', 'pending', 'requires_action', 'succeeded'];
/** Refunds whose money has left (or is leaving) the platform: what the order counts as refunded. */
export const COUNTED: RefundStatus[] = ['pending', 'requires_action', 'succeeded'];
const REFUNDABLE_ORDER: OrderStatus[] = ['paid', 'partially_refunded'];

export function refundIdempotencyKey(refundId: string): string {
  return `refund:${refundId}`;
}

/** Whether the order can be refunded at all (before any amount is looked at). */
export function checkRefundable(order: Pick<Order, 'status' | 'stripe_payment_intent_id' | 'stripe_charge_id'>): void {
  if (!REFUNDABLE_ORDER.includes(order.status)) throw new DomainError('order_not_refundable', { status: order.status });
  if (order.stripe_payment_intent_id === null && order.stripe_charge_id === null) throw new DomainError('order_has_no_payment');
}

/**
 * A chargeback (any dispute but an inquiry, whose status starts with `warning_`) makes the charge
 * unrefundable at Stripe (`is_charge_refundable` false): open, won or lost, a refund is refused.
 */
export function chargebackOf<D extends { status: string }>(disputes: readonly D[]): D | undefined {
  return disputes.find((d) => !d.status.startsWith('warning_'));
}

export function checkNotDisputed(disputes: readonly { status: string }[]): void {
  const chargeback = chargebackOf(disputes);
  if (chargeback !== undefined) throw new DomainError('order_disputed', { status: chargeback.status });
}

/** The one check of a refund's amount against what is left of the order (`left`: see refundableLeft). */
export function checkRefundAmount(order: Pick<Order, 'amount' | 'currency'>, left: number, amount: number): void {
  if (amount <= 0) throw new DomainError('amount_not_positive');
  if (amount > left) throw new DomainError('refund_exceeds_remaining', { left: Math.max(0, left), orderAmount: order.amount, currency: order.currency });
}

export function refundParams(
  order: Pick<Order, 'id' | 'stripe_payment_intent_id' | 'stripe_charge_id'>,
  refund: { id: string; amount: number; reason: RefundReason | null; reverse_transfer: boolean; refund_application_fee: boolean },
): Stripe.RefundCreateParams {
  return {
    ...(order.stripe_payment_intent_id !== null ? { payment_intent: order.stripe_payment_intent_id } : { charge: order.stripe_charge_id! }),
    amount: refund.amount,
    ...(refund.reason !== null ? { reason: refund.reason } : {}),
    reverse_transfer: refund.reverse_transfer,
    refund_application_fee: refund.refund_application_fee,
    metadata: { refund_id: refund.id, order_id: order.id },
    expand: ['transfer_reversal'],
  };
}

const RANK: Record<RefundStatus, number> = { requested: 0, rejected: 0, pending: 1, requires_action: 1, succeeded: 2, failed: 3, canceled: 3 };

/** A snapshot observed at `observedAt` replaces what we stored unless ours is newer (same instant: the later status wins). */
export function isNewerSnapshot(stored: { observed_at: Date | null; status: RefundStatus }, observedAt: Date, status: RefundStatus): boolean {
  const at = stored.observed_at;
  return at === null || at.getTime() < observedAt.getTime() || (at.getTime() === observedAt.getTime() && RANK[status] >= RANK[stored.status]);
}

type RefundStage = 'paid' | 'partially_refunded' | 'refunded';
const STAGE_RANK: Record<RefundStage, number> = { paid: 0, partially_refunded: 1, refunded: 2 };

/**
 * Where the order's status should be for `refunded` of its amount: forward as refunds succeed,
 * backward (a correction the state machine allows only on purpose) when a refund Stripe had
 * reported as succeeded fails later. Undefined when the order is not in a refund stage or already there.
 */
export function refundStageFor(order: Pick<Order, 'status' | 'amount'>, refunded: number): { to: RefundStage; correction: boolean } | undefined {
  const to: RefundStage = refunded >= order.amount ? 'refunded' : refunded > 0 ? 'partially_refunded' : 'paid';
  if (to === order.status || !(order.status in STAGE_RANK)) return undefined;
  return { to, correction: STAGE_RANK[to] < STAGE_RANK[order.status as RefundStage] };
}
