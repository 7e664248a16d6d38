// The rules of disputes, with no database and no Stripe: which statuses are closed, which of two
// snapshots is newer, when the recovery policy acts, and how our evidence form maps onto Stripe's.
import { createHash } from 'node:crypto';
import type Stripe from 'stripe';
import type { DisputeRow, DisputeStatus } from '../db/schema.ts';

export const CLOSED: DisputeStatus[] = ['won', 'lost', 'warning_closed', 'prevented'];

const RANK: Record<string, number> = {
  warning_needs_response: 0,
  needs_response: 0,
  appeal_needs_response: 2,
  warning_under_review: 1,
  under_review: 1,
  appeal_under_review: 3,
  won: 4,
  lost: 4,
  warning_closed: 4,
  prevented: 4,
};

/** Newest wins; on the same instant the later status in a dispute's life does (a closed one outranks every open one). */
export function isNewerSnapshot(stored: Pick<DisputeRow, 'observed_at' | 'status'>, observedAt: Date, status: string): boolean {
  return (
    stored.observed_at.getTime() < observedAt.getTime() ||
    (stored.observed_at.getTime() === observedAt.getTime() && (RANK[status] ?? 0) >= (RANK[stored.status] ?? 0))
  );
}

export function isOpen(dispute: Pick<DisputeRow, 'status'>): boolean {
  return !CLOSED.includes(dispute.status);
}

/**
 * The recovery policy: for a destination charge Stripe debits the disputed amount from the
 * PLATFORM (stripe-facts §6), so an open dispute reverses the seller's transfer by the disputed
 * amount, once. An inquiry (`warning_*`) moves no money; a won one needs nothing recovered.
 */
export function needsRecovery(dispute: Pick<DisputeRow, 'recovery_reversal_id' | 'order_id' | 'status'>): boolean {
  return dispute.recovery_reversal_id === null && dispute.order_id !== null && !dispute.status.startsWith('warning') && dispute.status !== 'won';
}

/** Capped at what is left of the transfer (a refund may have reversed part of it already). */
export function recoveryAmount(dispute: Pick<DisputeRow, 'amount'>, transfer: Pick<Stripe.Transfer, 'amount' | 'amount_reversed'>): number {
  return Math.min(dispute.amount, transfer.amount - transfer.amount_reversed);
}

/** A won dispute: Stripe reinstated the funds, so what we recovered goes back to the seller, once. */
export function needsRepayment(dispute: Pick<DisputeRow, 'status' | 'recovered_amount' | 'repayment_transfer_id' | 'order_id'>): boolean {
  return dispute.status === 'won' && dispute.recovered_amount > 0 && dispute.repayment_transfer_id === null && dispute.order_id !== null;
}

export const recoveryKey = (disputeId: string) => `dispute:${disputeId}:recover`;
export const repaymentKey = (disputeId: string) => `dispute:${disputeId}:repay`;
export const closeKey = (disputeId: string) => `dispute:${disputeId}:close`;

export const EVIDENCE_FIELDS = [
  'product_description',
  'customer_communication',
  'receipt',
  'shipping_carrier',
  'shipping_tracking_number',
  'uncategorized_text',
] as const;
export type EvidenceField = (typeof EVIDENCE_FIELDS)[number];
export type EvidenceDraft = Partial<Record<EvidenceField, string>>;

/** Submitting the same evidence is the same request: a retry after a lost answer submits nothing twice. */
export function evidenceKey(disputeId: string, draft: EvidenceDraft): string {
  const digest = createHash('sha256')
    .update(JSON.stringify(EVIDENCE_FIELDS.map((f) => draft[f] ?? '')))
    .digest('hex')
    .slice(0, 32);
  return `dispute:${disputeId}:submit:${digest}`;
}

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
