/**
 * Billing arithmetic, in ONE place: line amounts, the Connect split of a subscription invoice,
 * and prorations. Integers in minor units throughout.
 *
 * Application fee of a subscription invoice: `application_fee_percent` is "the percentage of the
 * subscription invoice total that will be transferred to the application owner's Stripe account"
 * (Subscription.application_fee_percent, stripe-node 23.1.0). Stripe does not document how the
 * fraction of a minor unit is rounded; the emulator rounds half up to the nearest minor unit, the
 * same convention as its processing fee (payments/fees.ts). UNCONFIRMED for odd totals; exact for
 * the common cases (2 000 × 10 % = 200).
 *
 * `transfer_data.amount_percent` works the same way on the transferred amount (default 100 %).
 *
 * Prorations (flexible billing mode, the default since 2025-09-30.clover): when an item's price
 * changes mid-period, the unused time on the old price is credited and the remaining time on
 * the new price is charged, each as `unit_amount × quantity × remaining / period length`,
 * rounded half up per line. Stripe computes prorations to the second; so does the emulator.
 */

/** `amount × percent / 100`, percent with at most two decimals, rounded half up. */
export function percentOf(amount: number, percent: number): number {
  if (amount <= 0 || percent <= 0) return 0;
  // Work in basis points of a percent (2 decimals) to keep the arithmetic exact.
  const hundredths = Math.round(percent * 100);
  return Math.floor((amount * hundredths + 5_000) / 10_000);
}

/** Has at most two decimal places and lies in [0, 100]. */
export function validPercent(v: number): boolean {
  return Number.isFinite(v) && v >= 0 && v <= 100 && Math.abs(Math.round(v * 100) - v * 100) < 1e-6;
}

export function lineAmount(unitAmount: number, quantity: number): number {
  return unitAmount * quantity;
}

/** The part of `amount` for `remaining` seconds of a `length`-second period, rounded half up. */
export function prorate(amount: number, remaining: number, length: number): number {
  if (length <= 0 || remaining <= 0) return 0;
  if (remaining >= length) return amount;
  const sign = amount < 0 ? -1 : 1;
  return sign * Math.floor((Math.abs(amount) * remaining * 2 + length) / (2 * length));
}

/** The Connect split of a paid subscription invoice. */
export interface InvoiceSplit {
  /** `application_fee_amount` on the invoice's PaymentIntent (null: no fee). */
  applicationFee: number | null;
  /** `transfer_data.amount` on the PaymentIntent (undefined: the whole amount is transferred). */
  transferAmount: number | undefined;
}

export function invoiceSplit(total: number, opts: { applicationFeePercent: number | null; transferAmountPercent: number | null | undefined }): InvoiceSplit {
  const applicationFee = opts.applicationFeePercent === null ? null : percentOf(total, opts.applicationFeePercent);
  const pct = opts.transferAmountPercent;
  const transferAmount = pct === null || pct === undefined || pct >= 100 ? undefined : percentOf(total, pct);
  return { applicationFee, transferAmount };
}
