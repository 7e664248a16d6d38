// The platform's application fee: the one place that turns a fee policy into an amount.
//
// Policy = basis points of the amount + a fixed amount (minor units of the order's currency).
// Resolution, most specific first: the seller's override for this currency, the seller's override
// for any currency, the platform default for this currency, the platform default for any currency,
// and finally DEFAULT_POLICY below (the look-up is `feeTermsFor` in ./queries.ts). The chosen
// policy is copied onto the order, so editing a policy (issue 7's admin) changes new orders only.
//
// Rounding (documented, tested in test/orders/fees.test.ts):
//   percentage part = amount × bp / 10 000, rounded half up to a whole minor unit (integer
//   arithmetic, no floats: floor((amount × bp + 5 000) / 10 000));
//   fee = percentage part + fixed, then clamped to [0, amount] — never more than the amount, which
//   is also what Stripe would cap it to (stripe-facts §3).
// Zero-decimal currencies need nothing special: the minor unit *is* the whole unit (¥1).
import { assertMinorUnits } from '../money.ts';

export interface FeeTerms {
  basisPoints: number;
  fixedAmount: number;
  onBehalfOf: boolean;
  /** The policy row these terms came from; null for the built-in default. */
  policyId: string | null;
}

/** When no policy row applies: 10 %, nothing fixed, the platform is the settlement merchant. */
export const DEFAULT_POLICY: FeeTerms = { basisPoints: 1000, fixedAmount: 0, onBehalfOf: false, policyId: null };

export function applicationFeeFor(amount: number, terms: Pick<FeeTerms, 'basisPoints' | 'fixedAmount'>): number {
  assertMinorUnits(amount);
  assertMinorUnits(terms.fixedAmount);
  if (amount <= 0) throw new RangeError('amount must be positive');
  if (!Number.isInteger(terms.basisPoints) || terms.basisPoints < 0 || terms.basisPoints > 10_000) {
    throw new RangeError(`basis points must be an integer between 0 and 10000, got ${terms.basisPoints}`);
  }
  // amount ≤ 99 999 999 and bp ≤ 10 000, so the product stays far below 2^53.
  const percentage = Math.floor((amount * terms.basisPoints + 5_000) / 10_000);
  return Math.min(amount, Math.max(0, percentage + terms.fixedAmount));
}
