// Payment events act on an order only if they come from the platform account and are the payment
// the order made (issue #14, point 7): a connected account can put any order id in its own
// PaymentIntent's metadata, and such an event arrives correctly signed on the Connect endpoint.
// Everything runs for real: the emulator delivers signed events to the app's two endpoints and the
// worker's code processes them.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import type { Order } from '../../src/db/schema.ts';
import { placeOrder } from '../../src/orders/use-cases.ts';
import { createTestUser } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';
import { createListing, createPendingOrder, useSeller } from '../helpers/market.ts';

const h = useWorld({ webhooks: true, admin: true });
const seller = useSeller(h);
const otherSeller = useSeller(h);

/** A pending order of 100.00 USD with no payment object yet (the buyer pressed Buy; Stripe not called yet). */
async function draftOrder(): Promise<Order> {
  const listingId = await createListing(h, seller.user.id, 10_000);
  const buyer = await createTestUser(h.database.db, 'buyer');
  return placeOrder(h.database.db, { buyerId: buyer.id, buyerEmail: buyer.email, listingId, quantity: 1, attemptId: randomUUID(), flow: 'custom' });
}

const metadataOf = (order: Order) => ({ order_id: order.id, seller_id: order.seller_id, buyer_id: order.buyer_id, listing_id: order.listing_id });
const orderStatus = async (id: string) => (await h.database.db.selectFrom('orders').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;
const eventsAbout = async (objectId: string, type: string) =>
  h.database.db
    .selectFrom('stripe_events')
    .select(['status', 'source', 'account', 'last_error', 'attempts'])
    .where('type', '=', type)
    .where(sql<string>`payload->'data'->'object'->>'id'`, '=', objectId)
    .execute();

async function paidIntent(params: Stripe.PaymentIntentCreateParams, stripeAccount?: string): Promise<Stripe.PaymentIntent> {
  const options = stripeAccount === undefined ? {} : { stripeAccount };
  const intent = await h.stripe.paymentIntents.create(params, options);
  const paid = await h.stripe.paymentIntents.confirm(intent.id, { payment_method: 'pm_card_visa' }, options);
  expect(paid.status).toBe('succeeded');
  return paid;
}

describe('payment events from the wrong place', () => {
  it.each([
    [10_000, "the order's own amount"],
    [50, 'an amount of 50'],
  ])(
    "a connected account's PaymentIntent with a pending order's metadata and %i (%s) leaves the order pending; its events are ignored, saying why",
    async (amount) => {
      const order = await draftOrder();
      const forged = await paidIntent({ amount, currency: 'usd', metadata: metadataOf(order) }, otherSeller.accountId);
      await h.settle();
      expect(await orderStatus(order.id)).toBe('pending');
      const events = await eventsAbout(forged.id, 'payment_intent.succeeded');
      expect(events).toEqual([
        expect.objectContaining({
          source: 'connect',
          account: otherSeller.accountId,
          status: 'ignored',
          last_error: expect.stringContaining('Connect endpoint'),
        }),
      ]);
      const charges = await eventsAbout(idOfCharge(forged), 'charge.succeeded');
      expect(charges.map((e) => e.status)).toEqual(['ignored']);
      expect(
        await h.database.db.selectFrom('orders').select(['stripe_payment_intent_id', 'stripe_charge_id']).where('id', '=', order.id).executeTakeFirstOrThrow(),
      ).toEqual({ stripe_payment_intent_id: null, stripe_charge_id: null });
    },
  );

  it('a platform PaymentIntent for another amount is refused at once, not retried for hours', async () => {
    const order = await draftOrder();
    const wrong = await paidIntent({
      amount: 50,
      currency: 'usd',
      metadata: metadataOf(order),
      transfer_data: { destination: seller.accountId },
      application_fee_amount: order.application_fee_amount > 50 ? 5 : order.application_fee_amount,
    });
    await h.settle();
    expect(await orderStatus(order.id)).toBe('pending');
    expect(await eventsAbout(wrong.id, 'payment_intent.succeeded')).toEqual([
      expect.objectContaining({ source: 'platform', status: 'ignored', attempts: 1, last_error: expect.stringContaining('does not match order') }),
    ]);
  });

  it('a platform PaymentIntent with the right amount but not the destination charge the order makes is not adopted', async () => {
    const order = await draftOrder();
    const elsewhere = await paidIntent({
      amount: order.amount,
      currency: order.currency,
      metadata: metadataOf(order),
      transfer_data: { destination: otherSeller.accountId },
      application_fee_amount: order.application_fee_amount,
    });
    await h.settle();
    expect(await orderStatus(order.id)).toBe('pending');
    expect(await eventsAbout(elsewhere.id, 'payment_intent.succeeded')).toEqual([
      expect.objectContaining({ status: 'ignored', last_error: expect.stringContaining('another destination') }),
    ]);
  });

  it("the order's own PaymentIntent still pays it", async () => {
    const order = await createPendingOrder(h, seller, 10_000);
    await h.stripe.paymentIntents.confirm(order.stripe_payment_intent_id!, { payment_method: 'pm_card_visa' });
    await h.settle();
    expect(await orderStatus(order.id)).toBe('paid');
    expect((await eventsAbout(order.stripe_payment_intent_id!, 'payment_intent.succeeded')).map((e) => e.status)).toEqual(['done']);
  });
});

function idOfCharge(intent: Stripe.PaymentIntent): string {
  const charge = intent.latest_charge;
  if (charge === null) throw new Error(`${intent.id} has no charge`);
  return typeof charge === 'string' ? charge : charge.id;
}
