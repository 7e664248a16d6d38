// Issue 16 point 3: after a physical order is paid its seller marks it shipped (carrier and
// tracking number), then delivered; the buyer sees each step and hears of the shipment once. Only
// the order's seller may (another seller gets a 404, a buyer the seller area's refusal), a double
// submit is one step and one email, an order refunded in full is not shipped, and a digital order
// has no fulfilment at all.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Order } from '../../src/db/schema.ts';
import { buyWithPaymentElement, giveShippingAddress, openPaymentPage, syncOrderFromStripe } from '../../src/orders/use-cases.ts';
import { useWorld, type SignedIn } from '../helpers/fixture.ts';
import { addListing, enabledSeller, orderRow } from '../helpers/market.ts';

const w = useWorld({ emulator: true });
let seller: Awaited<ReturnType<typeof enabledSeller>>;
let buyer: SignedIn;

beforeAll(async () => {
  seller = await enabledSeller(w);
  buyer = await w.signIn('buyer');
});

const SHIP_TO = { name: 'Grace Hopper', line1: '1 Navy Way', line2: null, city: 'Arlington', state: 'VA', postal_code: '22201', country: 'US' };

/** A paid custom-flow order of a new listing of `kind` (physical ones with an address). */
async function paidOrder(kind: 'physical' | 'digital'): Promise<Order> {
  const listing = await addListing(w.db, seller.sellerId, { price: 3000, kind });
  const placed = await buyWithPaymentElement(w.db, w.stripe, {
    buyerId: buyer.userId,
    buyerEmail: buyer.email,
    listingId: listing.id,
    quantity: 1,
    attemptId: randomUUID(),
  });
  if (kind === 'physical') await giveShippingAddress(w.db, buyer.userId, placed.id, SHIP_TO, ['US']);
  const page = await openPaymentPage(w.db, w.stripe, buyer.userId, placed.id);
  if ('redirect' in page) throw new Error(`no pay page: ${page.redirect}`);
  await w.stripe.paymentIntents.confirm(page.order.stripe_payment_intent_id!, { payment_method: 'pm_card_visa' });
  const paid = await syncOrderFromStripe(w.db, w.stripe, page.order, 'completion_page');
  expect(paid.status).toBe('paid');
  return paid;
}

const stepsOf = (orderId: string) =>
  w.db.selectFrom('order_fulfilment_steps').select(['step', 'carrier', 'tracking_number', 'actor_id']).where('order_id', '=', orderId).orderBy('id').execute();
const shippedEmails = (orderId: string) =>
  w.db
    .selectFrom('email_outbox')
    .select(['to_address', 'data'])
    .where('template', '=', 'order-shipped')
    .where('dedupe_key', 'like', `order:${orderId}:%`)
    .execute();

describe('fulfilment of a paid physical order', () => {
  it('shipped with carrier and tracking, then delivered; the buyer sees each step and is emailed once', async () => {
    const order = await paidOrder('physical');
    const receiptBefore = await buyer.client.get(`/orders/${order.id}`);
    expect(receiptBefore.body).toContain('data-fulfilment-status="awaiting_shipment"');
    expect(receiptBefore.body).toContain('Waiting to be shipped by the seller');

    // Delivered before shipped is refused, with words.
    const early = await seller.client.post(`/seller/orders/${order.id}/delivered`);
    expect(early.statusCode).toBe(303);
    expect((await seller.client.get(early.location!)).body).toContain('Mark the order shipped before marking it delivered.');
    expect(await stepsOf(order.id)).toEqual([]);

    // A double submit: two posts of the same form, at once.
    const shipment = { carrier: 'USPS', tracking_number: '9400 1000 0000 0000 0000 00' };
    const posts = await Promise.all([
      seller.client.post(`/seller/orders/${order.id}/shipped`, shipment),
      seller.client.post(`/seller/orders/${order.id}/shipped`, shipment),
    ]);
    expect(posts.map((p) => p.statusCode)).toEqual([303, 303]);
    expect(await stepsOf(order.id)).toEqual([{ step: 'shipped', carrier: 'USPS', tracking_number: '9400 1000 0000 0000 0000 00', actor_id: seller.sellerId }]);
    expect(await shippedEmails(order.id)).toEqual([
      { to_address: buyer.email, data: { orderId: order.id, title: order.title, carrier: 'USPS', trackingNumber: '9400 1000 0000 0000 0000 00' } },
    ]);
    expect((await orderRow(w.db, order.id)).fulfilment_status).toBe('shipped');

    const receiptShipped = await buyer.client.get(`/orders/${order.id}`);
    expect(receiptShipped.body).toContain('with USPS, tracking number <code data-testid="tracking-number">9400 1000 0000 0000 0000 00</code>');
    expect((await buyer.client.get('/orders')).body).toContain('data-testid="fulfilment-words">Shipped<');

    await seller.client.post(`/seller/orders/${order.id}/delivered`);
    await seller.client.post(`/seller/orders/${order.id}/delivered`);
    expect((await stepsOf(order.id)).map((s) => s.step)).toEqual(['shipped', 'delivered']);
    expect((await orderRow(w.db, order.id)).fulfilment_status).toBe('delivered');
    const receiptDelivered = await buyer.client.get(`/orders/${order.id}`);
    expect(receiptDelivered.body).toContain('data-fulfilment-status="delivered"');
    expect(receiptDelivered.body).toMatch(/Delivered · /);
    // A late second "shipped" changes nothing and sends nothing more.
    await seller.client.post(`/seller/orders/${order.id}/shipped`, { carrier: 'UPS', tracking_number: '1Z999' });
    expect(await stepsOf(order.id)).toHaveLength(2);
    expect(await shippedEmails(order.id)).toHaveLength(1);
  });

  it("only the order's seller: another seller gets a 404, a buyer is refused, forms need CSRF and both fields", async () => {
    const order = await paidOrder('physical');
    const shipment = { carrier: 'DHL', tracking_number: 'JD0001' };
    const otherSeller = await enabledSeller(w);
    expect((await otherSeller.client.post(`/seller/orders/${order.id}/shipped`, shipment)).statusCode).toBe(404);
    expect((await otherSeller.client.get(`/seller/orders/${order.id}`)).statusCode).toBe(404);
    expect([403, 404]).toContain((await buyer.client.post(`/seller/orders/${order.id}/shipped`, shipment)).statusCode);
    expect((await seller.client.post(`/seller/orders/${order.id}/shipped`, shipment, { csrf: false })).statusCode).toBe(403);
    expect((await seller.client.post(`/seller/orders/${order.id}/shipped`, { carrier: 'DHL' })).statusCode).toBe(400);
    expect((await seller.client.post(`/seller/orders/${order.id}/shipped`, { carrier: 'DHL\u0000', tracking_number: 'x' })).statusCode).toBe(400);
    expect(await stepsOf(order.id)).toEqual([]);
    expect(await shippedEmails(order.id)).toEqual([]);
  });

  it('an order refunded in full is not shipped', async () => {
    const order = await paidOrder('physical');
    await w.db.updateTable('orders').set({ status: 'refunded', amount_refunded: order.amount }).where('id', '=', order.id).execute();
    const refused = await seller.client.post(`/seller/orders/${order.id}/shipped`, { carrier: 'USPS', tracking_number: '1' });
    expect((await seller.client.get(refused.location!)).body).toContain('This order was refunded in full, so it must not be shipped.');
    expect(await stepsOf(order.id)).toEqual([]);
    expect((await seller.client.get(`/seller/orders/${order.id}`)).body).not.toContain('data-testid="ship-form"');
  });

  it('a digital order has no shipping steps', async () => {
    const order = await paidOrder('digital');
    expect(order).toMatchObject({ kind: 'digital', ship_to: null, fulfilment_status: null });
    expect((await w.stripe.paymentIntents.retrieve(order.stripe_payment_intent_id!)).shipping).toBeNull();
    const refused = await seller.client.post(`/seller/orders/${order.id}/shipped`, { carrier: 'USPS', tracking_number: '1' });
    expect((await seller.client.get(refused.location!)).body).toContain('This order is digital: there is nothing to ship.');
    expect(await stepsOf(order.id)).toEqual([]);
    expect((await buyer.client.get(`/orders/${order.id}`)).body).not.toContain('data-testid="fulfilment"');
  });
});
