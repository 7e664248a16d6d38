// The one rule for a seller's net on an order (orders/rules.ts sellerNetOf), which the seller's
// pages, their CSV export and the admin's breakdown all use.
import { describe, expect, it } from 'vitest';
import { sellerNetOf } from '../../src/orders/rules.ts';

const order = { amount: 10_000, application_fee_amount: 1_000, seller_net_amount: null };

describe('sellerNetOf', () => {
  it('starts at the transfer less the fee (or the transfer Stripe reported)', () => {
    expect(sellerNetOf(order, { refunds: [], feeReturned: 0, disputes: [] })).toEqual({ initial: 9_000, afterRefunds: 9_000, final: 9_000 });
    expect(sellerNetOf({ ...order, seller_net_amount: 8_900 }, { refunds: [], feeReturned: 0, disputes: [] }).final).toBe(8_900);
  });

  it('a partial refund takes back what it reversed and returns the fee refunded with it; one the platform paid costs the seller nothing', () => {
    const net = sellerNetOf(order, {
      refunds: [
        { amount: 2_500, fromSeller: 2_500 },
        { amount: 1_000, fromSeller: 0 },
      ],
      feeReturned: 250,
      disputes: [],
    });
    expect(net).toEqual({ initial: 9_000, afterRefunds: 6_750, final: 6_750 });
  });

  it('a lost dispute takes back what was recovered; a won one gives it back', () => {
    expect(sellerNetOf(order, { refunds: [], feeReturned: 0, disputes: [{ amount: 10_000, recovered: 10_000, repaid: 0 }] }).final).toBe(-1_000);
    expect(sellerNetOf(order, { refunds: [], feeReturned: 0, disputes: [{ amount: 10_000, recovered: 10_000, repaid: 10_000 }] }).final).toBe(9_000);
    // Recovery switched off by policy: the platform bears it, the seller keeps their net.
    expect(sellerNetOf(order, { refunds: [], feeReturned: 0, disputes: [{ amount: 10_000, recovered: 0, repaid: 0 }] }).final).toBe(9_000);
  });
});
