// Stripe's word about a dispute, recorded inside the caller's transaction: the webhook handlers
// (charge.dispute.*) and the admin's evidence and accept answers all end here. Newest snapshot wins;
// facts that only become true (submitted, funds withdrawn or reinstated) are never undone.
import { enqueueDisputeOpenedEmails } from '../email/messages.ts';
import type { Transaction } from 'kysely';
import type Stripe from 'stripe';
import type { Database, DisputeRow } from '../db/schema.ts';
import { findOrderByPayment, recordDisputeStatus } from '../orders/queries.ts';
import { insertDisputeIfNew, lockDispute, updateDispute } from './queries.ts';
import { isNewerSnapshot } from './rules.ts';
import { idOf } from '../stripe/ids.ts';

export interface DisputeContext {
  /** When the snapshot was true, on Stripe's clock. */
  observedAt: Date;
  eventType?: string;
}

export async function applyDispute(trx: Transaction<Database>, dispute: Stripe.Dispute, ctx: DisputeContext): Promise<DisputeRow> {
  const chargeId = idOf(dispute.charge)!;
  const order = await findOrderByPayment(trx, { chargeId, paymentIntentId: idOf(dispute.payment_intent) });
  const fee = Math.max(
    0,
    dispute.balance_transactions.reduce((n, t) => n + (t.fee ?? 0), 0),
  );
  const evidenceDueBy = dispute.evidence_details?.due_by ? new Date(dispute.evidence_details.due_by * 1000) : null;
  const submitted = (dispute.evidence_details?.submission_count ?? 0) > 0;
  await insertDisputeIfNew(trx, {
    id: dispute.id,
    order_id: order?.id ?? null,
    charge_id: chargeId,
    amount: dispute.amount,
    currency: dispute.currency,
    reason: dispute.reason,
    status: dispute.status,
    evidence_due_by: evidenceDueBy,
    evidence_submitted: submitted,
    dispute_fee: fee,
    stripe_created: new Date(dispute.created * 1000),
    observed_at: ctx.observedAt,
  });
  const row = (await lockDispute(trx, dispute.id))!;
  const newer = isNewerSnapshot(row, ctx.observedAt, dispute.status);
  const saved = await updateDispute(trx, dispute.id, {
    ...(newer ? { status: dispute.status, evidence_due_by: evidenceDueBy, observed_at: ctx.observedAt, dispute_fee: fee } : {}),
    evidence_submitted: row.evidence_submitted || submitted,
    funds_withdrawn: row.funds_withdrawn || ctx.eventType === 'charge.dispute.funds_withdrawn',
    funds_reinstated: row.funds_reinstated || ctx.eventType === 'charge.dispute.funds_reinstated',
    order_id: row.order_id ?? order?.id ?? null,
  });
  if (saved.order_id !== null) await recordDisputeStatus(trx, saved.order_id, saved.status);
  await enqueueDisputeOpenedEmails(trx, saved); // once per dispute and recipient
  return saved;
}
