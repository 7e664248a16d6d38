// One-click purchase with a saved card (issue 12, point 4) over HTTP against the emulator and
// PostgreSQL: the same order, fee and stock rules as the other flows; a card the bank wants to
// authenticate goes through the challenge and the order completes; a declined card (0341) gets a
// clear message and its stock back.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CUSTOM_FLOW_HOLD_MS } from '../../src/orders/rules.ts';
import { reconcilePendingOrders } from '../../src/orders/use-cases.ts';
import { addCard, listedCards } from './helpers.ts';
import type { TestClient } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';
import { addListing, orderRow, outcomeOf, stockOf, transitionsOf, useEnabledSeller } from '../helpers/market.ts';
import { answerChallenge, localPath } from '../helpers/hosted-pages.ts';

const w = useWorld({ webhooks: 'held' });
const seller = useEnabledSeller(w);

async function buyerWithCard(cardNumber: string) {
  const buyer = await w.signIn('buyer');
  const added = await addCard(buyer.client, cardNumber);
  expect(added.outcome).toBe('Card saved');
  const [card] = await listedCards(buyer.client);
  return { ...buyer, pm: card!.pm };
}

/** Presses "Buy with …" on the listing page: the same form as "Buy now", with the card's button. */
async function oneClick(client: TestClient, listingId: string, pm: string, quantity = 1, attempt = randomUUID()) {
  return client.post(`/checkout/${listingId}/saved-card`, { quantity, attempt, payment_method: pm });
}

describe('one-click purchase', () => {
  it('the listing page offers "Buy with Visa •••• 4242" to a buyer with a saved card', async () => {
    const listing = await addListing(w.db, seller.sellerId, { price: 1500 });
    const buyer = await buyerWithCard('4242424242424242');
    const page = await buyer.client.get(`/listings/${listing.id}`);
    expect(page.body).toMatch(new RegExp(`formaction="/checkout/${listing.id}/saved-card"\\s+name="payment_method" value="${buyer.pm}"`));
    expect(page.body).toContain('Buy with Visa •••• 4242');
    const stranger = await w.signIn('buyer');
    expect((await stranger.client.get(`/listings/${listing.id}`)).body).not.toContain('Buy with');
  });

  it("4242: a confirmed destination charge with the saved card, on-session, under the order's key; paid at once with the fee and stock rules", async () => {
    const listing = await addListing(w.db, seller.sellerId, { price: 2500, stock: 3 });
    const buyer = await buyerWithCard('4242424242424242');
    const response = await oneClick(buyer.client, listing.id, buyer.pm, 2);
    expect(response.statusCode).toBe(303);
    const orderId = /^\/orders\/([0-9a-f-]+)\/complete$/.exec(response.location!)![1]!;
    const order = await orderRow(w.db, orderId);
    expect(order).toMatchObject({ flow: 'saved_card', status: 'paid', amount: 5000, application_fee_amount: 500, payment_method_id: buyer.pm, quantity: 2 });
    expect(await stockOf(w.db, listing.id)).toBe(1);

    const intent = await w.stripe.paymentIntents.retrieve(order.stripe_payment_intent_id!);
    expect(intent).toMatchObject({ status: 'succeeded', amount: 5000, application_fee_amount: 500, payment_method: buyer.pm, metadata: { order_id: orderId } });
    expect(intent.transfer_data?.destination).toBe(seller.accountId);
    const customer = await w.db.selectFrom('buyer_customers').select('stripe_customer_id').where('buyer_id', '=', buyer.userId).executeTakeFirstOrThrow();
    expect(intent.customer).toBe(customer.stripe_customer_id);
    const log = await w.emu.control<{ data: { method: string; path: string; idempotency_key: string | null }[] }>(
      'GET',
      '/_emulator/requests?path=/v1/payment_intents',
    );
    expect(log.data.filter((r) => r.method === 'POST').map((r) => r.idempotency_key)).toContain(`order:${orderId}:checkout`);

    const complete = await buyer.client.get(response.location!);
    expect(outcomeOf(complete.body)).toBe('Paid');
    // The events that follow change nothing.
    await w.events.run();
    expect((await orderRow(w.db, orderId)).status).toBe('paid');
    expect((await transitionsOf(w.db, orderId)).map((t) => t.to_status)).toEqual(['paid']);
  });

  it('a double click is one order and one payment', async () => {
    const listing = await addListing(w.db, seller.sellerId, { price: 900, stock: 5 });
    const buyer = await buyerWithCard('4242424242424242');
    const attempt = randomUUID();
    const [a, b] = await Promise.all([oneClick(buyer.client, listing.id, buyer.pm, 1, attempt), oneClick(buyer.client, listing.id, buyer.pm, 1, attempt)]);
    expect(
      [a.statusCode, b.statusCode, a.location === b.location],
      `${a.body.slice(0, 0)}${/data-testid="refusal">([^<]*)/.exec(a.body + b.body)?.[1] ?? ''}`,
    ).toEqual([303, 303, true]);
    const orders = await w.db.selectFrom('orders').select(['id', 'stripe_payment_intent_id']).where('checkout_attempt_id', '=', attempt).execute();
    expect(orders).toHaveLength(1);
    expect(await stockOf(w.db, listing.id)).toBe(4);
    const intents = await w.stripe.paymentIntents.list({ limit: 100 });
    expect(intents.data.filter((i) => i.metadata.order_id === orders[0]!.id)).toHaveLength(1);
  });

  it("3184: the bank's challenge is shown; completing it completes the order", async () => {
    const listing = await addListing(w.db, seller.sellerId, { price: 3000, stock: 2 });
    const buyer = await buyerWithCard('4000002760003184');
    const response = await oneClick(buyer.client, listing.id, buyer.pm);
    expect(response.statusCode).toBe(303);
    expect(response.location).toMatch(new RegExp(`^${w.emu.url}/hosted/3ds/pi_`));
    const order = await w.db.selectFrom('orders').selectAll().where('buyer_id', '=', buyer.userId).executeTakeFirstOrThrow();
    expect(order.status).toBe('pending');
    expect(await stockOf(w.db, listing.id)).toBe(1);

    const back = await answerChallenge(response.location!, 'complete');
    expect(localPath(back)).toMatch(new RegExp(`^/orders/${order.id}/complete`));
    const complete = await buyer.client.get(localPath(back));
    expect(outcomeOf(complete.body)).toBe('Paid');
    expect((await orderRow(w.db, order.id)).status).toBe('paid');
  });

  it('3184 left at the challenge: after the hold the reconciler gives the order up, cancels the intent and releases the stock', async () => {
    const listing = await addListing(w.db, seller.sellerId, { price: 3000, stock: 1 });
    const buyer = await buyerWithCard('4000002760003184');
    const response = await oneClick(buyer.client, listing.id, buyer.pm);
    expect(response.location).toMatch(new RegExp(`^${w.emu.url}/hosted/3ds/`));
    expect(await stockOf(w.db, listing.id)).toBe(0);
    const order = await w.db.selectFrom('orders').selectAll().where('buyer_id', '=', buyer.userId).executeTakeFirstOrThrow();
    await reconcilePendingOrders(w.db, w.stripe, new Date(Date.now() + CUSTOM_FLOW_HOLD_MS + 60_000));
    expect((await orderRow(w.db, order.id)).status).toBe('canceled');
    expect(await stockOf(w.db, listing.id)).toBe(1);
    expect((await w.stripe.paymentIntents.retrieve(order.stripe_payment_intent_id!)).status).toBe('canceled');
  });

  it('3184, challenge failed: the order fails and its stock comes back', async () => {
    const listing = await addListing(w.db, seller.sellerId, { price: 3000, stock: 1 });
    const buyer = await buyerWithCard('4000002760003184');
    const response = await oneClick(buyer.client, listing.id, buyer.pm);
    const back = await answerChallenge(response.location!, 'fail');
    const complete = await buyer.client.get(localPath(back));
    expect(outcomeOf(complete.body)).toBe('Payment failed');
    expect(await stockOf(w.db, listing.id)).toBe(1);
  });

  it('0341 (saves fine, every charge declines): a clear message, nothing charged, the stock released, the intent closed', async () => {
    const listing = await addListing(w.db, seller.sellerId, { price: 4000, stock: 1 });
    const buyer = await buyerWithCard('4000000000000341');
    const response = await oneClick(buyer.client, listing.id, buyer.pm);
    expect(response.statusCode).toBe(402);
    expect(response.body).toContain('data-testid="refusal"');
    expect(response.body).toContain('Payment declined');
    expect(response.body).toContain('Your bank declined the payment with this card. Nothing was charged, and the item is still available. Try another card.');
    expect(response.body).not.toMatch(/pi_[A-Za-z0-9]+_secret/);

    const order = await w.db.selectFrom('orders').selectAll().where('buyer_id', '=', buyer.userId).executeTakeFirstOrThrow();
    expect(order.status).toBe('payment_failed');
    expect(await stockOf(w.db, listing.id)).toBe(1);
    expect((await w.stripe.paymentIntents.retrieve(order.stripe_payment_intent_id!)).status).toBe('canceled');
    // The listing can be bought again at once (the stock really is back).
    const again = await buyer.client.get(`/listings/${listing.id}`);
    expect(again.body).not.toContain('data-testid="sold-out"');
    await w.events.run();
    expect((await orderRow(w.db, order.id)).status).toBe('payment_failed');
  });

  it("refuses a card that is not the buyer's (404, no order, no stock taken) and a listing that is sold out", async () => {
    const listing = await addListing(w.db, seller.sellerId, { price: 1000, stock: 1 });
    const owner = await buyerWithCard('4242424242424242');
    const thief = await w.signIn('buyer');
    const stolen = await oneClick(thief.client, listing.id, owner.pm);
    expect(stolen.statusCode).toBe(404);
    expect(await w.db.selectFrom('orders').select('id').where('buyer_id', '=', thief.userId).execute()).toEqual([]);
    expect(await stockOf(w.db, listing.id)).toBe(1);

    expect((await oneClick(owner.client, listing.id, owner.pm)).statusCode).toBe(303);
    const soldOut = await oneClick(owner.client, listing.id, owner.pm);
    expect(soldOut.statusCode).toBe(409);
    expect(soldOut.body).toContain('Sold out');
  });
});
