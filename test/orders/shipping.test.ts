// Issue 16 point 3: the shipping address of a physical order reaches the seller from both flows.
// Hosted Checkout asks for it on Stripe's (the emulator's) page; the custom flow asks on our own
// page before the PaymentIntent exists and sends it as the intent's `shipping`. Either way the
// emulator delivers signed events to /webhooks/stripe, the worker's code processes them, and the
// seller's order page and "new sale" email say where to ship. Digital orders have no address.
import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import { beforeAll, describe, expect, it } from 'vitest';
import { placeOrder } from '../../src/orders/use-cases.ts';
import { testConfig } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';
import { payOnCheckoutPage } from '../helpers/hosted-pages.ts';
import { addListing, buy, enabledSeller, orderIdFromSessionUrl, orderRow } from '../helpers/market.ts';
import { makeEvent } from '../helpers/webhooks.ts';

const w = useWorld({ webhooks: true, config: testConfig({ SHIPPING_COUNTRIES: 'US,FR' }) });
let seller: Awaited<ReturnType<typeof enabledSeller>>;

beforeAll(async () => {
  seller = await enabledSeller(w);
});

const ADDRESS_ON_PAGE = {
  shipping_name: 'Ada Lovelace',
  shipping_line1: '12 Rue de la Paix',
  shipping_line2: 'Bâtiment B',
  shipping_city: 'Paris',
  shipping_postal_code: '75002',
  shipping_country: 'FR',
};
const SHIP_TO = { name: 'Ada Lovelace', line1: '12 Rue de la Paix', line2: 'Bâtiment B', city: 'Paris', state: null, postal_code: '75002', country: 'FR' };

async function newSaleEmail(orderId: string) {
  return w.db.selectFrom('email_outbox').select(['data', 'to_address']).where('dedupe_key', '=', `order:${orderId}:new-sale`).executeTakeFirst();
}

describe('hosted Checkout: Stripe collects the address', () => {
  for (const mode of ['normal', 'reorder'] as const) {
    it(`${mode} delivery: the address typed on Stripe's page reaches the seller's order page and "new sale"`, async () => {
      await w.emu.control('POST', '/_emulator/delivery', { mode });
      const listing = await addListing(w.db, seller.sellerId, { price: 4200, stock: 3, kind: 'physical', title: 'Copper kettle' });
      const buyer = await w.signIn('buyer');
      const started = await buy(buyer.client, listing.id);
      const orderId = await orderIdFromSessionUrl(w.db, started.location!);
      const session = await w.stripe.checkout.sessions.retrieve((await orderRow(w.db, orderId)).stripe_checkout_session_id!);
      expect(session.shipping_address_collection).toEqual({ allowed_countries: ['US', 'FR'] });

      // Stripe's page takes no payment without an address in an allowed country.
      const without = await payOnCheckoutPage(started.location!, '4242424242424242');
      expect(without.status).toBe(402);
      expect(without.body).toContain('Enter your shipping name and address.');
      const elsewhere = await payOnCheckoutPage(started.location!, '4242424242424242', undefined, { ...ADDRESS_ON_PAGE, shipping_country: 'GB' });
      expect(elsewhere.status).toBe(402);

      const paid = await payOnCheckoutPage(started.location!, '4242424242424242', undefined, ADDRESS_ON_PAGE);
      expect(paid.status).toBe(303);
      const completed = await w.stripe.checkout.sessions.retrieve(session.id, { expand: ['payment_intent'] });
      expect(completed.collected_information?.shipping_details).toEqual({
        name: 'Ada Lovelace',
        address: { line1: '12 Rue de la Paix', line2: 'Bâtiment B', city: 'Paris', state: null, postal_code: '75002', country: 'FR' },
      });
      expect((completed.payment_intent as Stripe.PaymentIntent).shipping?.name).toBe('Ada Lovelace');

      await w.settle();
      const order = await orderRow(w.db, orderId);
      expect(order).toMatchObject({ status: 'paid', kind: 'physical', fulfilment_status: 'awaiting_shipment', ship_to: SHIP_TO });
      const email = await newSaleEmail(orderId);
      expect(email?.data).toMatchObject({ shipTo: { name: 'Ada Lovelace', lines: ['12 Rue de la Paix', 'Bâtiment B', '75002 Paris', 'France'] } });

      const page = await seller.client.get(`/seller/orders/${orderId}`);
      expect(page.body).toMatch(/data-testid="ship-to">Ada Lovelace<br>12 Rue de la Paix<br>Bâtiment B<br>75002 Paris<br>France<\/address>/);
      expect(page.body).toContain('data-testid="ship-form"');
      await w.emu.control('POST', '/_emulator/delivery', { mode: 'normal' });
    });
  }

  it('an intent event without the address, handled before its session\'s, still records it before "new sale"', async () => {
    const listing = await addListing(w.db, seller.sellerId, { price: 1500, kind: 'physical' });
    const buyer = await w.signIn('buyer');
    const started = await buy(buyer.client, listing.id);
    const orderId = await orderIdFromSessionUrl(w.db, started.location!);
    await w.settle();
    // Stripe's own events of this payment never arrive; one intent event without `shipping` does.
    await w.emu.control('POST', '/_emulator/delivery', { mode: 'drop', types: ['checkout.session.completed', 'payment_intent.succeeded'] });
    await payOnCheckoutPage(started.location!, '4242424242424242', undefined, ADDRESS_ON_PAGE);
    await w.emu.control('POST', '/_emulator/delivery', { mode: 'normal' });
    const intentId = (await w.stripe.checkout.sessions.retrieve((await orderRow(w.db, orderId)).stripe_checkout_session_id!)).payment_intent as string;
    const intent = await w.stripe.paymentIntents.retrieve(intentId);
    await w.events.deliver(makeEvent('payment_intent.succeeded', { ...intent, shipping: null }));
    expect(await orderRow(w.db, orderId)).toMatchObject({ status: 'paid', ship_to: SHIP_TO });
    expect((await newSaleEmail(orderId))?.data).toMatchObject({ shipTo: { name: 'Ada Lovelace' } });
  });

  it('a digital listing: no address asked, none recorded, no fulfilment', async () => {
    const listing = await addListing(w.db, seller.sellerId, { price: 900, kind: 'digital', title: 'Knitting pattern' });
    const buyer = await w.signIn('buyer');
    const started = await buy(buyer.client, listing.id);
    const orderId = await orderIdFromSessionUrl(w.db, started.location!);
    const session = await w.stripe.checkout.sessions.retrieve((await orderRow(w.db, orderId)).stripe_checkout_session_id!);
    expect(session.shipping_address_collection).toBeNull();
    const page = await fetch(started.location!);
    expect(await page.text()).not.toContain('data-testid="shipping-address"');
    expect((await payOnCheckoutPage(started.location!, '4242424242424242')).status).toBe(303);
    await w.settle();
    expect(await orderRow(w.db, orderId)).toMatchObject({ status: 'paid', kind: 'digital', ship_to: null, fulfilment_status: null });
    expect((await newSaleEmail(orderId))?.data).toMatchObject({ shipTo: null });
    const sellerPage = await seller.client.get(`/seller/orders/${orderId}`);
    expect(sellerPage.body).not.toContain('data-testid="fulfilment"');
  });
});

describe('custom flow: our page collects the address before the PaymentIntent', () => {
  it('the buy form leads to the address form; the intent carries it; the seller sees it once paid', async () => {
    const listing = await addListing(w.db, seller.sellerId, { price: 2500, stock: 2, kind: 'physical', title: 'Wool blanket' });
    const buyer = await w.signIn('buyer');
    const listingPage = await buyer.client.get(`/listings/${listing.id}`);
    const attempt = /name="attempt" value="([^"]+)"/.exec(listingPage.body)![1]!;
    const bought = await buyer.client.post(`/checkout/${listing.id}/pay`, { quantity: 1, attempt });
    const orderId = /\/orders\/([0-9a-f-]+)\/pay$/.exec(bought.location!)![1]!;
    expect((await orderRow(w.db, orderId)).stripe_payment_intent_id).toBeNull();

    // No intent before the address: the pay page sends the buyer to the form.
    const pay = await buyer.client.get(`/orders/${orderId}/pay`);
    expect([pay.statusCode, pay.location]).toEqual([303, `/orders/${orderId}/shipping`]);
    const form = await buyer.client.get(`/orders/${orderId}/shipping`);
    expect(form.body).toContain('<option value="FR"');
    expect(form.body).not.toContain('<option value="GB"');

    const address = { name: 'Grace Hopper', line1: '1 Navy Way', city: 'Arlington', state: 'VA', postal_code: '22201', country: 'US' };
    const notServed = await buyer.client.post(`/orders/${orderId}/shipping`, { ...address, country: 'GB' });
    expect(notServed.statusCode).toBe(400);
    expect(notServed.body).toContain('Choose one of the listed countries');
    const control = await buyer.client.post(`/orders/${orderId}/shipping`, { ...address, line1: '1 Navy\u0007Way' });
    expect(control.statusCode).toBe(400);
    const someoneElse = await w.signIn('buyer');
    expect((await someoneElse.client.post(`/orders/${orderId}/shipping`, address)).statusCode).toBe(404);
    expect((await orderRow(w.db, orderId)).ship_to).toBeNull();

    const given = await buyer.client.post(`/orders/${orderId}/shipping`, address);
    expect([given.statusCode, given.location]).toEqual([303, `/orders/${orderId}/pay`]);
    const payPage = await buyer.client.get(`/orders/${orderId}/pay`);
    expect(payPage.statusCode).toBe(200);
    const intentId = (await orderRow(w.db, orderId)).stripe_payment_intent_id!;
    const intent = await w.stripe.paymentIntents.retrieve(intentId);
    expect(intent.shipping).toMatchObject({
      name: 'Grace Hopper',
      address: { line1: '1 Navy Way', city: 'Arlington', state: 'VA', postal_code: '22201', country: 'US', line2: null },
    });
    // The form again after the intent exists changes nothing: Stripe and the seller keep one address.
    await buyer.client.post(`/orders/${orderId}/shipping`, { ...address, name: 'Somebody Else' });
    expect((await orderRow(w.db, orderId)).ship_to).toMatchObject({ name: 'Grace Hopper' });

    await w.stripe.paymentIntents.confirm(intentId, { payment_method: 'pm_card_visa' });
    await w.settle();
    expect(await orderRow(w.db, orderId)).toMatchObject({ status: 'paid', fulfilment_status: 'awaiting_shipment' });
    expect((await newSaleEmail(orderId))?.data).toMatchObject({
      shipTo: { name: 'Grace Hopper', lines: ['1 Navy Way', '22201 Arlington VA', 'United States'] },
    });
    const page = await seller.client.get(`/seller/orders/${orderId}`);
    expect(page.body).toContain('data-testid="ship-to">Grace Hopper<br>1 Navy Way<br>22201 Arlington VA<br>United States</address>');
  });

  it('one click (it pays at once, with no address) is refused for physical goods', async () => {
    const listing = await addListing(w.db, seller.sellerId, { price: 700, kind: 'physical' });
    const buyer = await w.signIn('buyer');
    const placing = placeOrder(w.db, {
      buyerId: buyer.userId,
      buyerEmail: buyer.email,
      listingId: listing.id,
      quantity: 1,
      attemptId: randomUUID(),
      flow: 'saved_card',
      paymentMethodId: 'pm_x',
    });
    await expect(placing).rejects.toMatchObject({ code: 'one_click_needs_address' });
    expect(await w.db.selectFrom('orders').select('id').where('listing_id', '=', listing.id).execute()).toEqual([]);
  });
});
