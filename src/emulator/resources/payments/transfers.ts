/**
 * Transfers from the platform to connected accounts (each with its `py_` payment on the
 * destination), and their reversals (`trr_`, with a `pyr_` refund of that payment). Destination
 * charges make their transfer here too (charges.ts).
 */
import type Stripe from 'stripe';
import { invalidRequest } from '../../core/errors.ts';
import { formatMoney, proportionalShare } from './fees.ts';
import { apiList, billingDetails } from './objects.ts';
import { PLATFORM_APPLICATION, refundFee } from './application-fees.ts';
import { requireTransferDestination, validateCurrency } from './validation.ts';
import type { Payments } from './state.ts';

/**
 * A transfer from the platform to a connected account, with its `py_` payment on the
 * destination. `applicationFee` (destination charges) becomes the fee on that payment.
 */
export function makeTransfer(
  pay: Payments,
  o: {
    destination: string;
    amount: number;
    currency: string;
    sourceTransaction: string | null;
    transferGroup: string | null;
    metadata: Record<string, string>;
    description: string | null;
    platformAvailableOn?: number | undefined;
    immediate?: boolean | undefined;
    applicationFee?: number | null | undefined;
  },
): { transfer: Stripe.Transfer; payment: Stripe.Charge } {
  const now = pay.core.now();
  const transferId = pay.core.newId('tr');
  const paymentId = pay.core.newId('py');
  const platformTxn = pay.core.postLedger({
    account: pay.platform,
    amount: -o.amount,
    currency: o.currency,
    type: 'transfer',
    source: transferId,
    description: o.description,
    ...(o.platformAvailableOn !== undefined ? { available_on: o.platformAvailableOn } : {}),
  });
  const appFee = o.applicationFee ?? 0;
  const paymentTxn = pay.core.postLedger({
    account: o.destination,
    amount: o.amount,
    currency: o.currency,
    type: 'payment',
    source: paymentId,
    fee: appFee,
    fee_details: appFee > 0 ? [{ amount: appFee, application: PLATFORM_APPLICATION, currency: o.currency, description: null, type: 'application_fee' }] : [],
    immediate: !!o.immediate,
  });
  const payment: Stripe.Charge = {
    id: paymentId,
    object: 'charge',
    amount: o.amount,
    amount_captured: o.amount,
    amount_refunded: 0,
    application: PLATFORM_APPLICATION,
    application_fee: null,
    application_fee_amount: appFee > 0 ? appFee : null,
    balance_transaction: paymentTxn.id,
    billing_details: billingDetails(),
    calculated_statement_descriptor: null,
    captured: true,
    created: now,
    currency: o.currency,
    customer: null,
    description: null,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: null,
    failure_message: null,
    fraud_details: {},
    livemode: false,
    metadata: {},
    on_behalf_of: null,
    outcome: null,
    paid: true,
    payment_intent: null,
    payment_method: null,
    payment_method_details: { type: 'stripe_account' },
    receipt_email: null,
    receipt_number: null,
    receipt_url: null,
    refunded: false,
    review: null,
    shipping: null,
    source: null,
    source_transfer: transferId,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: 'succeeded',
    transfer_data: null,
    transfer_group: null,
  };
  pay.charges.insert(o.destination, payment, { internal: { destinationPayment: true } });
  const transfer: Stripe.Transfer = {
    id: transferId,
    object: 'transfer',
    amount: o.amount,
    amount_reversed: 0,
    balance_transaction: platformTxn.id,
    created: now,
    currency: o.currency,
    description: o.description,
    destination: o.destination,
    destination_payment: paymentId,
    livemode: false,
    metadata: o.metadata,
    reversals: apiList([], `/v1/transfers/${transferId}/reversals`),
    reversed: false,
    source_transaction: o.sourceTransaction,
    source_type: 'card',
    transfer_group: o.transferGroup,
  };
  pay.transfers.insert(pay.platform, transfer);
  pay.core.emitEvent({ type: 'transfer.created', object: transfer });
  return { transfer, payment };
}

export function createTransfer(
  pay: Payments,
  input: {
    amount: number;
    currency: string;
    destination: string;
    source_transaction?: string | undefined;
    transfer_group?: string | undefined;
    metadata?: Record<string, string> | undefined;
    description?: string | undefined;
  },
): Stripe.Transfer {
  const currency = validateCurrency(input.currency);
  requireTransferDestination(pay, input.destination, 'destination');
  if (input.amount <= 0) throw invalidRequest('Invalid positive integer', { param: 'amount', code: 'parameter_invalid_integer' });
  let availableOn: number | undefined;
  if (input.source_transaction) {
    const charge = pay.charges.get(input.source_transaction, pay.platform);
    if (!charge) throw invalidRequest(`No such charge: '${input.source_transaction}'`, { code: 'resource_missing', param: 'source_transaction' });
    if (charge.currency !== currency) {
      throw invalidRequest(
        `The currency of source_transaction's balance transaction (${charge.currency}) must be the same as the transfer currency (${currency})`,
        { param: 'currency' },
      );
    }
    const used = pay.transfers.list(pay.platform, (t) => t.source_transaction === charge.id).reduce((n, t) => n + t.amount - t.amount_reversed, 0);
    if (input.amount > charge.amount - used) {
      throw invalidRequest(`Transfer amount exceeds the amount available from the source transaction (${charge.amount - used}).`, {
        param: 'amount',
        code: 'amount_too_large',
      });
    }
    const txn = charge.balance_transaction ? pay.btxns.get(String(charge.balance_transaction)) : undefined;
    if (txn && txn.status === 'pending') availableOn = txn.available_on;
  } else {
    const available = pay.core.ledger.available(pay.platform, currency);
    if (input.amount > available) {
      throw invalidRequest(
        'You have insufficient available funds in your Stripe account. Try adding funds directly to your available balance by creating Charges using the 4000000000000077 test card. See: https://stripe.com/docs/testing#available-balance',
        { code: 'balance_insufficient', param: 'amount' },
      );
    }
  }
  const { transfer } = makeTransfer(pay, {
    destination: input.destination,
    amount: input.amount,
    currency,
    sourceTransaction: input.source_transaction ?? null,
    transferGroup: input.transfer_group ?? null,
    metadata: input.metadata ?? {},
    description: input.description ?? null,
    platformAvailableOn: availableOn,
    immediate: availableOn === undefined,
  });
  return transfer;
}

/** Reverse part of a transfer (`trr_`, and a `pyr_` refund of the destination payment). */
export function reverseTransfer(
  pay: Payments,
  transferId: string,
  amount: number,
  opts: { metadata: Record<string, string>; sourceRefund: string | null; refundFee: boolean },
): { transfer: Stripe.Transfer; reversal: Stripe.TransferReversal } {
  const transfer = pay.transfers.require(transferId, pay.platform);
  const remaining = transfer.amount - transfer.amount_reversed;
  if (remaining <= 0) {
    throw invalidRequest(`Transfer ${transfer.id} has already been fully reversed.`, { param: 'amount' });
  }
  if (amount > remaining) {
    throw invalidRequest(
      `Reversal amount (${formatMoney(amount, transfer.currency)}) is greater than the unreversed amount of the transfer (${formatMoney(remaining, transfer.currency)}).`,
      {
        param: 'amount',
      },
    );
  }
  if (amount <= 0) throw invalidRequest('Invalid positive integer', { param: 'amount', code: 'parameter_invalid_integer' });
  const destination = String(transfer.destination);
  const id = pay.core.newId('trr');
  const pyrId = pay.core.newId('pyr');
  const txn = pay.core.postLedger({ account: pay.platform, amount, currency: transfer.currency, type: 'transfer_refund', source: id });
  const pyrTxn = pay.core.postLedger({ account: destination, amount: -amount, currency: transfer.currency, type: 'payment_refund', source: pyrId });
  const paymentId = transfer.destination_payment ? String(transfer.destination_payment) : null;
  const pyr: Stripe.Refund = {
    id: pyrId,
    object: 'refund',
    amount,
    balance_transaction: pyrTxn.id,
    charge: paymentId,
    created: pay.core.now(),
    currency: transfer.currency,
    customer: null,
    customer_account: null,
    metadata: {},
    payment_intent: null,
    payment_method: null,
    reason: null,
    receipt_number: null,
    source_transfer_reversal: id,
    status: 'succeeded',
    transfer_reversal: null,
  };
  pay.refunds.insert(destination, pyr, { internal: { destinationPaymentRefund: true } });
  if (paymentId) {
    const payment = pay.charges.get(paymentId);
    if (payment) {
      payment.amount_refunded += amount;
      payment.refunded = payment.amount_refunded >= payment.amount;
      pay.charges.save(payment);
    }
  }
  const reversal: Stripe.TransferReversal = {
    id,
    object: 'transfer_reversal',
    amount,
    balance_transaction: txn.id,
    created: pay.core.now(),
    currency: transfer.currency,
    destination_payment_refund: pyrId,
    metadata: opts.metadata,
    source_refund: opts.sourceRefund,
    transfer: transfer.id,
  };
  pay.reversals.insert(pay.platform, reversal);
  transfer.amount_reversed += amount;
  transfer.reversed = transfer.amount_reversed >= transfer.amount;
  transfer.reversals = apiList([reversal, ...transfer.reversals.data], `/v1/transfers/${transfer.id}/reversals`);
  const saved = pay.transfers.save(transfer);
  if (opts.refundFee && paymentId) {
    const payment = pay.charges.get(paymentId);
    if (payment?.application_fee) {
      const fee = pay.fees.require(String(payment.application_fee), pay.platform);
      const share = proportionalShare({
        total: fee.amount,
        alreadyReturned: fee.amount_refunded,
        chargeAmount: transfer.amount,
        refundAmount: amount,
        isFinal: transfer.reversed,
      });
      if (share > 0) {
        const { fee: updated } = refundFee(pay, fee.id, share, {});
        pay.core.emitEvent({ type: 'application_fee.refunded', object: updated });
      }
    }
  }
  return { transfer: pay.transfers.require(saved.id), reversal };
}
