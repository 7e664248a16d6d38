/** Checks shared by PaymentIntents, Checkout and Transfers: amounts, currencies, Connect params. */
import type Stripe from 'stripe';
import { invalidRequest } from '../../core/errors.ts';
import { MAX_AMOUNT, formatMoney, minimumAmount } from './fees.ts';
import type { Payments } from './state.ts';

export function validateAmount(amount: number, currency: string, param = 'amount'): void {
  const min = minimumAmount(currency);
  if (amount < min) {
    throw invalidRequest(`Amount must be at least ${formatMoney(min, currency)} ${currency}`, { code: 'amount_too_small', param });
  }
  if (amount > MAX_AMOUNT) {
    throw invalidRequest(`Amount must be no more than ${formatMoney(MAX_AMOUNT, currency)}`, { code: 'amount_too_large', param });
  }
}

/** Lower-cased currency; 400 unless three letters. */
export function validateCurrency(currency: string, param = 'currency'): string {
  const c = currency.toLowerCase();
  if (!/^[a-z]{3}$/.test(c)) throw invalidRequest(`Invalid currency: ${currency}. Stripe currently supports these currencies: usd, eur, gbp, …`, { param });
  return c;
}

/** The destination of a transfer must exist and have an active `transfers` capability. */
export function requireTransferDestination(pay: Payments, destination: string, param: string): Stripe.Account {
  const acct = pay.core.getAccount(destination);
  if (!acct || destination === pay.platform) {
    throw invalidRequest(`No such destination: '${destination}'`, { code: 'resource_missing', param });
  }
  const cap = acct.capabilities?.transfers;
  const legacy = acct.capabilities?.legacy_payments;
  if (cap !== 'active' && legacy !== 'active') {
    throw invalidRequest(
      'Your destination account needs to have at least one of the following capabilities enabled: transfers, crypto_transfers, legacy_payments',
      {
        code: 'insufficient_capabilities_for_transfer',
        param,
      },
    );
  }
  return acct;
}

export interface ConnectParams {
  account: string;
  amount: number | null;
  application_fee_amount?: number | undefined;
  transfer_data?: { destination?: string | undefined; amount?: number | undefined } | undefined;
  on_behalf_of?: string | undefined;
  /** Field names for errors (Checkout reports `payment_intent_data[...]`). */
  prefix?: string | undefined;
}

/** Shared checks for PaymentIntent/Checkout `application_fee_amount`, `transfer_data`, `on_behalf_of`. */
export function validateConnectParams(pay: Payments, input: ConnectParams): void {
  const pname = (k: string, sub?: string): string => (input.prefix ? `${input.prefix}[${k}]${sub ? `[${sub}]` : ''}` : sub ? `${k}[${sub}]` : k);
  if (input.transfer_data) {
    if (!input.transfer_data.destination) {
      throw invalidRequest(`Missing required param: ${pname('transfer_data', 'destination')}.`, {
        code: 'parameter_missing',
        param: pname('transfer_data', 'destination'),
      });
    }
    if (input.account !== pay.platform) {
      throw invalidRequest('Destination charges cannot be created on a connected account (do not send the Stripe-Account header).', {
        param: pname('transfer_data', 'destination'),
      });
    }
    requireTransferDestination(pay, input.transfer_data.destination, pname('transfer_data', 'destination'));
    if (input.transfer_data.amount !== undefined && input.amount !== null && input.transfer_data.amount > input.amount) {
      throw invalidRequest(`The transfer amount (${formatMoney(input.transfer_data.amount, 'usd')}) must be less than or equal to the payment amount.`, {
        param: pname('transfer_data', 'amount'),
      });
    }
  }
  if (input.application_fee_amount !== undefined) {
    if (!input.transfer_data && input.account === pay.platform) {
      throw invalidRequest(
        'Can only apply an application_fee_amount when the PaymentIntent is attempting a direct payment (using an OAuth key or Stripe-Account header) or destination payment (using `transfer_data[destination]`).',
        { param: pname('application_fee_amount') },
      );
    }
    if (input.amount !== null && input.application_fee_amount > input.amount) {
      throw invalidRequest(`The application fee (${input.application_fee_amount}) must be less than or equal to the amount (${input.amount}).`, {
        param: pname('application_fee_amount'),
      });
    }
  }
  if (input.on_behalf_of) {
    const acct = pay.core.getAccount(input.on_behalf_of);
    if (!acct) throw invalidRequest(`No such account: '${input.on_behalf_of}'`, { code: 'resource_missing', param: pname('on_behalf_of') });
  }
}
