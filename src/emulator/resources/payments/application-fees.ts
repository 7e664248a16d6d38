/**
 * Application fees: the platform's cut of a charge (`fee_`, credited to the platform's ledger),
 * and their refunds (`fr_`: the platform pays the fee back to the connected account).
 */
import type Stripe from 'stripe';
import { invalidRequest } from '../../core/errors.ts';
import { formatMoney } from './fees.ts';
import { apiList } from './objects.ts';
import type { Payments } from './state.ts';

/** The platform's Connect application id (`application` on fees). */
export const PLATFORM_APPLICATION = 'ca_emulatorPlatformApplication0';

/** The fee of a captured charge; settles with the charge (`availableOn`) unless `immediate`. */
export function makeApplicationFee(
  pay: Payments,
  o: { account: string; amount: number; currency: string; charge: string; originating: string | null; availableOn: number | undefined; immediate: boolean },
): Stripe.ApplicationFee {
  const id = pay.core.newId('fee');
  const txn = pay.core.postLedger({
    account: pay.platform,
    amount: o.amount,
    currency: o.currency,
    type: 'application_fee',
    source: id,
    immediate: o.immediate,
    ...(o.availableOn !== undefined && !o.immediate ? { available_on: o.availableOn } : {}),
  });
  const fee: Stripe.ApplicationFee = {
    id,
    object: 'application_fee',
    account: o.account,
    amount: o.amount,
    amount_refunded: 0,
    application: PLATFORM_APPLICATION,
    balance_transaction: txn.id,
    charge: o.charge,
    created: pay.core.now(),
    currency: o.currency,
    fee_source: { charge: o.charge, type: 'charge' },
    livemode: false,
    originating_transaction: o.originating,
    refunded: false,
    refunds: apiList([], `/v1/application_fees/${id}/refunds`),
  };
  pay.fees.insert(pay.platform, fee);
  if (o.charge.startsWith('py_')) {
    const payment = pay.charges.get(o.charge);
    if (payment) {
      payment.application_fee = id;
      pay.charges.save(payment);
    }
  }
  pay.core.emitEvent({ type: 'application_fee.created', object: fee });
  return fee;
}

/** Refund part of an application fee (`fr_`): platform pays it back to the connected account. */
export function refundFee(
  pay: Payments,
  feeId: string,
  amount: number | undefined,
  metadata: Record<string, string>,
): { fee: Stripe.ApplicationFee; refund: Stripe.FeeRefund } {
  const fee = pay.fees.require(feeId, pay.platform);
  const remaining = fee.amount - fee.amount_refunded;
  if (remaining <= 0) {
    throw invalidRequest(`Application fee ${fee.id} has already been refunded.`, { code: 'charge_already_refunded', param: 'amount' });
  }
  const value = amount ?? remaining;
  if (value > remaining) {
    throw invalidRequest(
      `Refund amount (${formatMoney(value, fee.currency)}) is greater than unrefunded amount on fee (${formatMoney(remaining, fee.currency)})`,
      { param: 'amount', code: 'amount_too_large' },
    );
  }
  if (value <= 0) throw invalidRequest('Invalid positive integer', { param: 'amount', code: 'parameter_invalid_integer' });
  const id = pay.core.newId('fr');
  const txn = pay.core.postLedger({ account: pay.platform, amount: -value, currency: fee.currency, type: 'application_fee_refund', source: id });
  pay.core.postLedger({ account: String(fee.account), amount: value, currency: fee.currency, type: 'application_fee_refund', source: id, immediate: true });
  const refund: Stripe.FeeRefund = {
    id,
    object: 'fee_refund',
    amount: value,
    balance_transaction: txn.id,
    created: pay.core.now(),
    currency: fee.currency,
    fee: fee.id,
    metadata,
  };
  pay.feeRefunds.insert(pay.platform, refund);
  fee.amount_refunded += value;
  fee.refunded = fee.amount_refunded >= fee.amount;
  fee.refunds = apiList([refund, ...fee.refunds.data], `/v1/application_fees/${fee.id}/refunds`);
  return { fee: pay.fees.save(fee), refund };
}
