/**
 * Money arithmetic of the emulator's payments, in ONE place.
 *
 * Stripe processing fee (US standard card pricing, stripe.com/pricing): 2.9 % + 30 minor units
 * per successful card charge, rounded to the nearest minor unit (half up). It is charged to the
 * account the charge lives on — for destination charges that is always the platform
 * (docs.stripe.com/connect/destination-charges: "Your account balance is debited for the cost of
 * the Stripe fees, refunds, and chargebacks"). Stripe does not return the processing fee when a
 * charge is refunded, so refunds carry no fee.
 *
 * Dispute fee: 1500 minor units for usd ("All disputed payments incur a $15.00 fee (or local
 * equivalent)", support.stripe.com/questions/dispute-fees-faq). We use 1500 for every currency.
 * On a won dispute Stripe returns the disputed amount and refunds the dispute fee ("Stripe will
 * also refund the network dispute fee to you at our expense", same FAQ). A third-party page
 * reports that since mid-2025 the fee is no longer refunded on wins; the official FAQ still says it
 * is, so the emulator refunds it. Change `DISPUTE_FEE_REFUNDED_ON_WIN` if that turns out wrong.
 */
import type Stripe from 'stripe';

export const STRIPE_FEE_PERCENT_BPS = 290; // 2.9 % in basis points
export const STRIPE_FEE_FIXED = 30; // minor units
export const DISPUTE_FEE = 1500; // minor units
export const DISPUTE_FEE_REFUNDED_ON_WIN = true;

/** Minimum charge amount per currency (minor units). Stripe: "$0.50 US or equivalent". */
const MINIMUMS: Record<string, number> = { usd: 50, eur: 50, gbp: 30, cad: 50, aud: 50, jpy: 50, chf: 50, nzd: 50, sgd: 50 };
export const MAX_AMOUNT = 99_999_999;

export function minimumAmount(currency: string): number {
  return MINIMUMS[currency.toLowerCase()] ?? 50;
}

/** Stripe's processing fee for a captured card amount: round(amount × 2.9 %) + 30. */
export function stripeFee(amount: number): number {
  if (amount <= 0) return 0;
  return Math.round((amount * STRIPE_FEE_PERCENT_BPS) / 10_000) + STRIPE_FEE_FIXED;
}

export function stripeFeeDetails(amount: number, currency: string): Stripe.BalanceTransaction.FeeDetail[] {
  return [{ amount: stripeFee(amount), application: null, currency, description: 'Stripe processing fees', type: 'stripe_fee' }];
}

export function disputeFeeDetails(fee: number, currency: string): Stripe.BalanceTransaction.FeeDetail[] {
  return [{ amount: fee, application: null, currency, description: 'Dispute fee', type: 'stripe_fee' }];
}

/**
 * The share of `total` that corresponds to refunding `refundAmount` of `chargeAmount`, as used for
 * `reverse_transfer` and `refund_application_fee` on partial refunds ("reversed in proportion to
 * the amount being refunded"). Rounded to the nearest minor unit; never more than what is left.
 * When the refund completes the charge (`isFinal`), whatever remains is returned so that a fully
 * refunded charge always reverses the whole transfer / fee (no rounding residue).
 */
export function proportionalShare(opts: { total: number; alreadyReturned: number; chargeAmount: number; refundAmount: number; isFinal: boolean }): number {
  const remaining = Math.max(0, opts.total - opts.alreadyReturned);
  if (opts.isFinal) return remaining;
  if (opts.chargeAmount <= 0) return 0;
  const share = Math.round((opts.total * opts.refundAmount) / opts.chargeAmount);
  return Math.min(remaining, Math.max(0, share));
}

/** "$25.00" style formatting used in Stripe error messages. */
export function formatMoney(amount: number, currency: string): string {
  const c = currency.toLowerCase();
  const zeroDecimal = ['bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf'].includes(c);
  const symbol = c === 'usd' ? '$' : c === 'eur' ? '€' : c === 'gbp' ? '£' : '';
  const value = zeroDecimal ? String(amount) : (amount / 100).toFixed(2);
  return symbol ? `${symbol}${value}` : `${value} ${c.toUpperCase()}`;
}
