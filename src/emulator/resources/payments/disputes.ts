/**
 * Disputes: opened by the dispute test cards right after capture (or the control API), with the
 * chargeback on the ledger (`adjustment` −amount, 1 500 dispute fee); evidence staged or
 * submitted; test-mode outcome from `uncategorized_text` (`winning_evidence` → won, money and
 * fee returned; `losing_evidence` → lost). Inquiries (1976) move no money.
 */
import type Stripe from 'stripe';
import { invalidRequest } from '../../core/errors.ts';
import { DAY } from '../../core/clock.ts';
import { DISPUTE_FEE, DISPUTE_FEE_REFUNDED_ON_WIN, disputeFeeDetails } from './fees.ts';
import { EVIDENCE_FIELDS, emptyEvidence } from './objects.ts';
import type { Payments } from './state.ts';

/** How long disputes wait for evidence (test mode shows roughly a week or more). */
export const DISPUTE_EVIDENCE_DAYS = 7;

type TextEvidenceKey = Exclude<keyof Stripe.Dispute.Evidence, 'enhanced_evidence' | 'shipping_address'>;
function isTextEvidenceKey(k: string): k is TextEvidenceKey {
  return EVIDENCE_FIELDS.includes(k);
}

export function openDispute(pay: Payments, account: string, chargeId: string, kind: 'fraudulent' | 'product_not_received' | 'inquiry'): Stripe.Dispute {
  const charge = pay.charges.require(chargeId, account);
  const now = pay.core.now();
  const id = pay.core.newId('du');
  const inquiry = kind === 'inquiry';
  const txns: Stripe.BalanceTransaction[] = [];
  if (!inquiry) {
    txns.push(
      pay.core.postLedger({
        account,
        amount: -charge.amount,
        currency: charge.currency,
        type: 'adjustment',
        source: id,
        fee: DISPUTE_FEE,
        fee_details: disputeFeeDetails(DISPUTE_FEE, charge.currency),
        description: `Chargeback withdrawal for ${charge.id}`,
        reporting_category: 'dispute',
      }),
    );
  }
  const dispute: Stripe.Dispute = {
    id,
    object: 'dispute',
    amount: charge.amount,
    balance_transactions: txns,
    charge: charge.id,
    created: now,
    currency: charge.currency,
    enhanced_eligibility_types: [],
    evidence: emptyEvidence(),
    evidence_details: {
      due_by: now + DISPUTE_EVIDENCE_DAYS * DAY,
      enhanced_eligibility: {},
      has_evidence: false,
      past_due: false,
      submission_count: 0,
      submission_method: 'not_submitted',
    },
    intended_submission_method: null,
    is_charge_refundable: inquiry,
    livemode: false,
    metadata: {},
    network_reason_code: inquiry ? null : kind === 'fraudulent' ? '10.4' : '13.1',
    payment_intent: typeof charge.payment_intent === 'string' ? charge.payment_intent : null,
    // Stripe's example (fixtures3.json) carries the card network's view of the case.
    payment_method_details: {
      card: {
        brand: charge.payment_method_details?.card?.brand ?? 'visa',
        case_type: inquiry ? 'inquiry' : 'chargeback',
        network: charge.payment_method_details?.card?.network ?? 'visa',
        network_reason_code: inquiry ? null : kind === 'fraudulent' ? '10.4' : '13.1',
      },
      type: 'card',
    },
    reason: inquiry ? 'general' : kind,
    status: inquiry ? 'warning_needs_response' : 'needs_response',
  };
  pay.disputes.insert(account, dispute);
  charge.disputed = true;
  pay.charges.save(charge);
  pay.core.emitEvent({ type: 'charge.dispute.created', object: dispute, account });
  if (!inquiry) pay.core.emitEvent({ type: 'charge.dispute.funds_withdrawn', object: dispute, account });
  return dispute;
}

export function updateDispute(
  pay: Payments,
  account: string,
  id: string,
  input: { evidence?: Record<string, string> | undefined; submit?: boolean | undefined; metadata?: Record<string, string> | undefined },
): Stripe.Dispute {
  let d = pay.disputes.require(id, account);
  const closed = ['won', 'lost', 'warning_closed', 'prevented'].includes(d.status);
  if (closed && input.evidence) {
    throw invalidRequest(`This dispute is already closed (status: ${d.status}); evidence can no longer be submitted.`, { param: 'evidence' });
  }
  const submittedAlready = d.status === 'under_review' || d.status === 'warning_under_review';
  if (submittedAlready && input.evidence) {
    throw invalidRequest('Evidence for this dispute has already been submitted.', { param: 'evidence' });
  }
  const prev: Record<string, unknown> = {};
  if (input.metadata) {
    prev.metadata = d.metadata;
    d.metadata = input.metadata;
  }
  if (input.evidence) {
    prev.evidence = d.evidence;
    const ev: Stripe.Dispute.Evidence = { ...d.evidence };
    for (const [k, v] of Object.entries(input.evidence)) {
      if (isTextEvidenceKey(k)) ev[k] = v === '' ? null : v;
    }
    d.evidence = ev;
    d.evidence_details.has_evidence = true;
  }
  const submit = input.submit ?? true;
  if (submit && !closed && !submittedAlready && (input.evidence || d.evidence_details.has_evidence)) {
    prev.status = d.status;
    d.evidence_details.submission_count += 1;
    d.evidence_details.submission_method = 'manual';
    d.status = d.status === 'warning_needs_response' ? 'warning_under_review' : 'under_review';
  }
  d = pay.disputes.save(d);
  pay.core.emitEvent({ type: 'charge.dispute.updated', object: d, account, previousAttributes: prev });
  if (d.status === 'under_review' || d.status === 'warning_under_review') resolveDispute(pay, account, d.id);
  return d;
}

/** Test-mode resolution: `uncategorized_text` decides (winning_evidence / losing_evidence). */
function resolveDispute(pay: Payments, account: string, id: string): void {
  const d = pay.disputes.require(id, account);
  const text = d.evidence.uncategorized_text ?? '';
  const inquiry = d.status === 'warning_under_review';
  if (text.includes('winning_evidence')) closeDisputeAs(pay, account, id, inquiry ? 'warning_closed' : 'won');
  else if (text.includes('losing_evidence')) closeDisputeAs(pay, account, id, inquiry ? 'warning_closed' : 'lost');
}

export function closeDispute(pay: Payments, account: string, id: string): Stripe.Dispute {
  const d = pay.disputes.require(id, account);
  if (!['needs_response', 'warning_needs_response'].includes(d.status)) {
    throw invalidRequest(`This dispute cannot be closed because it has a status of ${d.status}.`, { param: 'dispute' });
  }
  return closeDisputeAs(pay, account, id, d.status === 'warning_needs_response' ? 'warning_closed' : 'lost');
}

function closeDisputeAs(pay: Payments, account: string, id: string, status: 'won' | 'lost' | 'warning_closed'): Stripe.Dispute {
  let d = pay.disputes.require(id, account);
  const prevStatus = d.status;
  if (status === 'won') {
    const fee = DISPUTE_FEE_REFUNDED_ON_WIN ? DISPUTE_FEE : 0;
    const txn = pay.core.postLedger({
      account,
      amount: d.amount,
      currency: d.currency,
      type: 'adjustment',
      source: d.id,
      fee: -fee,
      fee_details: fee ? disputeFeeDetails(-fee, d.currency) : [],
      description: `Chargeback reversal for ${String(d.charge)}`,
      reporting_category: 'dispute_reversal',
      immediate: true,
    });
    d.balance_transactions = [...d.balance_transactions, txn];
  }
  d.status = status;
  d.is_charge_refundable = false;
  d = pay.disputes.save(d);
  if (status === 'won') pay.core.emitEvent({ type: 'charge.dispute.funds_reinstated', object: d, account });
  pay.core.emitEvent({ type: 'charge.dispute.closed', object: d, account, previousAttributes: { status: prevStatus } });
  return d;
}
