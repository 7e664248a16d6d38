/**
 * Charges: authorising a PaymentIntent's card and capturing it, with the money movement of a
 * captured charge on the shared ledger (the model is in ./README.md, "Money model"):
 *
 *   platform   charge          +amount  fee 2.9 % + 30 (fees.ts)         source ch_
 *   platform   transfer        −transfer amount                          source tr_   } destination
 *   platform   application_fee +fee                                      source fee_  } charges only
 *   connected  payment         +transfer amount  fee = application fee   source py_   }
 *
 * Test cards decide the outcome (cards.ts): declines, 3DS, disputes opened right after capture.
 */
import type Stripe from 'stripe';
import { cardError } from '../../core/errors.ts';
import type { TestCard } from './cards.ts';
import { stripeFee, stripeFeeDetails } from './fees.ts';
import { billingDetails, chargeCardDetails, declineOutcome, successOutcome } from './objects.ts';
import { cardOf, saveForFutureUsage } from './payment-methods.ts';
import { makeTransfer } from './transfers.ts';
import { makeApplicationFee, PLATFORM_APPLICATION } from './application-fees.ts';
import { openDispute } from './disputes.ts';
import type { ConfirmResult } from './intents.ts';
import type { Payments } from './state.ts';

/** Authorise (and, unless manual capture, capture) the PaymentIntent's card. */
export function attemptCharge(pay: Payments, account: string, id: string, authenticated: boolean): ConfirmResult {
  let pi = pay.pis.require(id, account, 'intent');
  const pmId = String(pi.payment_method);
  const pm = pay.pms.require(pmId, account);
  const card = cardOf(pay, pmId);
  const chargeId = pay.core.newId('ch');
  const base = chargeFor(pay, pi, pm, card, chargeId, authenticated);

  if (card.decline) {
    const charge: Stripe.Charge = {
      ...base,
      status: 'failed',
      paid: false,
      failure_code: 'card_declined',
      failure_message: card.decline.message,
      outcome: declineOutcome(card.decline.decline_code),
    };
    pay.charges.insert(account, charge, { internal: { card, authenticated } });
    pi.status = 'requires_payment_method';
    pi.latest_charge = chargeId;
    pi.last_payment_error = {
      charge: chargeId,
      code: 'card_declined',
      decline_code: card.decline.decline_code,
      doc_url: 'https://stripe.com/docs/error-codes/card-declined',
      message: card.decline.message,
      payment_method: pm,
      type: 'card_error',
    };
    pi.payment_method = null;
    pi = pay.pis.save(pi);
    pay.core.emitEvent({ type: 'charge.failed', object: charge, account });
    pay.core.emitEvent({ type: 'payment_intent.payment_failed', object: pi, account });
    for (const listener of pay.hooks.intentPaymentFailed) listener(pi, account);
    const error = cardError(card.decline.message, {
      code: 'card_declined',
      decline_code: card.decline.decline_code,
      extra: { charge: chargeId, payment_intent: pi, payment_method: pm },
    });
    return { kind: 'declined', pi, error };
  }

  let charge: Stripe.Charge = { ...base, captured: false };
  pay.charges.insert(account, charge, { internal: { card, authenticated } });
  pi.latest_charge = chargeId;
  if (pi.capture_method === 'manual') {
    pi.status = 'requires_capture';
    pi.amount_capturable = pi.amount;
    pi = pay.pis.save(pi);
    pay.core.emitEvent({ type: 'charge.succeeded', object: charge, account });
    pay.core.emitEvent({ type: 'payment_intent.amount_capturable_updated', object: pi, account });
    saveForFutureUsage(pay, account, pi);
    return { kind: 'requires_capture', pi };
  }
  pay.pis.save(pi);
  charge = captureCharge(pay, account, chargeId, pi.amount, pi.application_fee_amount);
  pi = pay.pis.require(id, account, 'intent');
  pi.status = 'succeeded';
  pi.amount_received = pi.amount;
  pi.amount_capturable = 0;
  pi = pay.pis.save(pi);
  pay.core.emitEvent({ type: 'charge.succeeded', object: charge, account });
  pay.core.emitEvent({ type: 'payment_intent.succeeded', object: pi, account });
  afterSuccess(pay, account, chargeId);
  saveForFutureUsage(pay, account, pi);
  for (const listener of pay.hooks.intentSucceeded) listener(pi, account);
  return { kind: 'succeeded', pi };
}

/** The charge of an attempt, before its outcome is known. */
function chargeFor(pay: Payments, pi: Stripe.PaymentIntent, pm: Stripe.PaymentMethod, card: TestCard, chargeId: string, authenticated: boolean): Stripe.Charge {
  return {
    id: chargeId,
    object: 'charge',
    amount: pi.amount,
    amount_captured: 0,
    amount_refunded: 0,
    application: null,
    application_fee: null,
    application_fee_amount: pi.application_fee_amount,
    balance_transaction: null,
    billing_details: billingDetails(pm.billing_details.email),
    calculated_statement_descriptor: 'STRIPE EMULATOR',
    captured: false,
    created: pay.core.now(),
    currency: pi.currency,
    customer: typeof pi.customer === 'string' ? pi.customer : null,
    description: pi.description,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: null,
    failure_message: null,
    fraud_details: {},
    livemode: false,
    metadata: { ...pi.metadata },
    on_behalf_of: pi.on_behalf_of,
    outcome: successOutcome(),
    paid: true,
    payment_intent: pi.id,
    payment_method: pm.id,
    payment_method_details: chargeCardDetails(card, pi.amount, authenticated),
    receipt_email: pi.receipt_email,
    receipt_number: null,
    receipt_url: pay.core.pageUrl(`/hosted/receipts/${chargeId}`),
    refunded: false,
    review: null,
    // Stripe copies the intent's shipping onto its charges.
    shipping: pi.shipping ?? null,
    source: null,
    source_transfer: null,
    statement_descriptor: pi.statement_descriptor,
    statement_descriptor_suffix: pi.statement_descriptor_suffix,
    status: 'succeeded',
    transfer_data: pi.transfer_data ? { amount: pi.transfer_data.amount ?? null, destination: pi.transfer_data.destination } : null,
    transfer_group: pi.transfer_group,
  };
}

/**
 * Money movement of a captured charge (see the top of this file). Returns the updated charge.
 * Emits `transfer.created` / `application_fee.created`.
 */
export function captureCharge(pay: Payments, account: string, chargeId: string, amount: number, applicationFee: number | null): Stripe.Charge {
  const charge = pay.charges.require(chargeId, account);
  const card = pay.charges.internal(chargeId).card as TestCard;
  const immediate = !!card.bypassPending;
  const fee = stripeFee(amount);
  const feeDetails = stripeFeeDetails(amount, charge.currency);
  const appFee = applicationFee === null ? null : Math.min(applicationFee, amount);
  const direct = account !== pay.platform;
  if (direct && appFee) {
    feeDetails.push({ amount: appFee, application: PLATFORM_APPLICATION, currency: charge.currency, description: null, type: 'application_fee' });
  }
  const chargeTxn = pay.core.postLedger({
    account,
    amount,
    currency: charge.currency,
    type: 'charge',
    source: chargeId,
    fee: fee + (direct && appFee ? appFee : 0),
    fee_details: feeDetails,
    description: charge.description,
    immediate,
  });
  charge.balance_transaction = chargeTxn.id;
  charge.captured = true;
  charge.amount_captured = amount;
  const availableOn = chargeTxn.available_on;

  if (charge.transfer_data && !direct) {
    const destination = String(charge.transfer_data.destination);
    const { transfer, payment } = makeTransfer(pay, {
      destination,
      amount: charge.transfer_data.amount ?? amount,
      currency: charge.currency,
      sourceTransaction: chargeId,
      transferGroup: charge.transfer_group ?? `group_${String(charge.payment_intent)}`,
      metadata: {},
      description: null,
      platformAvailableOn: availableOn,
      immediate,
      applicationFee: appFee,
    });
    charge.transfer = transfer.id;
    charge.transfer_group = transfer.transfer_group;
    if (appFee !== null && appFee > 0) {
      const feeObj = makeApplicationFee(pay, {
        account: destination,
        amount: appFee,
        currency: charge.currency,
        charge: payment.id,
        originating: chargeId,
        availableOn,
        immediate,
      });
      charge.application_fee = feeObj.id;
    }
  } else if (direct && appFee !== null && appFee > 0) {
    const feeObj = makeApplicationFee(pay, {
      account,
      amount: appFee,
      currency: charge.currency,
      charge: chargeId,
      originating: null,
      availableOn: undefined,
      immediate,
    });
    charge.application_fee = feeObj.id;
  }
  return pay.charges.save(charge);
}

/** Test-card side effects after a successful capture (disputes). */
export function afterSuccess(pay: Payments, account: string, chargeId: string): void {
  const card = pay.charges.internal(chargeId).card as TestCard | undefined;
  if (card?.dispute) openDispute(pay, account, chargeId, card.dispute);
}
