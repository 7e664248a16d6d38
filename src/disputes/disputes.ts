// Disputes of our orders: Stripe's dispute as it evolves (charge.dispute.* events and API answers),
// the admin's evidence (draft or submitted) and acceptance, and the recovery policy.
//
// Recovery policy (disputes.recover_from_seller, on by default): for a destination charge Stripe
// debits the disputed amount from the PLATFORM (stripe-facts §6), so when a dispute is opened we
// reverse the seller's transfer by the disputed amount (capped at what is left of the transfer),
// with the idempotency key `dispute:<id>:recover`; when the dispute is won and Stripe reinstates the
// funds, we pay the recovered amount back with a new transfer, key `dispute:<id>:repay`. These
// calls run inside the webhook handler's transaction: if our commit fails after Stripe acted, the
// event is retried, the same key returns the same reversal/transfer, and we record it then. An
// inquiry (`warning_*`) moves no money, so nothing is recovered for it.
import type { Kysely } from 'kysely';
import type Stripe from 'stripe';
import type { Database, DisputeRow, DisputeStatus } from '../db/schema.ts';
import { recordAudit, type Actor } from '../admin/audit.ts';
import { stripeRefusal, UNKNOWN_OUTCOME } from '../admin/stripe-errors.ts';
import { getSetting } from '../admin/settings.ts';
import { recordOrderMoney } from '../refunds/refunds.ts';

export const CLOSED: DisputeStatus[] = ['won', 'lost', 'warning_closed', 'prevented'];
const RANK: Record<string, number> = {
  warning_needs_response: 0, needs_response: 0, appeal_needs_response: 2,
  warning_under_review: 1, under_review: 1, appeal_under_review: 3,
  won: 4, lost: 4, warning_closed: 4, prevented: 4,
};

export const EVIDENCE_FIELDS = ['product_description', 'customer_communication', 'receipt', 'shipping_carrier', 'shipping_tracking_number', 'uncategorized_text'] as const;
export type EvidenceField = (typeof EVIDENCE_FIELDS)[number];
export type EvidenceDraft = Partial<Record<EvidenceField, string>>;

/**
 * Stripe's `customer_communication` and `receipt` evidence fields take uploaded FILE ids (Files
 * API), not text. The form collects them as text, so they travel in `uncategorized_text` under
 * plain headings; the other fields map one to one.
 */
export function evidenceParams(draft: EvidenceDraft): Stripe.DisputeUpdateParams.Evidence {
  const sections = [
    draft.customer_communication ? `Customer communication:\n${draft.customer_communication}` : '',
    draft.receipt ? `Receipt:\n${draft.receipt}` : '',
    draft.uncategorized_text ?? '',
  ].filter((s) => s.trim() !== '');
  return {
    product_description: draft.product_description ?? '',
    shipping_carrier: draft.shipping_carrier ?? '',
    shipping_tracking_number: draft.shipping_tracking_number ?? '',
    uncategorized_text: sections.join('\n\n'),
  };
}

function idOf(value: string | { id: string } | null | undefined): string | null {
  return value === null || value === undefined ? null : typeof value === 'string' ? value : value.id;
}

export interface ApplyDisputeContext {
  observedAt: Date;
  eventType?: string;
}

/** Records a dispute snapshot (newest wins; same instant → later status). Returns our row. */
export async function applyDispute(db: Kysely<Database>, dispute: Stripe.Dispute, ctx: ApplyDisputeContext): Promise<DisputeRow | undefined> {
  const chargeId = idOf(dispute.charge)!;
  const piId = idOf(dispute.payment_intent);
  const order = await db.selectFrom('orders').select(['id']).where((eb) => eb.or([
    eb('stripe_charge_id', '=', chargeId), ...(piId !== null ? [eb('stripe_payment_intent_id', '=', piId)] : []),
  ])).executeTakeFirst();
  const fee = dispute.balance_transactions.reduce((n, t) => n + (t.fee ?? 0), 0);
  const values = {
    id: dispute.id, order_id: order?.id ?? null, charge_id: chargeId, amount: dispute.amount, currency: dispute.currency,
    reason: dispute.reason, status: dispute.status,
    evidence_due_by: dispute.evidence_details?.due_by ? new Date(dispute.evidence_details.due_by * 1000) : null,
    evidence_submitted: (dispute.evidence_details?.submission_count ?? 0) > 0,
    dispute_fee: Math.max(0, fee),
    stripe_created: new Date(dispute.created * 1000), observed_at: ctx.observedAt,
  };
  await db.insertInto('disputes').values(values).onConflict((oc) => oc.column('id').doNothing()).execute();
  const row = await db.selectFrom('disputes').selectAll().where('id', '=', dispute.id).forUpdate().executeTakeFirstOrThrow();
  const newer = row.observed_at.getTime() < ctx.observedAt.getTime()
    || (row.observed_at.getTime() === ctx.observedAt.getTime() && (RANK[dispute.status] ?? 0) >= (RANK[row.status] ?? 0));
  await db.updateTable('disputes').set({
    ...(newer ? { status: dispute.status, evidence_due_by: values.evidence_due_by, observed_at: ctx.observedAt, dispute_fee: values.dispute_fee } : {}),
    // Facts that only become true: submitted, withdrawn, reinstated.
    evidence_submitted: row.evidence_submitted || values.evidence_submitted,
    funds_withdrawn: row.funds_withdrawn || ctx.eventType === 'charge.dispute.funds_withdrawn',
    funds_reinstated: row.funds_reinstated || ctx.eventType === 'charge.dispute.funds_reinstated',
    order_id: row.order_id ?? values.order_id,
    updated_at: new Date(),
  }).where('id', '=', dispute.id).execute();
  const saved = await db.selectFrom('disputes').selectAll().where('id', '=', dispute.id).executeTakeFirstOrThrow();
  if (saved.order_id !== null) {
    await db.updateTable('orders').set({ disputed: true, dispute_status: saved.status, updated_at: new Date() }).where('id', '=', saved.order_id).execute();
  }
  return saved;
}

/** Policy: reverse the seller's transfer by the disputed amount, once per dispute. */
export async function recoverFromSeller(db: Kysely<Database>, stripe: Stripe, disputeId: string): Promise<void> {
  if (!(await getSetting(db, 'disputes.recover_from_seller'))) return;
  const dispute = await db.selectFrom('disputes').selectAll().where('id', '=', disputeId).forUpdate().executeTakeFirstOrThrow();
  if (dispute.recovery_reversal_id !== null || dispute.order_id === null || dispute.status.startsWith('warning') || dispute.status === 'won') return;
  const order = await db.selectFrom('orders').selectAll().where('id', '=', dispute.order_id).executeTakeFirstOrThrow();
  // The order may not have its charge facts yet (events race): the charge knows its transfer.
  const transferId = order.stripe_transfer_id ?? idOf((await stripe.charges.retrieve(dispute.charge_id)).transfer);
  if (transferId === null) return;
  const transfer = await stripe.transfers.retrieve(transferId);
  const amount = Math.min(dispute.amount, transfer.amount - transfer.amount_reversed);
  if (amount <= 0) {
    await db.updateTable('disputes').set({ recovery_error: 'Nothing is left of the seller\'s transfer to reverse (already refunded).', updated_at: new Date() }).where('id', '=', disputeId).execute();
    return;
  }
  try {
    const reversal = await stripe.transfers.createReversal(transferId, {
      amount, metadata: { dispute_id: dispute.id, order_id: order.id }, description: `Dispute ${dispute.id}`,
    }, { idempotencyKey: `dispute:${dispute.id}:recover` });
    await db.updateTable('disputes').set({ recovery_reversal_id: reversal.id, recovered_amount: reversal.amount, recovery_error: null, updated_at: new Date() })
      .where('id', '=', disputeId).execute();
    await recordOrderMoney(db, order.id, { transferReversed: transfer.amount_reversed + reversal.amount });
  } catch (error) {
    const refusal = stripeRefusal(error);
    if (refusal === undefined) throw error; // retried with the event, same key
    await db.updateTable('disputes').set({ recovery_error: refusal, updated_at: new Date() }).where('id', '=', disputeId).execute();
  }
}

/** A won dispute: pay back to the seller what we recovered, once. */
export async function repaySeller(db: Kysely<Database>, stripe: Stripe, disputeId: string): Promise<void> {
  const dispute = await db.selectFrom('disputes').selectAll().where('id', '=', disputeId).forUpdate().executeTakeFirstOrThrow();
  if (dispute.status !== 'won' || dispute.recovered_amount <= 0 || dispute.repayment_transfer_id !== null || dispute.order_id === null) return;
  const order = await db.selectFrom('orders').select(['id', 'destination_account', 'seller_id']).where('id', '=', dispute.order_id).executeTakeFirstOrThrow();
  try {
    // Funded from the disputed charge (`source_transaction`), whose funds the won dispute has just
    // reinstated: the platform's own available balance may be short (it paid Stripe's fee and its
    // application fees may still be pending).
    const transfer = await stripe.transfers.create({
      amount: dispute.recovered_amount, currency: dispute.currency, destination: order.destination_account, source_transaction: dispute.charge_id,
      description: `Dispute ${dispute.id} won: recovered amount returned`,
      metadata: { dispute_id: dispute.id, order_id: order.id, seller_id: order.seller_id },
    }, { idempotencyKey: `dispute:${dispute.id}:repay` });
    await db.updateTable('disputes').set({ repayment_transfer_id: transfer.id, repaid_amount: transfer.amount, recovery_error: null, updated_at: new Date() })
      .where('id', '=', disputeId).execute();
  } catch (error) {
    const refusal = stripeRefusal(error);
    if (refusal === undefined) throw error;
    // E.g. the platform's available balance is too low: the event fails and is retried with
    // backoff (dead → admin replay), so the repayment happens once the balance allows.
    throw new Error(`repaying dispute ${dispute.id} to the seller failed: ${refusal}`, { cause: error });
  }
}

export type DisputeActionResult = { ok: true; dispute: DisputeRow | undefined } | { ok: false; message: string };

/** Saves the evidence at Stripe as a draft (`submit: false`) or submits it. */
export async function saveEvidence(db: Kysely<Database>, stripe: Stripe, actor: Actor, disputeId: string, draft: EvidenceDraft, submit: boolean): Promise<DisputeActionResult> {
  const before = await db.selectFrom('disputes').selectAll().where('id', '=', disputeId).executeTakeFirst();
  if (before === undefined) return { ok: false, message: 'No such dispute.' };
  let updated: Stripe.Dispute;
  try {
    updated = await stripe.disputes.update(disputeId, { evidence: evidenceParams(draft), submit, metadata: { order_id: before.order_id ?? '' } });
  } catch (error) {
    return { ok: false, message: stripeRefusal(error) ?? UNKNOWN_OUTCOME };
  }
  const saved = await db.transaction().execute(async (trx) => {
    const row = await applyDispute(trx, updated, { observedAt: before.observed_at });
    await trx.updateTable('disputes').set({ evidence_draft: JSON.stringify(draft), ...(submit ? { evidence_submitted: true } : {}) }).where('id', '=', disputeId).execute();
    await recordAudit(trx, actor, {
      action: submit ? 'dispute.evidence_submit' : 'dispute.evidence_draft', targetType: 'dispute', targetId: disputeId,
      before: { status: before.status, evidence: before.evidence_draft }, after: { status: updated.status, evidence: draft },
    });
    return row;
  });
  return { ok: true, dispute: saved };
}

/** Accepts the dispute (irreversible at Stripe: the platform takes the loss). */
export async function acceptDispute(db: Kysely<Database>, stripe: Stripe, actor: Actor, disputeId: string): Promise<DisputeActionResult> {
  const before = await db.selectFrom('disputes').selectAll().where('id', '=', disputeId).executeTakeFirst();
  if (before === undefined) return { ok: false, message: 'No such dispute.' };
  let closed: Stripe.Dispute;
  try {
    closed = await stripe.disputes.close(disputeId, {}, { idempotencyKey: `dispute:${disputeId}:close` });
  } catch (error) {
    return { ok: false, message: stripeRefusal(error) ?? UNKNOWN_OUTCOME };
  }
  const saved = await db.transaction().execute(async (trx) => {
    // Stripe's answer is at least as new as what we stored; on the same instant the status rank
    // decides (a closed dispute outranks every open status). Stripe's clock, never ours.
    const row = await applyDispute(trx, closed, { observedAt: before.observed_at });
    await recordAudit(trx, actor, { action: 'dispute.accept', targetType: 'dispute', targetId: disputeId, before: { status: before.status }, after: { status: closed.status } });
    return row;
  });
  return { ok: true, dispute: saved };
}
