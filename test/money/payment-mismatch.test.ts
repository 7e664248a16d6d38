// A payment carrying our order's id is accepted only when its amount AND currency are the order's.
// A ¥5,000 PaymentIntent is not a $50.00 order paid, though both are 5000 minor units. The orders
// here have no payment object recorded yet (hosted Checkout before the buyer paid, or a draft whose
// create answer was lost), which is when an event's object would otherwise be adopted as the
// order's own payment.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Order } from '../../src/db/schema.ts';
import { matchesOrder } from '../../src/orders/rules.ts';
import { placeOrder, reconcilePendingOrders } from '../../src/orders/use-cases.ts';
import { createTestUser } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';
import { payOnCheckoutPage } from '../helpers/hosted-pages.ts';
import { createHostedOrder, createListing, orderRow, useSeller } from '../helpers/market.ts';

const w = useWorld({ webhooks: true, admin: true });
const seller = useSeller(w, { manualPayouts: true });

/**
 * A succeeded PaymentIntent made outside our checkout, claiming to pay `order`: our metadata, the
 * order's destination and fee, so only the amount and currency can give it away.
 */
async function foreignPayment(order: Order, amount: number, currency: string) {
  return w.stripe.paymentIntents.create({
    amount,
    currency,
    payment_method: 'pm_card_visa',
    confirm: true,
    return_url: 'https://shop.example/return',
    metadata: { order_id: order.id, buyer_id: order.buyer_id, seller_id: order.seller_id, listing_id: order.listing_id },
    transfer_data: { destination: order.destination_account },
    application_fee_amount: order.application_fee_amount,
  });
}

async function eventsAbout(objectId: string, type: string) {
  const rows = await w.db.selectFrom('stripe_events').select(['type', 'status', 'last_error', 'payload']).where('type', '=', type).execute();
  return rows.filter((r) => (r.payload as { data: { object: { id: string } } }).data.object.id === objectId);
}

describe('a payment for our order id in another currency or amount is refused', () => {
  it.each([
    ['another currency, the same number (¥5,000 for $50.00)', 5_000, 'jpy'],
    ['the same currency, one cent short', 4_999, 'usd'],
    ['the same currency, one cent over', 5_001, 'usd'],
  ])('payment_intent.succeeded with %s: the order stays pending and does not adopt it', async (_name, amount, currency) => {
    const order = await createHostedOrder(w, seller, 5_000);
    expect(order).toMatchObject({ status: 'pending', stripe_payment_intent_id: null, amount: 5_000, currency: 'usd' });
    const intent = await foreignPayment(order, amount, currency);
    expect(intent.status).toBe('succeeded');
    await w.settle();
    expect(await orderRow(w.db, order.id)).toMatchObject({ status: 'pending', stripe_payment_intent_id: null, paid_at: null });
    // The handler refuses it for good: `ignored` (never retried: delivering it again cannot make it
    // match), with the reason an admin reads in the event log.
    const [event] = await eventsAbout(intent.id, 'payment_intent.succeeded');
    expect(event).toMatchObject({ status: 'ignored' });
    expect(event!.last_error).toContain('does not match order');
  });

  it('a Checkout Session in another currency, for a draft whose own session was never recorded: not adopted, not paid', async () => {
    const listingId = await createListing(w, seller.user.id, 5_000);
    const buyer = await createTestUser(w.db, 'buyer');
    const draft = await placeOrder(w.db, { buyerId: buyer.id, buyerEmail: buyer.email, listingId, quantity: 1, attemptId: randomUUID(), flow: 'hosted' });
    const session = await w.stripe.checkout.sessions.create({
      mode: 'payment',
      ui_mode: 'hosted_page',
      client_reference_id: draft.id,
      metadata: { order_id: draft.id },
      line_items: [{ quantity: 1, price_data: { currency: 'jpy', unit_amount: 5_000, product_data: { name: 'Not this order' } } }],
      success_url: 'https://shop.example/ok',
    });
    await payOnCheckoutPage(session.url!, '4242424242424242', 'b@example.test');
    await w.settle();
    expect(await orderRow(w.db, draft.id)).toMatchObject({ status: 'pending', stripe_checkout_session_id: null, stripe_payment_intent_id: null });
    const [completed] = await eventsAbout(session.id, 'checkout.session.completed');
    expect(completed).toMatchObject({ status: 'ignored' });
    expect(completed!.last_error).toContain('does not match order');
    // The reconciler finds the session by the order id it carries, and refuses it too (settling
    // nothing, without stopping on it: the other orders due in the same run still get their turn).
    await expect(reconcilePendingOrders(w.db, w.stripe, new Date(Date.now() + 2 * 86_400_000))).resolves.toMatchObject({ settled: 0 });
    expect((await orderRow(w.db, draft.id)).status).toBe('pending');
  });

  it('a matching payment is accepted (the refusal above is about the mismatch, not the foreign object)', async () => {
    const order = await createHostedOrder(w, seller, 5_000);
    const intent = await foreignPayment(order, 5_000, 'usd');
    await w.settle();
    expect(await orderRow(w.db, order.id)).toMatchObject({ status: 'paid', stripe_payment_intent_id: intent.id });
  });
});

describe('matchesOrder (unit)', () => {
  const order = { amount: 5_000, currency: 'usd' };
  it.each([
    [5_000, 'usd', true],
    [5_000, 'USD', true],
    [5_000, 'jpy', false],
    [5_000, 'eur', false],
    [4_999, 'usd', false],
    [5_001, 'usd', false],
    [0, 'usd', false],
    [null, 'usd', false],
    [5_000, null, false],
    [undefined, undefined, false],
  ] as const)('%s %s → %s', (amount, currency, expected) => {
    expect(matchesOrder(order, amount, currency)).toBe(expected);
  });
});
