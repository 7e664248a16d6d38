// Hosted Checkout's own saved-card options (issue 12, point 3) over HTTP against the emulator and
// PostgreSQL: a returning buyer's saved card is offered on Stripe's page and pays; a card the buyer
// saves with Checkout's own box reaches their payment methods through the webhook; and the
// session's request, built from the order row alone, is the same on every retry of the order.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { TestClient } from '../helpers/app.ts';
import { addCard, listedCards } from './helpers.ts';
import { useWorld } from '../helpers/fixture.ts';
import { addListing, orderRow, useEnabledSeller } from '../helpers/market.ts';
import { localPath } from '../helpers/hosted-pages.ts';

const w = useWorld({ webhooks: 'held' });
const seller = useEnabledSeller(w);

async function customerOf(buyerId: string): Promise<string> {
  const row = await w.db.selectFrom('buyer_customers').select('stripe_customer_id').where('buyer_id', '=', buyerId).executeTakeFirstOrThrow();
  return row.stripe_customer_id!;
}

/** "Buy now" on the listing (our "Save my card" box left unticked); returns Stripe's page URL and the session id. */
async function startHosted(client: TestClient, listingId: string, attempt = randomUUID()) {
  const started = await client.post(`/checkout/${listingId}`, { quantity: 1, attempt });
  expect(started.statusCode).toBe(303);
  return { url: started.location!, sessionId: new URL(started.location!).pathname.split('/').pop()! };
}

/** Posts the Checkout page's form as the browser would (no redirects followed). */
async function postCheckoutPage(url: string, form: Record<string, string>) {
  const response = await fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  return { status: response.status, location: response.headers.get('location') };
}

describe("hosted Checkout offers a returning buyer's saved cards", () => {
  it("shows the card saved on the payment methods page on Stripe's page, and paying with it works", async () => {
    const listing = await addListing(w.db, seller.sellerId, { price: 1500, stock: 4 });
    const buyer = await w.signIn('buyer');
    await addCard(buyer.client, '4242424242424242');
    await w.events.run();
    const [card] = await listedCards(buyer.client);
    expect(card?.last4).toBe('4242');

    const { url, sessionId } = await startHosted(buyer.client, listing.id);
    const session = await w.stripe.checkout.sessions.retrieve(sessionId);
    expect(session.customer).toBe(await customerOf(buyer.userId));
    expect(session.saved_payment_method_options).toMatchObject({ payment_method_save: 'enabled' });

    const page = await (await fetch(url)).text();
    expect(page).toContain('data-testid="saved-cards"');
    expect(page).toContain(`name="saved_payment_method" value="${card!.pm}"`);
    expect(page).toContain('data-testid="pay-saved-4242"');
    expect(page).toContain('data-testid="save-card"');

    const paid = await postCheckoutPage(url, { saved_payment_method: card!.pm });
    expect(paid.status).toBe(303);
    const complete = await buyer.client.get(localPath(paid.location!));
    expect(complete.body).toContain('data-order-status="paid"');
    const intent = await w.stripe.paymentIntents.retrieve((await w.stripe.checkout.sessions.retrieve(sessionId)).payment_intent as string);
    expect(intent).toMatchObject({ customer: await customerOf(buyer.userId), payment_method: card!.pm, application_fee_amount: 150, status: 'succeeded' });
    const order = await w.db
      .selectFrom('orders')
      .select(['id', 'stripe_customer_id'])
      .where('stripe_checkout_session_id', '=', sessionId)
      .executeTakeFirstOrThrow();
    expect(order.stripe_customer_id).toBe(await customerOf(buyer.userId));
    expect((await orderRow(w.db, order.id)).status).toBe('paid');
  });

  it("a card saved with Checkout's own box reaches the buyer's payment methods after the webhook; unticked, it does not", async () => {
    const listing = await addListing(w.db, seller.sellerId, { price: 900 });
    const buyer = await w.signIn('buyer');
    await addCard(buyer.client, '4242424242424242');
    await w.events.run();

    const unticked = await startHosted(buyer.client, listing.id);
    const paidOnce = await postCheckoutPage(unticked.url, { email: buyer.email, card_number: '4000056655665556' });
    expect(paidOnce.status).toBe(303);
    await w.events.run();
    expect((await listedCards(buyer.client)).map((c) => c.last4)).toEqual(['4242']);

    const ticked = await startHosted(buyer.client, listing.id);
    const paid = await postCheckoutPage(ticked.url, { email: buyer.email, card_number: '5555555555554444', save_card: 'yes' });
    expect(paid.status).toBe(303);
    expect((await buyer.client.get(localPath(paid.location!))).body).toContain('data-order-status="paid"');
    await w.events.run();
    expect((await listedCards(buyer.client)).map((c) => c.last4).sort()).toEqual(['4242', '4444']);
    // And Stripe's page offers it next time.
    const next = await startHosted(buyer.client, listing.id);
    expect(await (await fetch(next.url)).text()).toContain('data-testid="pay-saved-4444"');
  });

  it('a buyer with no Customer who leaves our box unticked pays by email alone: no Customer is made', async () => {
    const listing = await addListing(w.db, seller.sellerId, { price: 700 });
    const buyer = await w.signIn('buyer');
    const { sessionId } = await startHosted(buyer.client, listing.id);
    const session = await w.stripe.checkout.sessions.retrieve(sessionId);
    expect(session).toMatchObject({ customer: null, customer_email: buyer.email, saved_payment_method_options: null });
    expect(await w.db.selectFrom('buyer_customers').select('buyer_id').where('buyer_id', '=', buyer.userId).execute()).toEqual([]);
  });
});

describe('the same order sends the same Checkout request on every retry', () => {
  const orderOfSession = (sessionId: string) =>
    w.db.selectFrom('orders').select(['id', 'stripe_customer_id']).where('stripe_checkout_session_id', '=', sessionId).executeTakeFirstOrThrow();

  /** As if our process stopped after Stripe made the session and before we recorded it. */
  async function forgetSession(orderId: string): Promise<void> {
    await w.db
      .updateTable('orders')
      .set({ stripe_checkout_session_id: null, stripe_checkout_url: null, checkout_expires_at: null })
      .where('id', '=', orderId)
      .execute();
  }

  it('a Customer gained between the first try and the retry does not change the request: one session at Stripe', async () => {
    const listing = await addListing(w.db, seller.sellerId, { price: 1100, stock: 3 });
    const buyer = await w.signIn('buyer');
    const attempt = randomUUID();
    const first = await startHosted(buyer.client, listing.id, attempt);
    const order = await orderOfSession(first.sessionId);
    expect(order.stripe_customer_id).toBeNull();

    // Our process stopped after Stripe made the session and before we recorded it ...
    await forgetSession(order.id);
    // ... and meanwhile the buyer saved a card, so they now have a Customer.
    await addCard(buyer.client, '4242424242424242');
    expect(await customerOf(buyer.userId)).toMatch(/^cus_/);

    const retry = await startHosted(buyer.client, listing.id, attempt);
    expect(retry.sessionId).toBe(first.sessionId);
    const sessions = [];
    for await (const s of w.stripe.checkout.sessions.list({ limit: 100 })) if (s.client_reference_id === order.id) sessions.push(s.id);
    expect(sessions).toEqual([first.sessionId]);
    expect((await orderRow(w.db, order.id)).stripe_checkout_session_id).toBe(first.sessionId);
  });

  it('the Customer is fixed on the order when it is placed: a retry of an order that has one sends it again', async () => {
    const listing = await addListing(w.db, seller.sellerId, { price: 1300 });
    const buyer = await w.signIn('buyer');
    await addCard(buyer.client, '4242424242424242');
    const attempt = randomUUID();
    const first = await startHosted(buyer.client, listing.id, attempt);
    const order = await orderOfSession(first.sessionId);
    expect(order.stripe_customer_id).toBe(await customerOf(buyer.userId));
    await forgetSession(order.id);
    const retry = await startHosted(buyer.client, listing.id, attempt);
    expect(retry.sessionId).toBe(first.sessionId);
  });
});
