// The custom flow (PaymentIntent + Payment Element), stock under concurrency, and who sees which
// orders. The Payment Element's part is played exactly as the emulator's Stripe.js stand-in plays
// it: the card number goes to the emulator with the publishable key and the client secret, never
// to our server.
import { describe, expect, it } from 'vitest';
import type { TestClient } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';
import { addListing, buy, enabledSeller, orderRow, outcomeOf, transitionsOf, useEnabledSeller } from '../helpers/market.ts';
import { answerChallenge, localPath, payOnCheckoutPage } from '../helpers/hosted-pages.ts';

const w = useWorld({ webhooks: 'held' });
const seller = useEnabledSeller(w);

/** The pay page's form, as Stripe.js reads it. */
function payPage(body: string) {
  const attr = (name: string) => /<form id="payment-form"[^>]*>/.exec(body)?.[0].match(new RegExp(`${name}="([^"]*)"`))?.[1];
  const script = /<script src="([^"]+\/js\/v3\.js)"><\/script>/.exec(body)?.[1];
  return { publishableKey: attr('data-publishable-key')!, clientSecret: attr('data-client-secret')!, returnUrl: attr('data-return-url')!, script: script! };
}

/** What `stripe.confirmPayment` of the Stripe.js stand-in sends to Stripe (the w.emu). */
async function confirmWithCard(
  page: ReturnType<typeof payPage>,
  cardNumber: string,
): Promise<{ status: number; body: { status?: string; next_action?: { redirect_to_url?: { url: string } }; error?: { message: string } } }> {
  const intentId = page.clientSecret.slice(0, page.clientSecret.indexOf('_secret_'));
  const response = await fetch(`${new URL(page.script).origin}/hosted/js/payment_intents/${intentId}/confirm`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ key: page.publishableKey, client_secret: page.clientSecret, card_number: cardNumber, return_url: page.returnUrl }).toString(),
  });
  return { status: response.status, body: (await response.json()) as never };
}

async function startCustom(client: TestClient, listingId: string, quantity = 1) {
  const start = await client.get(`/checkout/${listingId}/pay`);
  expect(start.statusCode).toBe(200);
  const attempt = /name="attempt" value="([^"]+)"/.exec(start.body)![1]!;
  const created = await client.post(`/checkout/${listingId}/pay`, { quantity, attempt });
  expect(created.statusCode).toBe(303);
  const orderId = /^\/orders\/([0-9a-f-]+)\/pay$/.exec(created.location!)![1]!;
  const page = await client.get(created.location!);
  expect(page.statusCode).toBe(200);
  return { orderId, page: payPage(page.body), html: page.body };
}

describe('custom flow: PaymentIntent + Payment Element', () => {
  it('pm_card_visa: the intent is a destination charge for the order; paid through the return URL and the webhook', async () => {
    const listing = await addListing(w.db, seller.sellerId, { price: 4200, stock: 2 });
    const buyer = await w.signIn('buyer');
    const { orderId, page, html } = await startCustom(buyer.client, listing.id);
    expect(page.script).toBe(`${w.emu.url}/js/v3.js`);
    expect(page.publishableKey).toMatch(/^pk_test_/);
    expect(html).not.toContain('name="card_number"'); // no card field of ours: the Element is Stripe's

    const order = await orderRow(w.db, orderId);
    const intent = await w.stripe.paymentIntents.retrieve(order.stripe_payment_intent_id!);
    expect(intent).toMatchObject({ amount: 4200, currency: 'usd', application_fee_amount: 420, status: 'requires_payment_method' });
    expect(intent.automatic_payment_methods?.enabled).toBe(true);
    expect(intent.transfer_data?.destination).toBe(seller.accountId);
    expect(intent.metadata.order_id).toBe(orderId);
    expect(intent.client_secret).toBe(page.clientSecret);

    // The server confirms a PaymentMethod the way the Element would with pm_card_visa.
    await w.stripe.paymentIntents.confirm(intent.id, { payment_method: 'pm_card_visa', return_url: page.returnUrl });
    const back = await buyer.client.get(`/orders/${orderId}/complete?payment_intent=${intent.id}&redirect_status=succeeded`);
    expect(outcomeOf(back.body)).toBe('Paid');
    await w.events.run();
    expect(await transitionsOf(w.db, orderId)).toEqual([expect.objectContaining({ to_status: 'paid', source: 'completion_page' })]);
    const paid = await orderRow(w.db, orderId);
    expect(paid.stripe_charge_id).toMatch(/^ch_/);
    expect(paid.seller_net_amount).toBe(4200 - 420);
  });

  it("a 3DS card through the Stripe.js confirm: challenge → return URL → paid; the redirect's claim alone is not believed", async () => {
    const listing = await addListing(w.db, seller.sellerId, { price: 1500, stock: 1 });
    const buyer = await w.signIn('buyer');
    const { orderId, page } = await startCustom(buyer.client, listing.id);
    // A forged return before paying: our page asks Stripe and still says processing.
    const forged = await buyer.client.get(`/orders/${orderId}/complete?redirect_status=succeeded`);
    expect(outcomeOf(forged.body)).toBe('Processing');

    const confirmed = await confirmWithCard(page, '4000000000003220');
    expect(confirmed.body.status).toBe('requires_action');
    const back = await answerChallenge(confirmed.body.next_action!.redirect_to_url!.url, 'complete');
    expect(localPath(back)).toMatch(new RegExp(`^/orders/${orderId}/complete\\?payment_intent=pi_`));
    await w.events.run(); // webhook first this time
    const done = await buyer.client.get(localPath(back));
    expect(outcomeOf(done.body)).toBe('Paid');
    expect(await transitionsOf(w.db, orderId)).toEqual([expect.objectContaining({ to_status: 'paid', source: 'webhook' })]);
  });

  it("a declined card: payment_failed with Stripe's reason, the intent canceled, stock back", async () => {
    const listing = await addListing(w.db, seller.sellerId, { price: 1500, stock: 1 });
    const buyer = await w.signIn('buyer');
    const { orderId, page } = await startCustom(buyer.client, listing.id);
    const confirmed = await confirmWithCard(page, '4000000000009995');
    expect(confirmed.status).toBe(402);
    await w.events.run();
    const order = await orderRow(w.db, orderId);
    expect(order).toMatchObject({ status: 'payment_failed', failure_code: 'insufficient_funds' });
    expect((await w.stripe.paymentIntents.retrieve(order.stripe_payment_intent_id!)).status).toBe('canceled');
    const stock = await w.db.selectFrom('listings').select('stock').where('id', '=', listing.id).executeTakeFirstOrThrow();
    expect(stock.stock).toBe(1);
    const shown = await buyer.client.get(`/orders/${orderId}/complete`);
    expect(shown.body).toContain('Your card has insufficient funds.');
  });
});

describe('stock never oversells', () => {
  it('20 buyers at once for a stock of 5: exactly 5 orders reach checkout, 15 are told "sold out"', async () => {
    const listing = await addListing(w.db, seller.sellerId, { price: 1000, stock: 5 });
    const buyers = await Promise.all(Array.from({ length: 20 }, () => w.signIn('buyer')));
    const responses = await Promise.all(buyers.map((b) => buy(b.client, listing.id, 1)));
    const toCheckout = responses.filter((r) => r.statusCode === 303 && r.location?.includes('/hosted/checkout/cs_test_'));
    const soldOut = responses.filter((r) => r.statusCode === 409);
    expect(toCheckout).toHaveLength(5);
    expect(soldOut).toHaveLength(15);
    for (const r of soldOut) expect(r.body).toContain('Sold out');
    const orders = await w.db.selectFrom('orders').select(['id', 'stripe_checkout_session_id']).where('listing_id', '=', listing.id).execute();
    expect(orders).toHaveLength(5);
    expect(new Set(orders.map((o) => o.stripe_checkout_session_id)).size).toBe(5);
    const row = await w.db.selectFrom('listings').select('stock').where('id', '=', listing.id).executeTakeFirstOrThrow();
    expect(row.stock).toBe(0);
  });

  it('asking for more than is left is refused with how many are left', async () => {
    const listing = await addListing(w.db, seller.sellerId, { price: 1000, stock: 2 });
    const buyer = await w.signIn('buyer');
    const response = await buy(buyer.client, listing.id, 3);
    expect(response.statusCode).toBe(409);
    expect(response.body).toContain('only 2 left');
    expect(response.body).not.toContain('Sold out'); // two are left: not sold out
  });
});

describe('who sees which orders', () => {
  it('buyer B gets 404 for buyer A\'s order, its completion and pay pages; A sees it in "My orders" with a receipt', async () => {
    const listing = await addListing(w.db, seller.sellerId, { price: 2000 });
    const a = await w.signIn('buyer');
    const b = await w.signIn('buyer');
    const started = await buy(a.client, listing.id);
    const session = await payOnCheckoutPage(started.location!, '4242424242424242');
    const orderId = /\/orders\/([0-9a-f-]+)\/complete/.exec(session.location!)![1]!;
    for (const path of [`/orders/${orderId}`, `/orders/${orderId}/complete`, `/orders/${orderId}/pay`]) {
      expect((await b.client.get(path)).statusCode).toBe(404);
    }
    expect((await b.client.get('/orders')).body).not.toContain(orderId);
    const mine = await a.client.get('/orders');
    expect(mine.body).toContain(`/orders/${orderId}`);
    await a.client.get(`/orders/${orderId}/complete`);
    const receipt = await a.client.get(`/orders/${orderId}`);
    expect(receipt.statusCode).toBe(200);
    expect(receipt.body).toContain('data-order-status="paid"');
    expect(receipt.body).toContain('$20.00');
    expect((await a.client.get('/orders')).body).toContain('My orders');
  });

  it("a seller sees its own orders with gross, fee and net, and no one else's", async () => {
    const other = await enabledSeller(w);
    const mineListing = await addListing(w.db, seller.sellerId, { price: 3333, title: 'Mine only' });
    const theirListing = await addListing(w.db, other.sellerId, { price: 4444, title: 'Theirs only' });
    const buyer = await w.signIn('buyer');
    const mine = await buy(buyer.client, mineListing.id);
    await payOnCheckoutPage(mine.location!, '4242424242424242');
    await buy(buyer.client, theirListing.id);
    await w.events.run();
    const page = await seller.client.get('/seller/orders');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Mine only');
    expect(page.body).not.toContain('Theirs only');
    expect(page.body).toContain('$33.33'); // gross
    expect(page.body).toContain('$3.33'); // 10 % of 3333 = 333.3 → 333
    expect(page.body).toContain('$30.00'); // net: 3333 − 333
    const theirs = await other.client.get('/seller/orders');
    expect(theirs.body).toContain('Theirs only');
    expect(theirs.body).not.toContain('Mine only');
    // Buyers don't get the seller's page.
    expect((await buyer.client.get('/seller/orders')).statusCode).toBe(403);
  });
});
