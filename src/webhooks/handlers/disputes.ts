// Dispute family (charge.dispute.*, platform events for destination charges): each event's dispute
// is a snapshot as of `event.created` (src/disputes/ keeps the newest), then the recovery policy
// acts: reverse the seller's transfer once when a dispute is open, pay it back once when it is won.
// Both Stripe calls carry keys derived from the dispute id, so a retried event is one reversal and
// one repayment. Order-independent: `closed (won)` before `created` still recovers-then-repays
// nothing twice — recovery is skipped for a won dispute, and repayment needs a recovery.
import type Stripe from 'stripe';
import { applyDispute, recoverFromSeller, repaySeller } from '../../disputes/disputes.ts';
import type { HandlerContext, HandlerRegistry } from '../registry.ts';

async function disputeEvent(event: { id: string; type: string; created: number; data: { object: Stripe.Dispute } }, ctx: HandlerContext): Promise<void> {
  const row = await applyDispute(ctx.db, event.data.object, { observedAt: new Date(event.created * 1000), eventType: event.type });
  if (row === undefined || row.order_id === null) return; // not one of our orders
  if (row.status === 'won') await repaySeller(ctx.db, ctx.stripe, row.id);
  else await recoverFromSeller(ctx.db, ctx.stripe, row.id);
}

export const disputeHandlers: HandlerRegistry = {
  'charge.dispute.created': disputeEvent,
  'charge.dispute.updated': disputeEvent,
  'charge.dispute.closed': disputeEvent,
  'charge.dispute.funds_withdrawn': disputeEvent,
  'charge.dispute.funds_reinstated': disputeEvent,
};
