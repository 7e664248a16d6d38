// Issue 15 point 10: a failed 3D Secure shows words for people, not Stripe's developer message
// ("…You can provide payment_method_data or a new PaymentMethod…"), on the custom flow's
// completion page and on the hosted flow's status page; card declines keep Stripe's cardholder
// wording ("Your card was declined.").
import { describe, expect, it } from 'vitest';
import { useWorld } from '../helpers/fixture.ts';
import { addListing, orderRow, startCheckout, useEnabledSeller } from '../helpers/market.ts';
import { answerChallenge, localPath, payOnCheckoutPage } from '../helpers/hosted-pages.ts';

const w = useWorld({ webhooks: 'held' });
const seller = useEnabledSeller(w);

const reason = (body: string) => /data-testid="failure-reason">([^<]+)</.exec(body)?.[1];

/** The custom flow up to the pay page, then Stripe.js's confirm with `card` (as the emulator's stand-in sends it). */
async function customFlowConfirm(card: string) {
  const listing = await addListing(w.db, seller.sellerId, { price: 1500, stock: 2 });
  const buyer = await w.signIn('buyer');
  const listingPage = await buyer.client.get(`/listings/${listing.id}`);
  const attempt = /name="attempt" value="([^"]+)"/.exec(listingPage.body)![1]!;
  const created = await buyer.client.post(`/checkout/${listing.id}/pay`, { quantity: 1, attempt });
  const orderId = /\/orders\/([0-9a-f-]+)\/pay$/.exec(created.location!)![1]!;
  const pay = (await buyer.client.get(created.location!)).body;
  const attr = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(/<form id="payment-form"[^>]*>/.exec(pay)![0])![1]!;
  const clientSecret = attr('data-client-secret');
  const response = await fetch(`${w.emu.url}/hosted/js/payment_intents/${clientSecret.slice(0, clientSecret.indexOf('_secret_'))}/confirm`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      key: attr('data-publishable-key'),
      client_secret: clientSecret,
      card_number: card,
      return_url: attr('data-return-url'),
    }).toString(),
  });
  return { buyer, orderId, status: response.status, body: (await response.json()) as { next_action?: { redirect_to_url?: { url: string } } } };
}

describe('failure reasons in words for people', () => {
  it("custom flow, 3D Secure failed: the completion page explains it without Stripe's developer message", async () => {
    const { buyer, orderId, body } = await customFlowConfirm('4000000000003220');
    const back = await answerChallenge(body.next_action!.redirect_to_url!.url, 'fail');
    const page = await buyer.client.get(localPath(back));
    expect(page.body).toContain('data-testid="outcome">Payment failed<');
    expect(reason(page.body)).toContain('Your bank could not confirm this payment');
    expect(page.body).not.toMatch(/payment_method_data|PaymentMethod|PaymentIntent/);
    expect((await orderRow(w.db, orderId)).failure_code).toBe('payment_intent_authentication_failure');
  });

  it('hosted Checkout, 3D Secure failed: the status page says the same', async () => {
    const { buyer, sessionUrl, orderId } = await startCheckout(w, seller.sellerId, { price: 1500, stock: 2 });
    const attempt = await payOnCheckoutPage(sessionUrl, '4000002500003155');
    await answerChallenge(attempt.location!, 'fail');
    await w.events.run();
    const page = await buyer.client.get(`/orders/${orderId}/complete`);
    expect(reason(page.body)).toContain('Your bank could not confirm this payment');
    expect(page.body).not.toMatch(/payment_method_data|PaymentMethod/);
  });

  it("a card decline keeps Stripe's cardholder wording", async () => {
    const { buyer, orderId, status } = await customFlowConfirm('4000000000000002');
    expect(status).toBe(402);
    const page = await buyer.client.get(`/orders/${orderId}/complete`);
    expect(reason(page.body)).toBe('Your card was declined.');
  });
});
