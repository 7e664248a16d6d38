// What order pages show about an order, with words for its state (buyer and seller pages alike).
import type { Order } from '../db/schema.ts';

const LABELS: Record<Order['status'], [label: string, badgeClass: string]> = {
  pending: ['Awaiting payment', 'badge-warn'],
  paid: ['Paid', 'badge-ok'],
  payment_failed: ['Payment failed', 'badge-bad'],
  canceled: ['Canceled', 'badge-bad'],
  partially_refunded: ['Partially refunded', 'badge-warn'],
  refunded: ['Refunded', 'badge-warn'],
};

export function orderView(order: Order) {
  const [statusLabel, badgeClass] = LABELS[order.status];
  const platformNet = order.stripe_fee_amount === null ? null : order.application_fee_amount - order.stripe_fee_amount;
  return { ...order, statusLabel, badgeClass, platformNet, isPaid: order.status === 'paid' || order.status === 'partially_refunded' || order.status === 'refunded' };
}
