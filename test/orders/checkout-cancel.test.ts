// Issue 15 point 9 (and the cancel half of point 8): "Cancel and go back" on hosted Checkout ends
// the order at once — the session is expired at Stripe, the stock comes back, the buyer sees it
// canceled — instead of leaving it "Awaiting payment" with stock held for the session's hour. A
// buyer can also cancel any order still awaiting payment from its pages (either flow).
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buyWithPaymentElement } from '../../src/orders/use-cases.ts';
import { useWorld } from '../helpers/fixture.ts';
import { addListing, orderRow, outcomeOf, startCheckout, stockOf, transitionsOf, useEnabledSeller } from '../helpers/market.ts';
import { localPath, payOnCheckoutPage } from '../helpers/hosted-pages.ts';

const w = useWorld({ webhooks: 'held' });
const seller = useEnabledSeller(w);

const checkout = (stock: number) => startCheckout(w, seller.sellerId, { price: 2500, stock });

/** Stripe's "Cancel and go back" button: where it sends the browser (our cancel_url). */
async function pressCancelOnStripePage(sessionUrl: string): Promise<string> {
  const response = await fetch(`${sessionUrl}/cancel`, { method: 'POST', redirect: 'manual' });
  expect(response.status).toBe(303);
  return localPath(new URL(response.headers.get('location')!, sessionUrl).toString());
}

describe('"Cancel and go back" on hosted Checkout', () => {
  it('cancels at once: the session expired at Stripe, the stock back, the page says canceled; the events after are no-ops', async () => {
    const { listing, buyer, sessionUrl, orderId } = await checkout(3);
    expect(await stockOf(w.db, listing.id)).toBe(2);
    const back = await pressCancelOnStripePage(sessionUrl);
    expect(back).toBe(`/orders/${orderId}/complete?canceled=1`);
    const page = await buyer.client.get(back);
    expect(page.statusCode).toBe(200);
    expect(outcomeOf(page.body)).toBe('Payment canceled');
    expect(page.body).toContain('Nothing has been charged');
    expect(page.body).toContain(`href="/listings/${listing.id}"`);
    const order = await orderRow(w.db, orderId);
    expect(order).toMatchObject({ status: 'canceled', stock_reserved: false });
    expect(await stockOf(w.db, listing.id)).toBe(3);
    expect((await w.stripe.checkout.sessions.retrieve(order.stripe_checkout_session_id!)).status).toBe('expired');
    const requests = await w.emu.control<{ data: { method: string; path: string; idempotency_key?: string | null }[] }>('GET', '/_emulator/requests');
    expect(requests.data.filter((r) => r.path.endsWith('/expire')).map((r) => r.idempotency_key)).toContain(`order:${orderId}:expire`);
    await w.events.run();
    expect(await transitionsOf(w.db, orderId)).toEqual([expect.objectContaining({ from_status: 'pending', to_status: 'canceled', source: 'checkout' })]);
    // Coming back to Stripe's page: it says the session is over, not a payment form.
    expect((await fetch(sessionUrl)).status).toBe(410);
  });

  it('after a declined card: the order ends failed with the reason, stock back', async () => {
    const { listing, buyer, sessionUrl, orderId } = await checkout(2);
    expect((await payOnCheckoutPage(sessionUrl, '4000000000000002')).status).toBe(402);
    const page = await buyer.client.get(await pressCancelOnStripePage(sessionUrl));
    expect(outcomeOf(page.body)).toBe('Payment failed');
    expect(page.body).toContain('Your card was declined.');
    expect(await orderRow(w.db, orderId)).toMatchObject({ status: 'payment_failed', failure_code: 'generic_decline', stock_reserved: false });
    expect(await stockOf(w.db, listing.id)).toBe(2);
  });

  it('a buyer who paid a moment ago and then reaches the cancel address stays paid', async () => {
    const { buyer, sessionUrl, orderId } = await checkout(2);
    expect((await payOnCheckoutPage(sessionUrl, '4242424242424242')).status).toBe(303);
    const page = await buyer.client.get(`/orders/${orderId}/complete?canceled=1`);
    expect(outcomeOf(page.body)).toBe('Paid');
    expect((await orderRow(w.db, orderId)).status).toBe('paid');
  });

  it("someone else's order cannot be canceled (404), and it stays pending", async () => {
    const { orderId } = await checkout(2);
    const other = await w.signIn('buyer');
    expect((await other.client.get(`/orders/${orderId}/complete?canceled=1`)).statusCode).toBe(404);
    expect((await other.client.post(`/orders/${orderId}/cancel`)).statusCode).toBe(404);
    expect((await orderRow(w.db, orderId)).status).toBe('pending');
  });
});

describe('"Cancel order" on the buyer\'s pages', () => {
  it('a pending hosted order, from its receipt: canceled, stock back', async () => {
    const { listing, buyer, orderId } = await checkout(1);
    const receipt = await buyer.client.get(`/orders/${orderId}`);
    expect(receipt.body).toContain(`action="/orders/${orderId}/cancel"`);
    const response = await buyer.client.post(`/orders/${orderId}/cancel`);
    expect(response.statusCode).toBe(303);
    expect(outcomeOf((await buyer.client.get(response.location!)).body)).toBe('Payment canceled');
    expect(await stockOf(w.db, listing.id)).toBe(1);
  });

  it('a custom-flow order: its intent canceled at Stripe, stock back', async () => {
    const listing = await addListing(w.db, seller.sellerId, { price: 1500, stock: 2 });
    const buyer = await w.signIn('buyer');
    const order = await buyWithPaymentElement(w.db, w.stripe, {
      buyerId: buyer.userId,
      buyerEmail: buyer.email,
      listingId: listing.id,
      quantity: 1,
      attemptId: randomUUID(),
    });
    const pay = await buyer.client.get(`/orders/${order.id}/pay`);
    expect(pay.body).toContain(`action="/orders/${order.id}/cancel"`);
    expect(await stockOf(w.db, listing.id)).toBe(1);
    const response = await buyer.client.post(`/orders/${order.id}/cancel`);
    expect(response.statusCode).toBe(303);
    expect(await orderRow(w.db, order.id)).toMatchObject({ status: 'canceled', stock_reserved: false });
    expect(await stockOf(w.db, listing.id)).toBe(2);
    expect((await w.stripe.paymentIntents.retrieve(order.stripe_payment_intent_id!)).status).toBe('canceled');
  });

  it('a paid order is not canceled', async () => {
    const { buyer, sessionUrl, orderId } = await checkout(2);
    await payOnCheckoutPage(sessionUrl, '4242424242424242');
    await w.events.run();
    const receipt = await buyer.client.get(`/orders/${orderId}`);
    expect(receipt.body).not.toContain('/cancel"');
    await buyer.client.post(`/orders/${orderId}/cancel`);
    expect((await orderRow(w.db, orderId)).status).toBe('paid');
  });
});
