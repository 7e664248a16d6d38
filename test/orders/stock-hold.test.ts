// Stock hoarding (issue #14, point 3): unpaid orders hold stock, so a buyer may have only a few
// waiting at once (real concurrent requests cannot pass the cap together), may cancel one to put its
// stock back at once, and a custom-flow order left unpaid is given up after 30 minutes, not a day.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PENDING_ORDERS_PER_BUYER } from '../../src/orders/rules.ts';
import { reconcilePendingOrders } from '../../src/orders/use-cases.ts';
import { useWorld } from '../helpers/fixture.ts';
import { addListing, stockOf, useEnabledSeller } from '../helpers/market.ts';

const w = useWorld({ emulator: true });
const seller = useEnabledSeller(w);

const ordersOf = async (buyerId: string) => w.db.selectFrom('orders').selectAll().where('buyer_id', '=', buyerId).orderBy('created_at').execute();

describe('pending orders per buyer', () => {
  it(`eight parallel checkouts by one buyer: ${PENDING_ORDERS_PER_BUYER} hold stock, the rest are refused with a reason; cancelling one puts its stock back at once and frees a place`, async () => {
    const listing = await addListing(w.db, seller.sellerId, { price: 1500, stock: 20 });
    const { client, userId } = await w.signIn('buyer');
    await client.csrfToken();
    const responses = await Promise.all(Array.from({ length: 8 }, () => client.post(`/checkout/${listing.id}`, { quantity: 2, attempt: randomUUID() })));
    const started = responses.filter((r) => r.statusCode === 303);
    const refused = responses.filter((r) => r.statusCode === 429);
    expect(started).toHaveLength(PENDING_ORDERS_PER_BUYER);
    expect(refused).toHaveLength(8 - PENDING_ORDERS_PER_BUYER);
    expect(refused[0]!.body).toContain(`You already have ${PENDING_ORDERS_PER_BUYER} orders waiting for payment`);
    expect(await ordersOf(userId)).toHaveLength(PENDING_ORDERS_PER_BUYER);
    expect(await stockOf(w.db, listing.id)).toBe(20 - 2 * PENDING_ORDERS_PER_BUYER);

    // The buyer cancels one: Stripe's session is closed first, then the stock comes back.
    const [first] = await ordersOf(userId);
    const cancel = await client.post(`/orders/${first!.id}/cancel`);
    expect(cancel.statusCode).toBe(303);
    expect((await w.db.selectFrom('orders').select('status').where('id', '=', first!.id).executeTakeFirstOrThrow()).status).toBe('canceled');
    expect((await w.stripe.checkout.sessions.retrieve(first!.stripe_checkout_session_id!)).status).toBe('expired');
    expect(await stockOf(w.db, listing.id)).toBe(20 - 2 * (PENDING_ORDERS_PER_BUYER - 1));
    // …which frees a place.
    expect((await client.post(`/checkout/${listing.id}`, { quantity: 1, attempt: randomUUID() })).statusCode).toBe(303);
    // Someone else's order cannot be cancelled by this buyer.
    const other = await w.signIn('buyer');
    expect((await other.client.post(`/orders/${first!.id}/cancel`)).statusCode).toBe(404);
  });

  it('the same form submitted twice is one order and does not count twice', async () => {
    const listing = await addListing(w.db, seller.sellerId, { price: 1500, stock: 5 });
    const { client, userId } = await w.signIn('buyer');
    const attempt = randomUUID();
    for (let i = 0; i < PENDING_ORDERS_PER_BUYER + 1; i++)
      expect((await client.post(`/checkout/${listing.id}`, { quantity: 1, attempt })).statusCode).toBe(303);
    expect(await ordersOf(userId)).toHaveLength(1);
  });
});

describe('the custom flow holds stock for 30 minutes', () => {
  it('a cancelled custom-flow order cancels its PaymentIntent and releases the stock at once', async () => {
    const listing = await addListing(w.db, seller.sellerId, { price: 2500, stock: 3 });
    const { client, userId } = await w.signIn('buyer');
    expect((await client.post(`/checkout/${listing.id}/pay`, { quantity: 3, attempt: randomUUID() })).statusCode).toBe(303);
    expect(await stockOf(w.db, listing.id)).toBe(0);
    const [order] = await ordersOf(userId);
    expect((await client.post(`/orders/${order!.id}/cancel`)).statusCode).toBe(303);
    expect((await w.stripe.paymentIntents.retrieve(order!.stripe_payment_intent_id!)).status).toBe('canceled');
    expect(await stockOf(w.db, listing.id)).toBe(3);
  });

  it('left unpaid, it is given up after 30 minutes (not before): intent canceled, stock back', async () => {
    const listing = await addListing(w.db, seller.sellerId, { price: 2500, stock: 2 });
    const { client, userId } = await w.signIn('buyer');
    expect((await client.post(`/checkout/${listing.id}/pay`, { quantity: 2, attempt: randomUUID() })).statusCode).toBe(303);
    const [order] = await ordersOf(userId);
    const created = order!.created_at.getTime();

    await reconcilePendingOrders(w.db, w.stripe, new Date(created + 29 * 60_000));
    expect((await ordersOf(userId))[0]!.status).toBe('pending');
    expect(await stockOf(w.db, listing.id)).toBe(0);

    await reconcilePendingOrders(w.db, w.stripe, new Date(created + 31 * 60_000));
    expect((await ordersOf(userId))[0]!.status).toBe('canceled');
    expect((await w.stripe.paymentIntents.retrieve(order!.stripe_payment_intent_id!)).status).toBe('canceled');
    expect(await stockOf(w.db, listing.id)).toBe(2);
  });
});
