/**
 * Refunds of captured charges. The platform (or the direct-charge account) pays the refund;
 * `reverse_transfer` and `refund_application_fee` return the transfer and the application fee in
 * proportion (fees.ts `proportionalShare`; a refund that completes the charge returns whatever
 * remains). Test cards 7726 and 5126 settle on the next clock tick (pending → succeeded,
 * succeeded → failed with a `refund_failure` credit).
 */
import type Stripe from 'stripe';
import { invalidRequest } from '../../core/errors.ts';
import type { TestCard } from './cards.ts';
import { formatMoney, proportionalShare } from './fees.ts';
import { refundFee } from './application-fees.ts';
import { reverseTransfer } from './transfers.ts';
import type { Payments } from './state.ts';

/** Refunds of a charge that still count (not failed/canceled). */
function refundedAmount(pay: Payments, chargeId: string): number {
  return pay.refunds.list(undefined, (r) => r.charge === chargeId && r.status !== 'failed' && r.status !== 'canceled').reduce((n, r) => n + r.amount, 0);
}

export function createRefund(
  pay: Payments,
  account: string,
  input: {
    charge?: string | undefined;
    payment_intent?: string | undefined;
    amount?: number | undefined;
    reason?: Stripe.RefundCreateParams.Reason | undefined;
    reverse_transfer?: boolean | undefined;
    refund_application_fee?: boolean | undefined;
    metadata?: Record<string, string> | undefined;
  },
): Stripe.Refund {
  let charge: Stripe.Charge;
  if (input.charge && input.payment_intent) {
    throw invalidRequest('You cannot specify both `charge` and `payment_intent`.', { code: 'parameters_exclusive', param: 'payment_intent' });
  }
  if (input.payment_intent) {
    const pi = pay.pis.get(input.payment_intent, account);
    if (!pi) throw invalidRequest(`No such payment_intent: '${input.payment_intent}'`, { code: 'resource_missing', param: 'payment_intent' });
    const c = pi.latest_charge ? pay.charges.get(String(pi.latest_charge), account) : undefined;
    if (!c || c.status !== 'succeeded' || !c.captured) {
      throw invalidRequest(`This PaymentIntent (${pi.id}) does not have a successful charge to refund.`, { param: 'payment_intent' });
    }
    charge = c;
  } else if (input.charge) {
    const c = pay.charges.get(input.charge, account);
    if (!c) throw invalidRequest(`No such charge: '${input.charge}'`, { code: 'resource_missing', param: 'charge' });
    charge = c;
  } else {
    throw invalidRequest('One of the following params should be provided for this request: charge or payment_intent.', { param: 'charge' });
  }
  if (charge.status !== 'succeeded' || !charge.captured) {
    throw invalidRequest(`Charge ${charge.id} has not been captured or did not succeed.`, { code: 'charge_not_refundable', param: 'charge' });
  }
  const released = Number(pay.charges.internal(charge.id).released ?? 0);
  const refundable = charge.amount - released - refundedAmount(pay, charge.id);
  if (refundable <= 0) {
    throw invalidRequest(`Charge ${charge.id} has already been refunded.`, { code: 'charge_already_refunded', extra: { charge: charge.id } });
  }
  const amount = input.amount ?? refundable;
  if (amount > refundable) {
    throw invalidRequest(
      `Refund amount (${formatMoney(amount, charge.currency)}) is greater than unrefunded amount on charge (${formatMoney(refundable, charge.currency)})`,
      // Stripe's code for an amount above what is left (docs.stripe.com/error-codes: amount_too_large).
      { param: 'amount', code: 'amount_too_large' },
    );
  }
  if (amount <= 0) throw invalidRequest('Invalid positive integer', { param: 'amount', code: 'parameter_invalid_integer' });
  const dispute = pay.disputes.list(undefined, (d) => d.charge === charge.id)[0];
  if (dispute && !dispute.is_charge_refundable) {
    throw invalidRequest(`Charge ${charge.id} has been charged back; cannot issue a refund.`, { code: 'charge_disputed', param: 'charge' });
  }
  if ((input.reverse_transfer || input.refund_application_fee) && account !== pay.platform) {
    throw invalidRequest('Only the platform that created the charge can reverse its transfer or refund its application fee.', {
      param: input.reverse_transfer ? 'reverse_transfer' : 'refund_application_fee',
    });
  }
  const isFinal = amount === refundable;
  const card = (pay.charges.internal(charge.id).card as TestCard | undefined) ?? undefined;
  const id = pay.core.newId('re');
  const txn = pay.core.postLedger({ account, amount: -amount, currency: charge.currency, type: 'refund', source: id, description: 'REFUND FOR CHARGE' });
  const status = card?.refund === 'pending_then_succeeded' ? 'pending' : 'succeeded';
  let refund: Stripe.Refund = {
    id,
    object: 'refund',
    amount,
    balance_transaction: txn.id,
    charge: charge.id,
    created: pay.core.now(),
    currency: charge.currency,
    customer: typeof charge.customer === 'string' ? charge.customer : null,
    customer_account: null,
    destination_details: { card: { reference_status: 'pending', reference_type: 'acquirer_reference_number', type: 'refund' }, type: 'card' },
    metadata: input.metadata ?? {},
    payment_intent: typeof charge.payment_intent === 'string' ? charge.payment_intent : null,
    payment_method: charge.payment_method,
    reason: input.reason ?? null,
    receipt_number: null,
    source_transfer_reversal: null,
    status,
    transfer_reversal: null,
  };
  if (status === 'pending') refund.pending_reason = 'processing';
  pay.refunds.insert(account, refund, { internal: { behaviour: card?.refund ?? null } });

  const chargeBefore = { amount_refunded: charge.amount_refunded, refunded: charge.refunded };
  charge.amount_refunded += amount;
  charge.refunded = charge.amount_refunded >= charge.amount;
  pay.charges.save(charge);

  /** This refund's part of the transfer or the fee: in proportion to the charge, or all that is left on the final refund. */
  const shareOf = (total: number, alreadyReturned: number) =>
    proportionalShare({ total, alreadyReturned, chargeAmount: charge.amount - released, refundAmount: amount, isFinal });
  let reversedTransfer: Stripe.Transfer | undefined;
  let refundedFee: Stripe.ApplicationFee | undefined;
  if (input.reverse_transfer && charge.transfer) {
    const transfer = pay.transfers.require(String(charge.transfer), pay.platform);
    const share = shareOf(transfer.amount, transfer.amount_reversed);
    if (share > 0) {
      const { transfer: t, reversal } = reverseTransfer(pay, transfer.id, share, { metadata: {}, sourceRefund: id, refundFee: false });
      reversedTransfer = t;
      refund.transfer_reversal = reversal.id;
    }
  }
  if (input.refund_application_fee && charge.application_fee) {
    const fee = pay.fees.require(String(charge.application_fee), pay.platform);
    const share = shareOf(fee.amount, fee.amount_refunded);
    if (share > 0) refundedFee = refundFee(pay, fee.id, share, {}).fee;
  }
  refund = pay.refunds.save(refund);
  const updatedCharge = pay.charges.require(charge.id, account);
  pay.core.emitEvent({ type: 'refund.created', object: refund, account });
  pay.core.emitEvent({
    type: 'charge.refunded',
    object: updatedCharge,
    account,
    previousAttributes: chargeBefore.refunded === updatedCharge.refunded ? { amount_refunded: chargeBefore.amount_refunded } : chargeBefore,
  });
  if (reversedTransfer) pay.core.emitEvent({ type: 'transfer.reversed', object: reversedTransfer });
  if (refundedFee) pay.core.emitEvent({ type: 'application_fee.refunded', object: refundedFee });
  return refund;
}

/** Ticker: 7726 refunds settle (pending → succeeded); 5126 refunds fail (succeeded → failed). */
export function settleRefunds(pay: Payments): void {
  for (const r of pay.refunds.list(
    undefined,
    (_r, internal) => internal.behaviour === 'pending_then_succeeded' || internal.behaviour === 'succeeded_then_failed',
  )) {
    const internal = pay.refunds.internal(r.id);
    if (internal.settled) continue;
    const account = pay.refunds.ownerOf(r.id) ?? pay.platform;
    const request = { id: null, idempotency_key: null };
    if (internal.behaviour === 'pending_then_succeeded' && r.status === 'pending') {
      const prev = { status: r.status, pending_reason: r.pending_reason };
      r.status = 'succeeded';
      delete r.pending_reason;
      const saved = pay.refunds.save(r);
      pay.refunds.setInternal(r.id, { settled: true });
      pay.core.emitEvent({ type: 'refund.updated', object: saved, account, previousAttributes: prev, request });
    } else if (internal.behaviour === 'succeeded_then_failed' && r.status === 'succeeded') {
      const charge = pay.charges.require(String(r.charge));
      const txn = pay.core.postLedger({ account, amount: r.amount, currency: r.currency, type: 'refund_failure', source: r.id, description: 'REFUND FAILURE' });
      r.status = 'failed';
      r.failure_reason = 'expired_or_canceled_card';
      r.failure_balance_transaction = txn.id;
      const saved = pay.refunds.save(r);
      pay.refunds.setInternal(r.id, { settled: true });
      charge.amount_refunded = Math.max(0, charge.amount_refunded - r.amount);
      charge.refunded = false;
      pay.charges.save(charge);
      pay.core.emitEvent({ type: 'refund.failed', object: saved, account, request });
      pay.core.emitEvent({ type: 'refund.updated', object: saved, account, previousAttributes: { status: 'succeeded' }, request });
    }
  }
}

export function cancelRefund(pay: Payments, account: string, id: string): Stripe.Refund {
  const r = pay.refunds.require(id, account);
  if (r.status !== 'requires_action') {
    throw invalidRequest(`Can't cancel refund ${id} in status ${r.status}. Only refunds with status requires_action can be canceled.`, { param: 'refund' });
  }
  r.status = 'canceled';
  const saved = pay.refunds.save(r);
  pay.core.emitEvent({ type: 'refund.updated', object: saved, account, previousAttributes: { status: 'requires_action' } });
  return saved;
}
