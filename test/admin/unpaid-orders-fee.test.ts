// Issue 15 point 14: a failed or canceled order charged nobody, so no platform fee was taken: the
// admin's and the seller's order lists show none for it (a paid order's fee is still shown).
import { describe, expect, it } from 'vitest';
import { cancelOrderByBuyer, syncOrderFromStripe } from '../../src/orders/use-cases.ts';
import { useWorld } from '../helpers/fixture.ts';
import { createPaidOrder, createPendingOrder, useSeller } from '../helpers/market.ts';

describe('unpaid orders carry no platform fee in the lists', () => {
  const h = useWorld({ webhooks: true, admin: true });
  const seller = useSeller(h, { manualPayouts: true });

  async function unpaidOrder(outcome: 'failed' | 'canceled'): Promise<string> {
    const order = await createPendingOrder(h, seller, 10_000);
    if (outcome === 'failed') {
      await expect(h.stripe.paymentIntents.confirm(order.stripe_payment_intent_id!, { payment_method: 'pm_card_visa_chargeDeclined' })).rejects.toThrow();
      expect((await syncOrderFromStripe(h.database.db, h.stripe, order, 'reconcile')).status).toBe('payment_failed');
    } else {
      expect((await cancelOrderByBuyer(h.database.db, h.stripe, order.buyer_id, order.id)).status).toBe('canceled');
    }
    return order.id;
  }
  const cellText = (body: string, orderId: string) =>
    (new RegExp(`data-order-id="${orderId}"[^>]*>([\\s\\S]*?)</tr>`).exec(body)?.[1] ?? '').replace(/<[^>]+>/g, '|').replace(/\|+/g, '|');

  it('admin orders: "—" for failed and canceled orders, the fee for a paid one', async () => {
    const failed = await unpaidOrder('failed');
    const canceled = await unpaidOrder('canceled');
    const paid = (await createPaidOrder(h, seller, { amount: 10_000 })).id;
    const page = await h.admin.get('/admin/orders');
    expect(page.statusCode).toBe(200);
    for (const id of [failed, canceled]) {
      expect(cellText(page.body, id)).toContain('|$100.00|—|');
      expect(cellText(page.body, id)).not.toContain('$10.00');
    }
    expect(cellText(page.body, paid)).toContain('|$100.00|$10.00|');

    const { client: sellerClient } = await h.signIn('seller', seller.user.id);
    const theirs = await sellerClient.get('/seller/orders');
    for (const id of [failed, canceled]) expect(cellText(theirs.body, id)).not.toContain('$10.00');
    expect(cellText(theirs.body, paid)).toContain('$10.00');
  });
});
