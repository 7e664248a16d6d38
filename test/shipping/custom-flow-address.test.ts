// The custom flow's shipping address can be corrected until the PaymentIntent is asked for: the
// form comes back filled in, the new address replaces the old, and the intent carries the new one.
// From then on the address is fixed, and the form says so instead of ignoring it: Stripe's copy and
// the seller's are the same one, also when the intent's answer was lost (the retry must send the
// request it sent, with the address it had). Through the real app, database and emulator.
import { randomUUID } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TestClient } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';
import { addListing, enabledSeller, orderRow } from '../helpers/market.ts';

const w = useWorld({ webhooks: true });
let sellerId: string;
beforeAll(async () => {
  sellerId = (await enabledSeller(w)).sellerId;
}, 60_000);
afterEach(async () => w.emu.clearFaults());

const TYPO = { name: 'Grace Hoper', line1: '1 Navy Way', city: 'Arlington', state: 'VA', postal_code: '22201', country: 'US' };
const RIGHT = { ...TYPO, name: 'Grace Hopper', line1: '10 Navy Way' };

/** A buyer presses "Pay with card on this site" on a new physical listing: the order, waiting for its address. */
async function physicalOrder(): Promise<{ client: TestClient; orderId: string }> {
  const listing = await addListing(w.db, sellerId, { price: 3_200, kind: 'physical', title: 'Wool blanket' });
  const { client } = await w.signIn('buyer');
  const bought = await client.post(`/checkout/${listing.id}/pay`, { quantity: 1, attempt: randomUUID() });
  const orderId = /\/orders\/([0-9a-f-]+)\/pay$/.exec(bought.location!)![1]!;
  return { client, orderId };
}

describe('before the PaymentIntent is asked for', () => {
  it('the form comes back with the address given, and a corrected one replaces it and reaches Stripe', async () => {
    const { client, orderId } = await physicalOrder();
    expect((await client.post(`/orders/${orderId}/shipping`, TYPO)).location).toBe(`/orders/${orderId}/pay`);

    // The buyer goes back to the form before paying: it is there, filled in with what they gave.
    const form = await client.get(`/orders/${orderId}/shipping`);
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('value="Grace Hoper"');
    expect(form.body).toMatch(/<option value="US" selected>/);

    const corrected = await client.post(`/orders/${orderId}/shipping`, RIGHT);
    expect([corrected.statusCode, corrected.location]).toEqual([303, `/orders/${orderId}/pay`]);
    expect((await orderRow(w.db, orderId)).ship_to).toMatchObject({ name: 'Grace Hopper', line1: '10 Navy Way' });

    const pay = await client.get(`/orders/${orderId}/pay`);
    expect(pay.statusCode).toBe(200);
    expect(pay.body).toMatch(/data-testid="ship-to">Grace Hopper<br>10 Navy Way<br>/);
    const intent = await w.stripe.paymentIntents.retrieve((await orderRow(w.db, orderId)).stripe_payment_intent_id!);
    expect(intent.shipping).toMatchObject({ name: 'Grace Hopper', address: { line1: '10 Navy Way' } });
  });
});

describe('once the PaymentIntent is asked for', () => {
  it('the form is gone and a new address is refused, saying why; the same address again is fine', async () => {
    const { client, orderId } = await physicalOrder();
    await client.post(`/orders/${orderId}/shipping`, RIGHT);
    expect((await client.get(`/orders/${orderId}/pay`)).statusCode).toBe(200);

    const form = await client.get(`/orders/${orderId}/shipping`);
    expect([form.statusCode, form.location]).toEqual([303, `/orders/${orderId}/pay`]);
    const other = await client.post(`/orders/${orderId}/shipping`, { ...RIGHT, name: 'Somebody Else' });
    expect(other.statusCode).toBe(409);
    expect(other.body).toContain('This order’s payment was already prepared for the address you gave first');
    expect((await orderRow(w.db, orderId)).ship_to).toMatchObject({ name: 'Grace Hopper' });
    const again = await client.post(`/orders/${orderId}/shipping`, RIGHT);
    expect([again.statusCode, again.location]).toEqual([303, `/orders/${orderId}/pay`]);
  });

  it("when Stripe's answer to the intent was lost, the address stays as sent and the retry makes the one intent with it", async () => {
    const { client, orderId } = await physicalOrder();
    await client.post(`/orders/${orderId}/shipping`, RIGHT);
    await w.emu.fault('/v1/payment_intents', 'apply_then_drop', { count: 2 });
    expect((await client.get(`/orders/${orderId}/pay`)).statusCode).not.toBe(200);
    expect((await orderRow(w.db, orderId)).stripe_payment_intent_id).toBeNull();

    const changed = await client.post(`/orders/${orderId}/shipping`, { ...RIGHT, name: 'Somebody Else' });
    expect(changed.statusCode).toBe(409);
    const pay = await client.get(`/orders/${orderId}/pay`);
    expect(pay.statusCode).toBe(200);
    const order = await orderRow(w.db, orderId);
    expect(order).toMatchObject({ status: 'pending', ship_to: { name: 'Grace Hopper' } });
    const intents = (await w.stripe.paymentIntents.list({ limit: 100 })).data.filter((i) => i.metadata.order_id === orderId);
    expect(intents.map((i) => [i.id, i.shipping?.name])).toEqual([[order.stripe_payment_intent_id, 'Grace Hopper']]);
  });
});
