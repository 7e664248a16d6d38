// Issue 15 point 11: a failed order is not titled "Receipt"; "My orders" keeps failed and canceled
// attempts out of the list of orders (one folded line each); sold-out listings are marked on the
// catalogue's and the seller page's cards.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buyWithPaymentElement, syncOrderFromStripe } from '../../src/orders/use-cases.ts';
import { TestClient } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';
import { addListing, useEnabledSeller } from '../helpers/market.ts';

const w = useWorld({ emulator: true });
const seller = useEnabledSeller(w);

async function customOrder(buyer: { userId: string; email: string }, listingId: string, paymentMethod: string) {
  const order = await buyWithPaymentElement(w.db, w.stripe, {
    buyerId: buyer.userId,
    buyerEmail: buyer.email,
    listingId,
    quantity: 1,
    attemptId: randomUUID(),
  });
  await w.stripe.paymentIntents.confirm(order.stripe_payment_intent_id!, { payment_method: paymentMethod }).catch(() => undefined);
  return syncOrderFromStripe(w.db, w.stripe, order, 'reconcile');
}

describe("the buyer's order pages", () => {
  it('a failed order is an "Order", a paid one a "Receipt"; My orders folds the failed attempts away', async () => {
    const listing = await addListing(w.db, seller.sellerId, { price: 900, stock: 5, title: 'Blue bowl' });
    const buyer = await w.signIn('buyer');
    const failed1 = await customOrder(buyer, listing.id, 'pm_card_visa_chargeDeclined');
    const failed2 = await customOrder(buyer, listing.id, 'pm_card_visa_chargeDeclinedInsufficientFunds');
    const paid = await customOrder(buyer, listing.id, 'pm_card_visa');
    expect([failed1.status, failed2.status, paid.status]).toEqual(['payment_failed', 'payment_failed', 'paid']);

    const failedPage = await buyer.client.get(`/orders/${failed1.id}`);
    expect(failedPage.body).toMatch(/<h1>Order <span/);
    expect(failedPage.body).not.toContain('Receipt');
    expect(failedPage.body).toContain('Nothing was charged');
    expect((await buyer.client.get(`/orders/${paid.id}`)).body).toMatch(/<h1>Receipt <span/);

    const list = await buyer.client.get('/orders');
    const table = /<table[\s\S]*?<\/table>/.exec(list.body)![0];
    expect(table).toContain(`data-order-id="${paid.id}"`);
    expect(table).not.toContain(failed1.id);
    expect(table).not.toContain(failed2.id);
    const folded = /<details[^>]*data-testid="unpaid-attempts"[\s\S]*?<\/details>/.exec(list.body)![0];
    expect(folded).toContain('2 unpaid attempts');
    expect(folded).toContain(`href="/orders/${failed1.id}"`);
  });

  it('sold-out listings carry a "Sold out" mark on catalogue and seller-page cards', async () => {
    const soldOut = await addListing(w.db, seller.sellerId, { price: 900, stock: 0, title: 'Gone vase' });
    const inStock = await addListing(w.db, seller.sellerId, { price: 900, stock: 3, title: 'Here vase' });
    const visitor = new TestClient(w.app, '10.15.11.1');
    for (const path of ['/', `/sellers/${seller.sellerId}`]) {
      const page = await visitor.get(path);
      const card = (id: string) => new RegExp(`<a class="card listing-card" href="/listings/${id}"[\\s\\S]*?</a>`).exec(page.body)?.[0] ?? '';
      expect(card(soldOut.id)).toContain('Sold out');
      expect(card(inStock.id)).not.toContain('Sold out');
    }
  });
});
