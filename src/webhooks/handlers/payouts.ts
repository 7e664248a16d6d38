// Payout family (Connect events: `event.account` is the seller's connected account). Each event's
// payout is a snapshot as of `event.created`; recordPayout keeps the newest, so duplicates and any
// arrival order converge on the same row. A payout on an account that is not one of our sellers is
// still recorded (seller_id null): the platform's books should show every payout Stripe reports.
import type Stripe from 'stripe';
import { enqueuePayoutPaidEmail } from '../../email/messages.ts';
import { recordPayout } from '../../payouts/queries.ts';
import type { ApplyContext, HandlerRegistry } from '../handler.ts';

async function payoutEvent(event: { created: number; account?: string; data: { object: Stripe.Payout } }, { db }: ApplyContext<undefined>): Promise<void> {
  if (event.account === undefined) return; // the platform's own payouts are not a seller's
  await recordPayout(db, event.data.object, event.account, new Date(event.created * 1000));
  await enqueuePayoutPaidEmail(db, event.data.object.id); // sent once, when the stored payout is paid
}

export const payoutHandlers: HandlerRegistry = {
  'payout.created': payoutEvent,
  'payout.updated': payoutEvent,
  'payout.paid': payoutEvent,
  'payout.failed': payoutEvent,
  'payout.canceled': payoutEvent,
};
