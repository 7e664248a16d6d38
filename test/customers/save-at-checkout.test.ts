// Saving a card while paying (issue 12, point 3) over HTTP against the emulator and PostgreSQL:
// the custom flow's "Save this card for next time" (setup_future_usage on the order's
// PaymentIntent, with the buyer's one Customer), and a returning buyer seeing the saved card on the
// custom flow's page and the listing.
import { describe, expect, it } from 'vitest';
import type { TestClient } from '../helpers/app.ts';
import { listedCards } from './helpers.ts';
import { useWorld } from '../helpers/fixture.ts';
import { addListing, orderRow, useEnabledSeller } from '../helpers/market.ts';
import { localPath, payOnCheckoutPage } from '../helpers/hosted-pages.ts';

const w = useWorld({ webhooks: 'held' });
const seller = useEnabledSeller(w);

/** The custom flow up to the pay page, then the Element's confirmation with `cardNumber` (as Stripe.js sends it). */
async function payCustom(client: TestClient, listingId: string, cardNumber: string, save: boolean) {
  const start = await client.get(`/checkout/${listingId}/pay`);
  const attempt = /name="attempt" value="([^"]+)"/.exec(start.body)![1]!;
  const created = await client.post(`/checkout/${listingId}/pay`, { quantity: 1, attempt, ...(save ? { save_card: 'on' } : {}) });
  expect(created.statusCode).toBe(303);
  const orderId = /^\/orders\/([0-9a-f-]+)\/pay$/.exec(created.location!)![1]!;
  const page = (await client.get(created.location!)).body;
  const attr = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(/<form id="payment-form"[^>]*>/.exec(page)![0])![1]!;
  const secret = attr('data-client-secret');
  const intentId = secret.slice(0, secret.indexOf('_secret_'));
  const confirmed = await fetch(`${w.emu.url}/hosted/js/payment_intents/${intentId}/confirm`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      key: attr('data-publishable-key'),
      client_secret: secret,
      card_number: cardNumber,
      return_url: attr('data-return-url'),
    }).toString(),
  });
  expect(confirmed.status).toBe(200);
  const complete = await client.get(localPath(`${attr('data-return-url')}?payment_intent=${intentId}`));
  expect(complete.statusCode).toBe(200);
  return { orderId, intentId };
}

describe('custom flow: "Save this card for next time"', () => {
  it("saves the card to the buyer's Customer for off-session use; the returning buyer sees it on the pay page and the listing", async () => {
    const listing = await addListing(w.db, seller.sellerId, { price: 1200, stock: 10 });
    const buyer = await w.signIn('buyer');
    const start = await buyer.client.get(`/checkout/${listing.id}/pay`);
    expect(start.body).toContain('Save this card for next time');
    expect(start.body).not.toContain('data-testid="buy-saved"');

    const { orderId, intentId } = await payCustom(buyer.client, listing.id, '4242424242424242', true);
    expect((await orderRow(w.db, orderId)).status).toBe('paid');
    const customer = await w.db.selectFrom('buyer_customers').select('stripe_customer_id').where('buyer_id', '=', buyer.userId).executeTakeFirstOrThrow();
    const intent = await w.stripe.paymentIntents.retrieve(intentId);
    expect(intent).toMatchObject({ customer: customer.stripe_customer_id, setup_future_usage: 'off_session', application_fee_amount: 120 });
    expect((await w.stripe.paymentMethods.retrieve(intent.payment_method as string)).customer).toBe(customer.stripe_customer_id);

    await w.events.run();
    const cards = await listedCards(buyer.client);
    expect(cards).toEqual([{ pm: intent.payment_method, last4: '4242', isDefault: false }]);
    const again = await buyer.client.get(`/checkout/${listing.id}/pay`);
    expect(again.body).toMatch(new RegExp(`formaction="/checkout/${listing.id}/saved-card" name="payment_method" value="${cards[0]!.pm}"`));
    expect(again.body).toContain('Pay with Visa •••• 4242');
    expect((await buyer.client.get(`/listings/${listing.id}`)).body).toContain('Buy with Visa •••• 4242');

    // And it pays: one click from the pay page.
    const attempt = /name="attempt" value="([^"]+)"/.exec(again.body)![1]!;
    const paid = await buyer.client.post(`/checkout/${listing.id}/saved-card`, { quantity: 1, attempt, payment_method: cards[0]!.pm });
    expect(paid.statusCode).toBe(303);
    const second = /^\/orders\/([0-9a-f-]+)\/complete$/.exec(paid.location!)![1]!;
    expect((await orderRow(w.db, second)).status).toBe('paid');
  });

  it('without the box ticked nothing is saved and the intent names no Customer', async () => {
    const listing = await addListing(w.db, seller.sellerId, { price: 800 });
    const buyer = await w.signIn('buyer');
    const { intentId } = await payCustom(buyer.client, listing.id, '4242424242424242', false);
    const intent = await w.stripe.paymentIntents.retrieve(intentId);
    expect(intent.customer).toBeNull();
    expect(intent.setup_future_usage).toBeNull();
    await w.events.run();
    expect(await listedCards(buyer.client)).toEqual([]);
  });
});

describe('hosted Checkout: "Save my card for next time"', () => {
  it("pays as the buyer's Customer with setup_future_usage; the card is saved and offered next time", async () => {
    const listing = await addListing(w.db, seller.sellerId, { price: 2000, stock: 5 });
    const buyer = await w.signIn('buyer');
    const listingPage = await buyer.client.get(`/listings/${listing.id}`);
    expect(listingPage.body).toContain('Save my card for next time');
    const attempt = /name="attempt" value="([^"]+)"/.exec(listingPage.body)![1]!;
    const started = await buyer.client.post(`/checkout/${listing.id}`, { quantity: 1, attempt, save_card: 'on' });
    expect(started.statusCode).toBe(303);
    const sessionId = new URL(started.location!).pathname.split('/').pop()!;
    const customer = await w.db.selectFrom('buyer_customers').select('stripe_customer_id').where('buyer_id', '=', buyer.userId).executeTakeFirstOrThrow();
    const session = await w.stripe.checkout.sessions.retrieve(sessionId);
    expect(session.customer).toBe(customer.stripe_customer_id);

    const paid = await payOnCheckoutPage(started.location!, '4242424242424242', buyer.email);
    const complete = await buyer.client.get(localPath(paid.location!));
    expect(complete.body).toContain('data-order-status="paid"');
    const intent = await w.stripe.paymentIntents.retrieve((await w.stripe.checkout.sessions.retrieve(sessionId)).payment_intent as string);
    expect(intent).toMatchObject({ customer: customer.stripe_customer_id, setup_future_usage: 'off_session', application_fee_amount: 200 });

    await w.events.run();
    expect((await listedCards(buyer.client)).map((c) => c.last4)).toEqual(['4242']);
    expect((await buyer.client.get(`/listings/${listing.id}`)).body).toContain('Buy with Visa •••• 4242');
  });

  it('without the box ticked the session carries only the email, as before', async () => {
    const listing = await addListing(w.db, seller.sellerId, { price: 2000 });
    const buyer = await w.signIn('buyer');
    const started = await buyer.client.post(`/checkout/${listing.id}`, { quantity: 1, attempt: crypto.randomUUID() });
    const session = await w.stripe.checkout.sessions.retrieve(new URL(started.location!).pathname.split('/').pop()!);
    expect(session).toMatchObject({ customer: null, customer_email: buyer.email });
    expect(await w.db.selectFrom('buyer_customers').select('buyer_id').where('buyer_id', '=', buyer.userId).execute()).toEqual([]);
  });
});
