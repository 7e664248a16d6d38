// Fee and transfer family: a destination charge creates a transfer to the seller and an application
// fee back to the platform. charge.succeeded normally records both ids on the order; these events
// fill them in when that read missed them (e.g. a charge event processed before Stripe had linked
// them). They only fill blanks, so duplicates and any order of arrival converge; an event for a
// charge we don't know (not one of our orders yet, or not ours) changes nothing.
// Reversals and fee refunds are in ./refunds.ts.
import { recordApplicationFee, recordTransfer } from '../../orders/queries.ts';
import { idOf } from '../../stripe/ids.ts';
import type { ApplyOnly, HandlerRegistry } from '../handler.ts';

const applicationFeeCreated: ApplyOnly<'application_fee.created'> = async (event, { db }) => {
  const fee = event.data.object;
  // For a destination charge the fee's `charge` is the seller's payment (py_…); the platform
  // charge our order knows is the fee's originating transaction.
  const chargeId = idOf(fee.originating_transaction ?? null) ?? idOf(fee.charge);
  if (chargeId !== null) await recordApplicationFee(db, chargeId, fee.id);
};

const transferCreated: ApplyOnly<'transfer.created'> = async (event, { db }) => {
  const transfer = event.data.object;
  // Only the transfer a destination charge made (its source is the charge), not the re-payment
  // transfers our dispute policy sends, which are recorded on the dispute.
  const chargeId = idOf(transfer.source_transaction);
  if (chargeId === null || transfer.metadata?.dispute_id !== undefined) return;
  await recordTransfer(db, chargeId, transfer.id, idOf(transfer.destination) ?? '');
};

export const feeAndTransferHandlers: HandlerRegistry = {
  'application_fee.created': applicationFeeCreated,
  'transfer.created': transferCreated,
};
