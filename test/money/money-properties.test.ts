// Property tests (fast-check) of the money arithmetic over arbitrary amounts and currencies,
// zero-decimal ones included: the application fee, refund splits (the transfer reversal and the
// fee refund in proportion, as the emulator computes them for Stripe, and the admin's bound on what
// is refundable), and writing and reading amounts. Each property states the rule with an oracle of
// its own (BigInt arithmetic, string building) rather than calling the code under test twice.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Order, RefundRow } from '../../src/db/schema.ts';
import { DomainError } from '../../src/errors.ts';
import { amountFromForm } from '../../src/money-input.ts';
import { formatMoney, MAXIMUM_AMOUNT, minorUnitDigits, parseMoney, SUPPORTED_CURRENCIES, toDecimalString } from '../../src/money.ts';
import { orderBreakdown } from '../../src/admin/money-views.ts';
import { applicationFeeFor } from '../../src/orders/fees.ts';
import { checkRefundAmount } from '../../src/refunds/rules.ts';
import { proportionalShare } from '../../src/emulator/resources/payments/fees.ts';

const ZERO_DECIMAL = ['jpy', 'krw', 'vnd', 'clp', 'xof'];
const currency = fc.constantFrom(...SUPPORTED_CURRENCIES, ...ZERO_DECIMAL);
const amount = fc.integer({ min: 1, max: MAXIMUM_AMOUNT });
const basisPoints = fc.integer({ min: 0, max: 10_000 });
const fixed = fc.integer({ min: 0, max: 100_000 });

describe('the application fee', () => {
  /** Half up to a whole minor unit, in exact integer arithmetic: floor((a·bp + 5000) / 10000). */
  const oracle = (a: number, bp: number, f: number) => {
    const percentage = Number((BigInt(a) * BigInt(bp) + 5_000n) / 10_000n);
    return Math.min(a, percentage + f);
  };

  it('is bp of the amount rounded half up, plus the fixed part, never more than the amount', () => {
    fc.assert(
      fc.property(amount, basisPoints, fixed, (a, bp, f) => {
        const fee = applicationFeeFor(a, { basisPoints: bp, fixedAmount: f });
        expect(Number.isSafeInteger(fee)).toBe(true);
        expect(fee).toBe(oracle(a, bp, f));
        expect(fee).toBeGreaterThanOrEqual(0);
        expect(fee).toBeLessThanOrEqual(a);
      }),
      { numRuns: 2_000 },
    );
  });

  it('never decreases when the amount, the rate or the fixed part grows', () => {
    fc.assert(
      fc.property(amount, basisPoints, fixed, fc.integer({ min: 1, max: 1_000 }), (a, bp, f, more) => {
        const fee = applicationFeeFor(a, { basisPoints: bp, fixedAmount: f });
        expect(applicationFeeFor(Math.min(MAXIMUM_AMOUNT, a + more), { basisPoints: bp, fixedAmount: f })).toBeGreaterThanOrEqual(fee);
        expect(applicationFeeFor(a, { basisPoints: Math.min(10_000, bp + more), fixedAmount: f })).toBeGreaterThanOrEqual(fee);
        expect(applicationFeeFor(a, { basisPoints: bp, fixedAmount: f + more })).toBeGreaterThanOrEqual(fee);
      }),
    );
  });

  it('refuses what is not money: non-integers, zero or negative amounts, rates outside 0–10 000 bp', () => {
    fc.assert(
      fc.property(fc.double({ noInteger: true, noNaN: true }), (x) => {
        expect(() => applicationFeeFor(x, { basisPoints: 100, fixedAmount: 0 })).toThrow(RangeError);
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: -MAXIMUM_AMOUNT, max: 0 }), (a) => {
        expect(() => applicationFeeFor(a, { basisPoints: 100, fixedAmount: 0 })).toThrow(RangeError);
      }),
    );
    fc.assert(
      fc.property(amount, fc.oneof(fc.integer({ max: -1 }), fc.integer({ min: 10_001 })), (a, bp) => {
        expect(() => applicationFeeFor(a, { basisPoints: bp, fixedAmount: 0 })).toThrow(RangeError);
      }),
    );
  });
});

/** A charge and a run of partial refunds that ends, or not, with the charge fully refunded. */
const refundRun = fc
  .record({
    charge: fc.integer({ min: 50, max: MAXIMUM_AMOUNT }),
    bp: basisPoints,
    cuts: fc.array(fc.integer({ min: 1, max: 1_000 }), { minLength: 1, maxLength: 8 }),
    full: fc.boolean(),
  })
  .map(({ charge, bp, cuts, full }) => {
    // Split the charge in the proportions of `cuts`; without `full`, drop the last piece.
    const weight = cuts.reduce((s, c) => s + c, 0);
    const pieces = cuts.map((c) => Math.floor((charge * c) / weight)).filter((p) => p > 0);
    const sum = pieces.reduce((s, p) => s + p, 0);
    if (pieces.length > 0) pieces[pieces.length - 1]! += charge - sum;
    else pieces.push(charge);
    return { charge, fee: applicationFeeFor(charge, { basisPoints: bp, fixedAmount: 0 }), refunds: full || pieces.length === 1 ? pieces : pieces.slice(0, -1) };
  });

/** What Stripe returns of `total` (the transfer, or the fee) across the refunds, one after another. */
function shares(total: number, charge: number, refunds: number[]): number[] {
  let returned = 0;
  let refunded = 0;
  return refunds.map((r) => {
    refunded += r;
    const share = proportionalShare({ total, alreadyReturned: returned, chargeAmount: charge, refundAmount: r, isFinal: refunded >= charge });
    returned += share;
    return share;
  });
}

describe('refund splits: the transfer reversal and the fee refund', () => {
  it('each is in proportion to its refund (within one minor unit), and their sums never pass what there is', () => {
    fc.assert(
      fc.property(refundRun, ({ charge, fee, refunds }) => {
        for (const total of [charge, fee]) {
          const parts = shares(total, charge, refunds);
          let returned = 0;
          let refunded = 0;
          parts.forEach((part, i) => {
            refunded += refunds[i]!;
            returned += part;
            expect(Number.isSafeInteger(part) && part >= 0).toBe(true);
            expect(returned).toBeLessThanOrEqual(total);
            // Each share is rounded to the nearest unit: so far, at most half a unit per refund off the
            // exact proportion total × refunded / charge (in BigInt: the products pass 2^53).
            const off = BigInt(returned) * BigInt(charge) - BigInt(total) * BigInt(refunded);
            expect(2n * (off < 0n ? -off : off) <= BigInt(charge) * BigInt(i + 1)).toBe(true);
          });
          expect(returned).toBeLessThanOrEqual(total);
          if (refunded === charge) expect(returned).toBe(total); // a full refund leaves no residue
        }
      }),
      { numRuns: 1_000 },
    );
  });

  it('a fully refunded destination charge leaves the seller and the platform with nothing of it (the breakdown agrees)', () => {
    fc.assert(
      fc.property(
        refundRun.filter((r) => r.refunds.reduce((s, x) => s + x, 0) === r.charge),
        ({ charge, fee, refunds }) => {
          const reversals = shares(charge, charge, refunds);
          const feeRefunded = shares(fee, charge, refunds).reduce((s, x) => s + x, 0);
          const order = {
            amount: charge,
            currency: 'usd',
            application_fee_amount: fee,
            seller_net_amount: charge - fee,
            stripe_fee_amount: null,
            fee_basis_points: 0,
            fee_fixed_amount: 0,
          } as unknown as Order;
          const rows = refunds.map((r, i) => ({ amount: r, status: 'succeeded', transfer_reversal_amount: reversals[i]! }) as unknown as RefundRow);
          const lines = Object.fromEntries(orderBreakdown(order, rows, { fee_refunded: feeRefunded }, []).map((l) => [l.key, l.amount]));
          expect(lines).toMatchObject({
            refunded: charge,
            refunded_from_seller: charge,
            refunded_by_platform: 0,
            seller_net_after_refunds: 0,
            platform_fee_kept: 0,
          });
        },
      ),
    );
  });

  it("the admin's bound: refunds accepted one after another never add up to more than the order", () => {
    fc.assert(
      fc.property(amount, fc.array(fc.integer({ min: -10, max: MAXIMUM_AMOUNT }), { maxLength: 12 }), (orderAmount, asked) => {
        let accepted = 0;
        for (const a of asked) {
          try {
            checkRefundAmount({ amount: orderAmount, currency: 'usd' }, orderAmount - accepted, a);
            accepted += a;
            expect(a).toBeGreaterThan(0);
          } catch (error) {
            expect(error).toBeInstanceOf(DomainError);
            expect(a <= 0 || accepted + a > orderAmount).toBe(true);
          }
        }
        expect(accepted).toBeLessThanOrEqual(orderAmount);
      }),
    );
  });
});

describe('writing and reading amounts', () => {
  const anyAmount = fc.integer({ min: 0, max: MAXIMUM_AMOUNT });

  it('toDecimalString then parseMoney gives the same minor units, in every currency', () => {
    fc.assert(
      fc.property(anyAmount, currency, (a, c) => {
        const text = toDecimalString(a, c);
        expect(text).toMatch(minorUnitDigits(c) === 0 ? /^\d+$/ : /^\d+\.\d\d$/);
        expect(parseMoney(text, c)).toEqual({ ok: true, amount: a });
      }),
      { numRuns: 2_000 },
    );
  });

  it('formatMoney shows the same digits, and with symbol and grouping removed reads back to the amount', () => {
    fc.assert(
      fc.property(anyAmount, currency, (a, c) => {
        const shown = formatMoney(a, c);
        expect(shown.replace(/\D/g, '')).toBe(toDecimalString(a, c).replace(/\D/g, ''));
        const bare = shown.replace(/[^\d.]/g, '');
        expect(parseMoney(bare, c)).toEqual({ ok: true, amount: a });
        if (minorUnitDigits(c) === 0) expect(shown).not.toContain('.');
      }),
      { numRuns: 2_000 },
    );
  });

  it('a typed amount with up to two decimals is read exactly (one decimal is tens of cents); never a third decimal', () => {
    const twoDecimal = fc.constantFrom(...SUPPORTED_CURRENCIES.filter((c) => minorUnitDigits(c) === 2));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 999_999 }), fc.integer({ min: 0, max: 99 }), twoDecimal, (whole, cents, c) => {
        expect(parseMoney(`${whole}.${String(cents).padStart(2, '0')}`, c)).toEqual({ ok: true, amount: whole * 100 + cents });
        if (cents % 10 === 0) expect(parseMoney(`${whole}.${cents / 10}`, c)).toEqual({ ok: true, amount: whole * 100 + cents });
        expect(parseMoney(`${whole}.${String(cents).padStart(2, '0')}1`, c).ok).toBe(false);
      }),
    );
  });

  it('zero-decimal currencies take whole units only', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAXIMUM_AMOUNT }), fc.constantFrom(...ZERO_DECIMAL), fc.integer({ min: 0, max: 99 }), (a, c, d) => {
        expect(parseMoney(String(a), c)).toEqual({ ok: true, amount: a });
        expect(parseMoney(`${a}.${d}`, c).ok).toBe(false);
      }),
    );
  });

  it('a form amount is positive minor units, or a DomainError — never a silently changed number', () => {
    fc.assert(
      fc.property(fc.string(), currency, (text, c) => {
        try {
          const a = amountFromForm(text, c);
          expect(Number.isSafeInteger(a) && a > 0).toBe(true);
          expect(parseMoney(text, c)).toEqual({ ok: true, amount: a });
        } catch (error) {
          expect(error).toBeInstanceOf(DomainError);
        }
      }),
      { numRuns: 2_000 },
    );
  });
});
