// The platform's application fee: the one place that turns a fee policy into an amount.
//
// Policy = basis points of the amount + a fixed amount (minor units of the order's currency).
// Resolution, most specific first: the seller's override for this currency, the seller's override
// for any currency, the platform default for this currency, the platform default for any currency,
// and finally DEFAULT_POLICY below. The chosen policy is copied onto the order, so editing a policy
// (issue 7's admin) changes new orders only.
//
// Rounding (documented, tested in test/orders/fees.test.ts):
//   percentage part = amount × bp / 10 000, rounded half up to a whole minor unit (integer
//   arithmetic, no floats: floor((amount × bp + 5 000) / 10 000));
//   fee = percentage part + fixed, then clamped to [0, amount] — never more than the amount, which
//   is also what Stripe would cap it to (stripe-facts §3).
// Zero-decimal currencies need nothing special: the minor unit *is* the whole unit (¥1).
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
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

/** The policy that prices a new order of `sellerId` in `currency`. Works inside a transaction. */
export async function feeTermsFor(db: Kysely<Database>, sellerId: string, currency: string): Promise<FeeTerms> {
  const rows = await db.selectFrom('fee_policies').selectAll()
    .where((eb) => eb.or([eb('seller_id', '=', sellerId), eb('seller_id', 'is', null)]))
    .where((eb) => eb.or([eb('currency', '=', currency), eb('currency', 'is', null)]))
    .execute();
  const rank = (row: (typeof rows)[number]): number => (row.seller_id !== null ? 0 : 2) + (row.currency !== null ? 0 : 1);
  const best = rows.sort((a, b) => rank(a) - rank(b))[0];
  if (best === undefined) return DEFAULT_POLICY;
  return { basisPoints: best.basis_points, fixedAmount: best.fixed_amount, onBehalfOf: best.on_behalf_of, policyId: best.id };
}
