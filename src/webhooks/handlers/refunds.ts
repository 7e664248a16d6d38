// Refund family: refund.* and charge.refunded move our refunds and their orders (src/refunds/), and
// application_fee.refunded / transfer.reversed keep each order's "came back from the fee / from the
// seller" totals. Every handler records a snapshot as of `event.created` (older never overwrites
// newer) or a total that only grows (GREATEST), so duplicates and any order converge. What they
// need from Stripe is read before their transaction opens.
import type { Transaction } from 'kysely';
import type Stripe from 'stripe';
import type { Database } from '../../db/schema.ts';
import { findOrderByFeeOrTransfer, findOrderByPayment, recordOrderMoney } from '../../orders/queries.ts';
import { finishApprovalFromStripe } from '../../refund-requests/use-cases.ts';
import { ACCEPTED_REFUND_STATUSES, applyStripeRefund, readChargeRefunds, readMissingReversalAmount } from '../../refunds/sync.ts';
import { idOf } from '../../stripe/ids.ts';
import type { ApplyOnly, EventHandler, HandlerRegistry } from '../handler.ts';

const at = (event: { created: number }) => new Date(event.created * 1000);

/**
 * Records a refund as Stripe has it; when Stripe took it and it is a buyer's request's refund whose
 * approval never heard the answer, that request is approved (src/refund-requests).
 */
async function recordRefund(db: Transaction<Database>, refund: Stripe.Refund, event: Stripe.Event, reversalAmount?: number): Promise<void> {
  const recorded = await applyStripeRefund(db, refund, { observedAt: at(event), source: 'webhook', stripeEventId: event.id }, reversalAmount);
  if (recorded !== undefined && ACCEPTED_REFUND_STATUSES.has(recorded.status)) await finishApprovalFromStripe(db, recorded.refundId);
}

const refundEvent: EventHandler<'refund.created' | 'refund.updated' | 'refund.failed', number | undefined> = {
  // The reversal's amount, if our own write of the API answer never happened (crash, lost answer).
  read: (event, { db, stripe }) => readMissingReversalAmount(db, stripe, event.data.object),
  async apply(event, { db, facts }) {
    await recordRefund(db, event.data.object, event, facts);
  },
};

// "Fires for partial refunds too; listen to refund.created for details" (stripe-facts §5): the
// charge tells us which refunds exist, so re-read them — this also catches a refund whose own
// event was lost, and one made in Stripe's Dashboard.
const chargeRefunded: EventHandler<'charge.refunded', { orderId: string; refunds: Stripe.Refund[] } | undefined> = {
  async read(event, { db, stripe }) {
    const charge = event.data.object;
    const order = await findOrderByPayment(db, { chargeId: charge.id, paymentIntentId: idOf(charge.payment_intent) });
    return order === undefined ? undefined : { orderId: order.id, refunds: await readChargeRefunds(stripe, charge.id) };
  },
  async apply(event, { db, facts }) {
    if (facts === undefined) return;
    for (const refund of facts.refunds) {
      await recordRefund(db, refund, event);
    }
    await recordOrderMoney(db, facts.orderId, { chargeRefunded: event.data.object.amount_refunded });
  },
};

const feeRefunded: ApplyOnly<'application_fee.refunded'> = async (event, { db }) => {
  const fee = event.data.object;
  const order = await findOrderByFeeOrTransfer(db, { applicationFeeId: fee.id, chargeId: idOf(fee.charge) ?? undefined });
  if (order !== undefined) await recordOrderMoney(db, order.id, { feeRefunded: fee.amount_refunded });
};

const transferReversed: ApplyOnly<'transfer.reversed'> = async (event, { db }) => {
  const transfer = event.data.object;
  const order = await findOrderByFeeOrTransfer(db, { transferId: transfer.id });
  if (order !== undefined) await recordOrderMoney(db, order.id, { transferReversed: transfer.amount_reversed });
};

export const refundHandlers: HandlerRegistry = {
  'refund.created': refundEvent,
  'refund.updated': refundEvent,
  'refund.failed': refundEvent,
  'charge.refunded': chargeRefunded,
  'application_fee.refunded': feeRefunded,
  'transfer.reversed': transferReversed,
};
