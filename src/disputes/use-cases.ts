// What happens to a dispute because of us: the admin's evidence and acceptance, and the recovery
// policy (reverse the seller's transfer while a dispute is open, pay it back when it is won).
// Every Stripe call follows the rule: our record first, committed; the call with a key derived
// from the dispute's id and nothing open; then a short transaction that records Stripe's answer
// and is a no-op when an event (or a concurrent caller) recorded it first.
import type { Kysely } from 'kysely';
import type Stripe from 'stripe';
import { hasAuditEntry, recordAudit, type Actor } from '../admin/audit.ts';
import { getSetting } from '../admin/settings.ts';
import type { Database, DisputeRow } from '../db/schema.ts';
import { DomainError, found } from '../errors.ts';
import { findOrder, recordOrderMoney } from '../orders/queries.ts';
import { classifyStripeError } from '../stripe/errors.ts';
import { sendKeyed } from '../stripe/keyed.ts';
import { findDispute, lockDispute, recordRecovery, recordRecoveryError, recordRepayment, saveEvidenceDraft, updateDispute } from './queries.ts';
import {
  closeKey,
  evidenceKey,
  evidenceParams,
  needsRecovery,
  needsRepayment,
  recoveryAmount,
  recoveryKey,
  repaymentKey,
  type EvidenceDraft,
} from './rules.ts';
import { applyDispute } from './sync.ts';
import { idOf } from '../stripe/ids.ts';

/**
 * Saves the evidence at Stripe as a draft (`submit: false`) or submits it. (a) The draft is stored
 * with us first, so nothing the admin typed is lost. (c) Saving a draft sets fields, which is the
 * same state however often it is sent, so it needs no key; a submission is once per dispute and
 * carries a key derived from the evidence, so sending the same evidence again after a lost answer
 * is the same request (Stripe answers it again) while corrected evidence after a refusal is a new
 * one. (d) Stripe's answer and the audit entry, once. The dispute's charge.dispute.updated event
 * records its status either way.
 */
export async function saveEvidence(
  db: Kysely<Database>,
  stripe: Stripe,
  actor: Actor,
  disputeId: string,
  draft: EvidenceDraft,
  submit: boolean,
): Promise<DisputeRow> {
  const before = await db.transaction().execute(async (trx) => {
    const row = found(await lockDispute(trx, disputeId));
    await saveEvidenceDraft(trx, disputeId, draft);
    return row;
  });
  const request = submit ? evidenceKey(disputeId, draft) : undefined;
  const updated = await stripeAnswer(() =>
    stripe.disputes.update(
      disputeId,
      { evidence: evidenceParams(draft), submit, metadata: { order_id: before.order_id ?? '' } },
      request === undefined ? {} : { idempotencyKey: request },
    ),
  );
  const action = submit ? 'dispute.evidence_submit' : 'dispute.evidence_draft';
  return db.transaction().execute(async (trx) => {
    await applyDispute(trx, updated, { observedAt: before.observed_at });
    const saved = submit ? await updateDispute(trx, disputeId, { evidence_submitted: true }) : found(await lockDispute(trx, disputeId));
    if (request === undefined || !(await hasAuditEntry(trx, action, 'request', request))) {
      await recordAudit(trx, actor, {
        action,
        targetType: 'dispute',
        targetId: disputeId,
        before: { status: before.status, evidence: before.evidence_draft },
        after: { status: updated.status, evidence: draft, ...(request !== undefined ? { request } : {}) },
      });
    }
    return saved;
  });
}

/**
 * Accepts the dispute (irreversible at Stripe: the platform takes the loss). The key is the
 * dispute's, so a retry after a lost answer gets Stripe's first answer; the charge.dispute.closed
 * event records the outcome either way.
 */
export async function acceptDispute(db: Kysely<Database>, stripe: Stripe, actor: Actor, disputeId: string): Promise<DisputeRow> {
  const before = found(await findDispute(db, disputeId));
  const request = closeKey(disputeId);
  const closed = await stripeAnswer(() => stripe.disputes.close(disputeId, {}, { idempotencyKey: request }));
  return db.transaction().execute(async (trx) => {
    // Stripe's answer is at least as new as what we stored; on the same instant the status rank
    // decides (a closed dispute outranks every open status). Stripe's clock, never ours.
    const saved = await applyDispute(trx, closed, { observedAt: before.observed_at });
    if (!(await hasAuditEntry(trx, 'dispute.accept', 'request', request))) {
      await recordAudit(trx, actor, {
        action: 'dispute.accept',
        targetType: 'dispute',
        targetId: disputeId,
        before: { status: before.status },
        after: { status: closed.status, request },
      });
    }
    return saved;
  });
}

/** An admin action's call to Stripe: a refusal or no answer becomes the error the admin reads. */
async function stripeAnswer<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await sendKeyed(call);
  } catch (error) {
    const problem = classifyStripeError(error);
    if (problem === undefined) throw error;
    throw problem.kind === 'refused' ? new DomainError('stripe_refused', { reason: problem.message }) : new DomainError('stripe_outcome_unknown');
  }
}

/**
 * Policy (disputes.recover_from_seller): reverse the seller's transfer by the disputed amount,
 * once per dispute. Run by the dispute events after their transaction recorded the dispute (the
 * recorded intent); the key is `dispute:<id>:recover`. The amount depends on what is left of the
 * transfer, which our own reversal changes, so before reversing we look among the transfer's
 * reversals for one carrying this dispute's id: if we stopped between Stripe's answer and our
 * write, the event's retry finds and records it instead of reversing again.
 */
export async function recoverDisputedAmount(db: Kysely<Database>, stripe: Stripe, disputeId: string): Promise<void> {
  if (!(await getSetting(db, 'disputes.recover_from_seller'))) return;
  const dispute = await findDispute(db, disputeId);
  if (dispute === undefined || !needsRecovery(dispute)) return;
  const order = found(await findOrder(db, dispute.order_id!));
  // The order may not have its charge facts yet (events race): the charge knows its transfer.
  const transferId = order.stripe_transfer_id ?? idOf((await stripe.charges.retrieve(dispute.charge_id)).transfer);
  if (transferId === null) return;
  const transfer = await stripe.transfers.retrieve(transferId);
  let reversal = await findReversalFor(stripe, transferId, dispute.id);
  const reversedBefore = reversal === undefined ? transfer.amount_reversed : transfer.amount_reversed - reversal.amount;
  if (reversal === undefined) {
    const amount = recoveryAmount(dispute, transfer);
    if (amount <= 0) {
      await recordRecoveryError(db, disputeId, "Nothing is left of the seller's transfer to reverse (already refunded).");
      return;
    }
    try {
      reversal = await sendKeyed(() =>
        stripe.transfers.createReversal(
          transferId,
          {
            amount,
            metadata: { dispute_id: dispute.id, order_id: order.id },
            description: `Dispute ${dispute.id}`,
          },
          { idempotencyKey: recoveryKey(dispute.id) },
        ),
      );
    } catch (error) {
      const problem = classifyStripeError(error);
      if (problem?.kind !== 'refused') throw error; // no answer: the event is retried, with the same key
      await recordRecoveryError(db, disputeId, problem.message);
      return;
    }
  }
  const recovered = reversal;
  await db.transaction().execute(async (trx) => {
    if (await recordRecovery(trx, disputeId, recovered)) {
      await recordOrderMoney(trx, order.id, { transferReversed: reversedBefore + recovered.amount });
    }
  });
}

async function findReversalFor(stripe: Stripe, transferId: string, disputeId: string): Promise<Stripe.TransferReversal | undefined> {
  for await (const reversal of stripe.transfers.listReversals(transferId, { limit: 100 })) {
    if (reversal.metadata?.dispute_id === disputeId) return reversal;
  }
  return undefined;
}

/**
 * A won dispute: pay back to the seller what we recovered, once. The amount is what we recorded,
 * so every attempt sends the same request with the key `dispute:<id>:repay`; if we stop before
 * recording it, the event's retry gets the same transfer back.
 */
export async function repaySeller(db: Kysely<Database>, stripe: Stripe, disputeId: string): Promise<void> {
  const dispute = await findDispute(db, disputeId);
  if (dispute === undefined || !needsRepayment(dispute)) return;
  const order = found(await findOrder(db, dispute.order_id!));
  let transfer: Stripe.Transfer;
  try {
    // Funded from the disputed charge (`source_transaction`), whose funds the won dispute has just
    // reinstated: the platform's own available balance may be short (it paid Stripe's fee and its
    // application fees may still be pending).
    transfer = await sendKeyed(() =>
      stripe.transfers.create(
        {
          amount: dispute.recovered_amount,
          currency: dispute.currency,
          destination: order.destination_account,
          source_transaction: dispute.charge_id,
          description: `Dispute ${dispute.id} won: recovered amount returned`,
          metadata: { dispute_id: dispute.id, order_id: order.id, seller_id: order.seller_id },
        },
        { idempotencyKey: repaymentKey(dispute.id) },
      ),
    );
  } catch (error) {
    const problem = classifyStripeError(error);
    if (problem?.kind !== 'refused') throw error;
    // E.g. the platform's available balance is too low: the event fails and is retried with
    // backoff (dead → admin replay), so the repayment happens once the balance allows.
    throw new Error(`repaying dispute ${dispute.id} to the seller failed: ${problem.message}`, { cause: error });
  }
  await recordRepayment(db, disputeId, transfer);
}
