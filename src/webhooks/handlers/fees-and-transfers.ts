// Fee and transfer family: a destination charge creates a transfer to the seller and an application
// fee back to the platform. charge.succeeded normally records both ids on the order; these events
// fill them in when that read missed them (e.g. a charge event processed before Stripe had linked
// them). They only fill blanks, so duplicates and any order of arrival converge; an event for a
// charge we don't know (not one of our orders yet, or not ours) changes nothing.
// Reversals and fee refunds are in ./refunds.ts.
import type { EventHandler, HandlerRegistry } from '../registry.ts';

const chargeIdOf = (value: string | { id: string } | null): string | null =>
  value === null ? null : typeof value === 'string' ? value : value.id;

const applicationFeeCreated: EventHandler<'application_fee.created'> = async (event, ctx) => {
  const fee = event.data.object;
  // For a destination charge the fee's `charge` is the seller's payment (py_…); the platform
  // charge our order knows is the fee's originating transaction.
  const chargeId = chargeIdOf(fee.originating_transaction ?? null) ?? chargeIdOf(fee.charge);
  if (chargeId === null) return;
  await ctx.db.updateTable('orders').set({ stripe_application_fee_id: fee.id, updated_at: new Date() })
    .where('stripe_charge_id', '=', chargeId).where('stripe_application_fee_id', 'is', null).execute();
};

const transferCreated: EventHandler<'transfer.created'> = async (event, ctx) => {
  const transfer = event.data.object;
  // Only the transfer a destination charge made (its source is the charge), not the re-payment
  // transfers our dispute policy sends, which are recorded on the dispute.
  const chargeId = chargeIdOf(transfer.source_transaction);
  if (chargeId === null || transfer.metadata?.dispute_id !== undefined) return;
  await ctx.db.updateTable('orders').set({ stripe_transfer_id: transfer.id, updated_at: new Date() })
    .where('stripe_charge_id', '=', chargeId).where('stripe_transfer_id', 'is', null)
    .where('destination_account', '=', typeof transfer.destination === 'string' ? transfer.destination : transfer.destination?.id ?? '')
    .execute();
};

export const feeAndTransferHandlers: HandlerRegistry = {
  'application_fee.created': applicationFeeCreated,
  'transfer.created': transferCreated,
};
