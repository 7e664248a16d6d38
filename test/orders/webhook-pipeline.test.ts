// The payment handlers behind the real webhook pipeline: the emulator delivers signed events to our
// /webhooks/stripe endpoint, the inbox stores them, the worker (drainInbox) runs the registry's
// handlers. Duplicated and reordered deliveries still give one order state and one transition.
// Also: a Stripe call that fails after our commit is retried with the same order and the same
// idempotency key, and the settlement-merchant policy reaches Stripe as on_behalf_of.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { placeOrder, reconcilePendingOrders } from '../../src/orders/use-cases.ts';
import { runScheduledBackfill } from '../../src/worker/worker.ts';
import { useWorld } from '../helpers/fixture.ts';
import { addListing, buy, enabledSeller, orderRow, outcomeOf, startCheckout, stockOf, transitionsOf, useEnabledSeller } from '../helpers/market.ts';
import { answerChallenge, payOnCheckoutPage } from '../helpers/hosted-pages.ts';

const w = useWorld({ webhooks: true });
const seller = useEnabledSeller(w);

/** An order whose process died before it reached Stripe (a new buyer's hosted draft): nothing will ever send an event for it. */
async function draftOrder(listingId: string) {
  const buyer = await w.signIn('buyer');
  return placeOrder(w.db, { buyerId: buyer.userId, buyerEmail: buyer.email, listingId, quantity: 1, attemptId: randomUUID(), flow: 'hosted' });
}

describe('payment events through the webhook pipeline', () => {
  for (const mode of ['normal', 'duplicate', 'reorder'] as const) {
    it(`${mode} delivery: 3155 with 3DS → paid once, with Stripe's money facts`, async () => {
      await w.emu.control('POST', '/_emulator/delivery', { mode });
      const { sessionUrl, orderId } = await startCheckout(w, seller.sellerId, { price: 2750, stock: 2 });
      const attempt = await payOnCheckoutPage(sessionUrl, '4000002500003155');
      await answerChallenge(attempt.location!, 'complete');
      await w.settle();
      const order = await orderRow(w.db, orderId);
      expect(order.status).toBe('paid');
      expect(order.stripe_fee_amount).toBeGreaterThan(0);
      expect(order.seller_net_amount).toBe(2750 - 275);
      const transitions = await transitionsOf(w.db, orderId);
      expect(transitions).toHaveLength(1);
      expect(transitions[0]).toMatchObject({ to_status: 'paid', source: 'webhook' });
      expect(transitions[0]!.stripe_event_id).toMatch(/^evt_/);
      const failed = await w.db.selectFrom('stripe_events').select(['type', 'last_error']).where('status', 'in', ['failed', 'dead']).execute();
      expect(failed).toEqual([]);
      await w.emu.control('POST', '/_emulator/delivery', { mode: 'normal' });
    });
  }

  it('a decline through the pipeline leaves the session open (stock held); 4242 on the same page → paid', async () => {
    const { listing, sessionUrl, orderId } = await startCheckout(w, seller.sellerId, { price: 990, stock: 1 });
    await payOnCheckoutPage(sessionUrl, '4000000000000002');
    await w.settle();
    const order = await orderRow(w.db, orderId);
    expect(order).toMatchObject({ status: 'pending', failure_message: 'Your card was declined.' });
    expect((await w.stripe.checkout.sessions.retrieve(order.stripe_checkout_session_id!)).status).toBe('open');
    expect(await stockOf(w.db, listing.id)).toBe(0);
    expect((await payOnCheckoutPage(sessionUrl, '4242424242424242')).status).toBe(303);
    await w.settle();
    expect(await orderRow(w.db, orderId)).toMatchObject({ status: 'paid', failure_message: null });
    expect(await transitionsOf(w.db, orderId)).toHaveLength(1);
  });
});

describe('Stripe calls that fail', () => {
  it('the session create is lost on the wire: the buyer is told, the order waits; "Try again" sends the same form and gets one session with the same key', async () => {
    const listing = await addListing(w.db, seller.sellerId, { price: 1200, stock: 3 });
    const buyer = await w.signIn('buyer');
    const attempt = randomUUID();
    await w.emu.control('POST', '/_emulator/faults', { path: '/v1/checkout/sessions', method: 'POST', kind: 'drop', count: 2 }); // the SDK retries a reset connection once by itself
    const first = await buy(buyer.client, listing.id, 2, attempt);
    expect(first.statusCode).toBe(503);
    expect(first.body).toContain('Stripe did not answer in time, so the payment has not started. Nothing has been charged');
    // The page's "Try again" re-sends exactly this form: same attempt, same quantity.
    expect(first.body).toContain(`action="/checkout/${listing.id}"`);
    expect(first.body).toContain(`name="attempt" value="${attempt}"`);
    expect(first.body).toContain('name="quantity" value="2"');
    const pending = await w.db.selectFrom('orders').selectAll().where('checkout_attempt_id', '=', attempt).executeTakeFirstOrThrow();
    expect(pending).toMatchObject({ status: 'pending', stripe_checkout_session_id: null, stock_reserved: true });
    const second = await buy(buyer.client, listing.id, 2, attempt);
    expect(second.statusCode).toBe(303);
    expect(second.location).toContain('/hosted/checkout/cs_test_');
    expect(await w.db.selectFrom('orders').select('id').where('listing_id', '=', listing.id).execute()).toHaveLength(1);
    expect((await w.db.selectFrom('listings').select('stock').where('id', '=', listing.id).executeTakeFirstOrThrow()).stock).toBe(1);
  });

  it("the custom flow's PaymentIntent create is lost: the buyer is told and can try again, from the form or the pay page; one intent in the end", async () => {
    const listing = await addListing(w.db, seller.sellerId, { price: 1500, stock: 2 });
    const buyer = await w.signIn('buyer');
    const attempt = randomUUID();
    const loseNextIntentCreate = () => w.emu.control('POST', '/_emulator/faults', { path: '/v1/payment_intents', method: 'POST', kind: 'drop', count: 2 });

    await loseNextIntentCreate();
    const start = await buyer.client.post(`/checkout/${listing.id}/pay`, { quantity: 1, attempt });
    expect(start.statusCode).toBe(503);
    expect(start.body).toContain('Nothing has been charged, and your order is kept');
    expect(start.body).toContain(`action="/checkout/${listing.id}/pay"`);
    expect(start.body).toContain(`name="attempt" value="${attempt}"`);
    const order = await w.db.selectFrom('orders').selectAll().where('checkout_attempt_id', '=', attempt).executeTakeFirstOrThrow();
    expect(order).toMatchObject({ status: 'pending', flow: 'custom', stripe_payment_intent_id: null });

    // The pay page asks again (same key); lost once more, it says so and links to itself.
    const payUrl = `/orders/${order.id}/pay`;
    await loseNextIntentCreate();
    const lost = await buyer.client.get(payUrl);
    expect(lost.statusCode).toBe(503);
    expect(lost.body).toContain(`href="${payUrl}"`);

    const again = await buyer.client.get(payUrl);
    expect(again.statusCode).toBe(200);
    const intentId = (await orderRow(w.db, order.id)).stripe_payment_intent_id!;
    expect(intentId).toMatch(/^pi_/);
    expect(again.body).toContain(`${intentId}_secret_`);
    // The form's "Try again" reaches the same order, and Stripe holds one intent for it.
    const retried = await buyer.client.post(`/checkout/${listing.id}/pay`, { quantity: 1, attempt });
    expect(retried.location).toBe(payUrl);
    const intents = await w.stripe.paymentIntents.list({ limit: 100 });
    expect(intents.data.filter((intent) => intent.metadata.order_id === order.id)).toHaveLength(1);
  });

  it('Stripe cannot be asked when the buyer comes back from Checkout: the page shows the order as recorded, and shows it paid once Stripe answers', async () => {
    const { sessionUrl, orderId, buyer } = await startCheckout(w, seller.sellerId, { price: 1800, stock: 2 });
    const buyerClient = buyer.client;
    const sessionId = (await orderRow(w.db, orderId)).stripe_checkout_session_id!;
    await payOnCheckoutPage(sessionUrl, '4242424242424242');
    await w.emu.control('POST', '/_emulator/faults', { path: `/v1/checkout/sessions/${sessionId}`, method: 'GET', kind: '500', count: 10 });
    const away = await buyerClient.get(`/orders/${orderId}/complete?session_id=${sessionId}`);
    expect(away.statusCode).toBe(200);
    expect(outcomeOf(away.body)).toBe('Processing');
    expect(away.body).toContain('<meta http-equiv="refresh" content="3">');
    await w.emu.clearFaults();
    const back = await buyerClient.get(`/orders/${orderId}/complete?session_id=${sessionId}`);
    expect(outcomeOf(back.body)).toBe('Paid');
    expect((await orderRow(w.db, orderId)).status).toBe('paid');
  });

  it('Stripe refuses the destination: the order is canceled, its stock released, and the buyer told nothing was charged', async () => {
    const listing = await addListing(w.db, seller.sellerId, { price: 1200, stock: 3 });
    // Our records say enabled, but the account at Stripe is gone: Stripe refuses the destination.
    await w.db.updateTable('sellers').set({ stripe_account_id: 'acct_doesnotexist000000' }).where('id', '=', seller.sellerId).execute();
    try {
      const buyer = await w.signIn('buyer');
      const response = await buy(buyer.client, listing.id);
      expect(response.statusCode).toBe(502);
      expect(response.body).toContain('Nothing has been charged');
      const order = await w.db.selectFrom('orders').selectAll().where('listing_id', '=', listing.id).executeTakeFirstOrThrow();
      expect(order.status).toBe('canceled');
      expect((await w.db.selectFrom('listings').select('stock').where('id', '=', listing.id).executeTakeFirstOrThrow()).stock).toBe(3);
    } finally {
      await w.db.updateTable('sellers').set({ stripe_account_id: seller.accountId }).where('id', '=', seller.sellerId).execute();
    }
  });

  it('a seller whose fee policy makes them the settlement merchant: on_behalf_of reaches Stripe', async () => {
    const other = await enabledSeller(w);
    await w.db
      .insertInto('fee_policies')
      .values({ seller_id: other.sellerId, currency: 'usd', basis_points: 500, fixed_amount: 25, on_behalf_of: true })
      .execute();
    const { sessionUrl, orderId } = await startCheckout(w, other.sellerId, { price: 2000, stock: null });
    await payOnCheckoutPage(sessionUrl, '4242424242424242');
    const order = await orderRow(w.db, orderId);
    expect(order).toMatchObject({ application_fee_amount: 100 + 25, fee_basis_points: 500, fee_fixed_amount: 25, on_behalf_of: true });
    const session = await w.stripe.checkout.sessions.retrieve(order.stripe_checkout_session_id!, { expand: ['payment_intent'] });
    const intent = session.payment_intent as { on_behalf_of: string | null; application_fee_amount: number | null };
    expect(intent.on_behalf_of).toBe(other.accountId);
    expect(intent.application_fee_amount).toBe(125);
  });
});

// Last: it moves the emulator's clock two hours ahead of ours.
describe('reconciliation', () => {
  it('lost webhooks: the reconciler settles pending orders past their window by asking Stripe, and cancels drafts that never reached Stripe', async () => {
    const { listing, orderId } = await startCheckout(w, seller.sellerId, { price: 700, stock: 3 });
    const draft = await draftOrder(listing.id);
    expect(await stockOf(w.db, listing.id)).toBe(1);
    await w.emu.advanceClock(2 * 3600); // the session expires at Stripe; we never process the event
    const later = new Date(Date.now() + 3 * 3600 * 1000);
    const result = await reconcilePendingOrders(w.db, w.stripe, later);
    expect(result.settled).toBeGreaterThanOrEqual(2);
    expect((await orderRow(w.db, orderId)).status).toBe('canceled');
    expect((await orderRow(w.db, draft.id)).status).toBe('canceled');
    expect(await stockOf(w.db, listing.id)).toBe(3);
    expect(await transitionsOf(w.db, orderId)).toEqual([expect.objectContaining({ to_status: 'canceled', source: 'reconcile' })]);
    await w.settle(); // the expiry event arriving late changes nothing
    expect(await transitionsOf(w.db, orderId)).toHaveLength(1);
  });

  it("runs on the worker's schedule: an order left pending for hours is settled (its stock comes back)", async () => {
    const listing = await addListing(w.db, seller.sellerId, { price: 900, stock: 2 });
    const draft = await draftOrder(listing.id);
    // created_at is written only by the database; age the row the same way.
    await sql`update orders set created_at = now() - interval '3 hours' where id = ${draft.id}`.execute(w.db);
    expect(await stockOf(w.db, listing.id)).toBe(1);
    await runScheduledBackfill(w.db, w.stripe, false);
    expect((await orderRow(w.db, draft.id)).status).toBe('canceled');
    expect(await stockOf(w.db, listing.id)).toBe(2);
  });
});
