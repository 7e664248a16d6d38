// What order pages show about an order, with words for its state (buyer and seller pages alike).
import type { Order } from '../db/schema.ts';
import { FULFILMENT_WORDS, shipToLines } from '../orders/shipping.ts';

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
  const shipTo = order.ship_to === null ? null : { name: order.ship_to.name, lines: shipToLines(order.ship_to) };
  const isPaid = order.status === 'paid' || order.status === 'partially_refunded' || order.status === 'refunded';
  // Where a paid physical order is on its way to the buyer (none for digital or unpaid orders).
  const fulfilmentWords = isPaid && order.fulfilment_status !== null ? FULFILMENT_WORDS[order.fulfilment_status] : null;
  return {
    ...order,
    statusLabel,
    badgeClass,
    platformNet,
    shipTo,
    fulfilmentWords,
    isPaid: order.status === 'paid' || order.status === 'partially_refunded' || order.status === 'refunded',
  };
}
