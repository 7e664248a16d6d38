// Dispute family (charge.dispute.*, platform events for destination charges): each event's dispute
// is a snapshot as of `event.created` (src/disputes/ keeps the newest); then, after that commit,
// the recovery policy acts: reverse the seller's transfer once while a dispute is open, pay it back
// once when it is won. Both Stripe calls carry keys derived from the dispute id, so a retried event
// is one reversal and one repayment. Order-independent: `closed (won)` before `created` still
// recovers-then-repays nothing twice — recovery is skipped for a won dispute, and repayment needs a
// recovery.
import { applyDispute } from '../../disputes/sync.ts';
import { recoverDisputedAmount, repaySeller } from '../../disputes/use-cases.ts';
import type { EventHandler, HandlerRegistry } from '../handler.ts';

type DisputeEvent =
  'charge.dispute.created' | 'charge.dispute.updated' | 'charge.dispute.closed' | 'charge.dispute.funds_withdrawn' | 'charge.dispute.funds_reinstated';

const disputeEvent: EventHandler<DisputeEvent> = {
  async apply(event, { db }) {
    await applyDispute(db, event.data.object, { observedAt: new Date(event.created * 1000), eventType: event.type });
  },
  async after(event, { db, stripe }) {
    await repaySeller(db, stripe, event.data.object.id);
    await recoverDisputedAmount(db, stripe, event.data.object.id);
  },
};

export const disputeHandlers: HandlerRegistry = {
  'charge.dispute.created': disputeEvent,
  'charge.dispute.updated': disputeEvent,
  'charge.dispute.closed': disputeEvent,
  'charge.dispute.funds_withdrawn': disputeEvent,
  'charge.dispute.funds_reinstated': disputeEvent,
};
