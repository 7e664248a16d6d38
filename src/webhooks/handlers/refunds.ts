// Refund family: refund.* and charge.refunded move our refunds and their orders (src/refunds/), and
// application_fee.refunded / transfer.reversed keep each order's "came back from the fee / from the
// seller" totals. Every handler records a snapshot as of `event.created` (older never overwrites
// newer) or a total that only grows (GREATEST), so duplicates and any order converge.
import type Stripe from 'stripe';
import { applyStripeRefund, recordOrderMoney } from '../../refunds/refunds.ts';
import type { EventHandler, HandlerContext, HandlerRegistry } from '../registry.ts';

const at = (event: { created: number }) => new Date(event.created * 1000);

async function refundEvent(event: { id: string; created: number; data: { object: Stripe.Refund } }, ctx: HandlerContext): Promise<void> {
  const refund = event.data.object;
  await applyStripeRefund(ctx.db, refund, { observedAt: at(event), source: 'webhook', stripeEventId: event.id });
  // The reversal's amount, if our own write of the API answer never happened (crash, lost answer).
  if (typeof refund.transfer_reversal === 'string') {
    const row = await ctx.db.selectFrom('refunds').innerJoin('orders', 'orders.id', 'refunds.order_id')
      .select(['refunds.id', 'refunds.transfer_reversal_amount', 'orders.stripe_transfer_id'])
      .where('refunds.stripe_refund_id', '=', refund.id).executeTakeFirst();
    if (row !== undefined && row.transfer_reversal_amount === null && row.stripe_transfer_id !== null) {
      const reversal = await ctx.stripe.transfers.retrieveReversal(row.stripe_transfer_id, refund.transfer_reversal);
      await ctx.db.updateTable('refunds').set({ transfer_reversal_amount: reversal.amount }).where('id', '=', row.id).execute();
    }
  }
}

// "Fires for partial refunds too; listen to refund.created for details" (stripe-facts §5): the
// charge tells us which refunds exist, so re-read them — this also catches a refund whose own
// event was lost, and one made in Stripe's Dashboard.
const chargeRefunded: EventHandler<'charge.refunded'> = async (event, ctx) => {
  const charge = event.data.object;
  const order = await ctx.db.selectFrom('orders').select('id')
    .where((eb) => eb.or([eb('stripe_charge_id', '=', charge.id), ...(typeof charge.payment_intent === 'string' ? [eb('stripe_payment_intent_id', '=', charge.payment_intent)] : [])]))
    .executeTakeFirst();
  if (order === undefined) return;
  const refunds = await ctx.stripe.refunds.list({ charge: charge.id, limit: 100 });
  for (const refund of refunds.data) {
    await applyStripeRefund(ctx.db, refund, { observedAt: at(event), source: 'webhook', stripeEventId: event.id });
  }
  await recordOrderMoney(ctx.db, order.id, { chargeRefunded: charge.amount_refunded });
};

const feeRefunded: EventHandler<'application_fee.refunded'> = async (event, ctx) => {
  const fee = event.data.object;
  const chargeId = typeof fee.charge === 'string' ? fee.charge : fee.charge.id;
  const order = await ctx.db.selectFrom('orders').select('id')
    .where((eb) => eb.or([eb('stripe_application_fee_id', '=', fee.id), eb('stripe_charge_id', '=', chargeId)])).executeTakeFirst();
  if (order !== undefined) await recordOrderMoney(ctx.db, order.id, { feeRefunded: fee.amount_refunded });
};

const transferReversed: EventHandler<'transfer.reversed'> = async (event, ctx) => {
  const transfer = event.data.object;
  const order = await ctx.db.selectFrom('orders').select('id').where('stripe_transfer_id', '=', transfer.id).executeTakeFirst();
  if (order !== undefined) await recordOrderMoney(ctx.db, order.id, { transferReversed: transfer.amount_reversed });
};

export const refundHandlers: HandlerRegistry = {
  'refund.created': refundEvent,
  'refund.updated': refundEvent,
  'refund.failed': refundEvent,
  'charge.refunded': chargeRefunded,
  'application_fee.refunded': feeRefunded,
  'transfer.reversed': transferReversed,
};
