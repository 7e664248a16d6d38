// The application fee: the rounding rule as a table, and which policy prices an order.
import { describe, expect, it } from 'vitest';
import { applicationFeeFor, DEFAULT_POLICY } from '../../src/orders/fees.ts';
import { feeTermsFor } from '../../src/orders/queries.ts';
import { createTestUser } from '../helpers/app.ts';
import { useDatabase } from '../helpers/fixture.ts';

describe('applicationFeeFor: basis points rounded half up, plus fixed, never above the amount', () => {
  const cases: [string, number, number, number, number][] = [
    // label, amount, basis points, fixed, expected fee
    ['1 unit at 10 %: 0.1 rounds down to 0', 1, 1000, 0, 0],
    ['1 unit at 50 %: exactly half rounds up', 1, 5000, 0, 1],
    ['1 unit with a fixed 30: capped at the amount', 1, 1000, 30, 1],
    ['5 units at 10 %: 0.5 rounds up', 5, 1000, 0, 1],
    ['4 units at 10 %: 0.4 rounds down', 4, 1000, 0, 0],
    ['odd amount 1999 at 10 % → 199.9 → 200', 1999, 1000, 0, 200],
    ['odd amount 1995 at 2.9 % → 57.855 → 58', 1995, 290, 0, 58],
    ['odd amount 1234 at 2.9 % + 30 → 35.786 → 36 + 30', 1234, 290, 30, 66],
    ['odd amount 333 at 15 % → 49.95 → 50', 333, 1500, 0, 50],
    ['JPY ¥50 at 10 % + ¥10 → 5 + 10', 50, 1000, 10, 15],
    ['100 % takes everything, never more', 2500, 10000, 0, 2500],
    ['100 % plus fixed is still capped at the amount', 2500, 10000, 99, 2500],
    ['0 % and no fixed part is no fee', 2500, 0, 0, 0],
    ['the largest amount Stripe takes, at 10 %', 99_999_999, 1000, 0, 10_000_000],
  ];
  it.each(cases)('%s', (_label, amount, basisPoints, fixedAmount, expected) => {
    expect(applicationFeeFor(amount, { basisPoints, fixedAmount })).toBe(expected);
  });

  it('refuses nonsense terms instead of inventing a fee', () => {
    expect(() => applicationFeeFor(0, { basisPoints: 1000, fixedAmount: 0 })).toThrow(RangeError);
    expect(() => applicationFeeFor(10.5, { basisPoints: 1000, fixedAmount: 0 })).toThrow(RangeError);
    expect(() => applicationFeeFor(100, { basisPoints: 10_001, fixedAmount: 0 })).toThrow(RangeError);
    expect(() => applicationFeeFor(100, { basisPoints: 12.5, fixedAmount: 0 })).toThrow(RangeError);
  });
});

describe('feeTermsFor: the most specific policy wins', () => {
  const database = useDatabase();

  it('built-in default → platform any-currency → platform per-currency → seller any-currency → seller per-currency', async () => {
    const db = database.db;
    const seller = await createTestUser(db, 'seller');
    const other = await createTestUser(db, 'seller');
    for (const id of [seller.id, other.id]) await db.insertInto('sellers').values({ id }).execute();

    expect(await feeTermsFor(db, seller.id, 'usd')).toEqual(DEFAULT_POLICY);
    await db.insertInto('fee_policies').values({ seller_id: null, currency: null, basis_points: 800 }).execute();
    expect((await feeTermsFor(db, seller.id, 'usd')).basisPoints).toBe(800);
    await db.insertInto('fee_policies').values({ seller_id: null, currency: 'usd', basis_points: 900, fixed_amount: 30 }).execute();
    expect(await feeTermsFor(db, seller.id, 'usd')).toMatchObject({ basisPoints: 900, fixedAmount: 30 });
    expect((await feeTermsFor(db, seller.id, 'jpy')).basisPoints).toBe(800);
    await db.insertInto('fee_policies').values({ seller_id: seller.id, currency: null, basis_points: 500 }).execute();
    expect(await feeTermsFor(db, seller.id, 'usd')).toMatchObject({ basisPoints: 500, fixedAmount: 0 });
    await db.insertInto('fee_policies').values({ seller_id: seller.id, currency: 'usd', basis_points: 300, fixed_amount: 10, on_behalf_of: true }).execute();
    expect(await feeTermsFor(db, seller.id, 'usd')).toMatchObject({ basisPoints: 300, fixedAmount: 10, onBehalfOf: true });
    // The override is the seller's alone.
    expect(await feeTermsFor(db, other.id, 'usd')).toMatchObject({ basisPoints: 900, fixedAmount: 30 });
    // The seller's override, applied: 3 % of $19.99 is 59.97 cents → 60, plus the fixed 10.
    expect(applicationFeeFor(1999, await feeTermsFor(db, seller.id, 'usd'))).toBe(60 + 10);
  });

  it('one policy per scope; a fixed amount needs a currency', async () => {
    const db = database.db;
    await expect(db.insertInto('fee_policies').values({ seller_id: null, currency: 'usd', basis_points: 100 }).execute()).rejects.toThrow();
    await expect(
      db.insertInto('fee_policies').values({ seller_id: null, currency: 'eur', basis_points: 100, fixed_amount: 0 }).execute(),
    ).resolves.toBeDefined();
    await expect(db.insertInto('fee_policies').values({ seller_id: null, currency: null, basis_points: 100, fixed_amount: 30 }).execute()).rejects.toThrow();
  });
});
