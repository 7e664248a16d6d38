/**
 * Customers, saved payment methods, Products and Prices through the real SDK.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type Stripe from 'stripe';
import { useTestEmulator } from './helpers.ts';

const t = useTestEmulator();

beforeAll(async () => {});

async function eventsOf(type: string): Promise<Stripe.Event[]> {
  await t.flush();
  return t.receiver.events(t.stripe, 'platform').filter((e) => e.type === type);
}

describe('customers', () => {
  it('create, retrieve, update (with previous_attributes), list by email, delete', async () => {
    const c = await t.stripe.customers.create({ email: 'buyer@example.com', name: 'Ada Buyer', metadata: { buyer_id: '42' } }, { idempotencyKey: 'cus-42' });
    expect(c.id).toMatch(/^cus_/);
    expect(c.invoice_settings.default_payment_method).toBeNull();
    expect(c.metadata).toEqual({ buyer_id: '42' });
    const again = await t.stripe.customers.create(
      { email: 'buyer@example.com', name: 'Ada Buyer', metadata: { buyer_id: '42' } },
      { idempotencyKey: 'cus-42' },
    );
    expect(again.id).toBe(c.id);

    const updated = await t.stripe.customers.update(c.id, { name: 'Ada B.', metadata: { tier: 'gold' } });
    expect(updated.name).toBe('Ada B.');
    expect(updated.metadata).toEqual({ buyer_id: '42', tier: 'gold' });
    const [evt] = await eventsOf('customer.updated');
    expect(evt?.data.previous_attributes).toEqual({ name: 'Ada Buyer', metadata: { tier: null } });

    const listed = await t.stripe.customers.list({ email: 'buyer@example.com' });
    expect(listed.data.map((x) => x.id)).toEqual([c.id]);

    const deleted = await t.stripe.customers.del(c.id);
    expect(deleted).toMatchObject({ id: c.id, deleted: true });
    const gone = await t.stripe.customers.retrieve(c.id);
    expect(gone.deleted).toBe(true);
    await expect(t.stripe.customers.update(c.id, { name: 'x' })).rejects.toMatchObject({ statusCode: 404, code: 'resource_missing' });
    expect((await t.stripe.customers.list({ email: 'buyer@example.com' })).data).toEqual([]);
    expect((await eventsOf('customer.deleted')).map((e) => (e.data.object as Stripe.Customer).id)).toContain(c.id);
  });

  it('attaches, lists, sets as default and detaches payment methods', async () => {
    const c = await t.stripe.customers.create({ email: 'cards@example.com' });
    const pm = await t.stripe.paymentMethods.attach('pm_card_visa', { customer: c.id });
    expect(pm.id).toMatch(/^pm_/);
    expect(pm.id).not.toBe('pm_card_visa');
    expect(pm.customer).toBe(c.id);
    await expect(t.stripe.customers.update(c.id, { invoice_settings: { default_payment_method: 'pm_card_visa' } })).rejects.toMatchObject({
      code: 'resource_missing',
      param: 'invoice_settings[default_payment_method]',
    });
    const withDefault = await t.stripe.customers.update(c.id, { invoice_settings: { default_payment_method: pm.id } });
    expect(withDefault.invoice_settings.default_payment_method).toBe(pm.id);

    const listed = await t.stripe.customers.listPaymentMethods(c.id, { type: 'card' });
    expect(listed.data.map((x) => x.id)).toEqual([pm.id]);
    expect((await t.stripe.customers.retrievePaymentMethod(c.id, pm.id)).id).toBe(pm.id);

    await expect(t.stripe.paymentMethods.attach('pm_card_visa_chargeDeclined', { customer: c.id })).rejects.toMatchObject({
      statusCode: 402,
      code: 'card_declined',
    });

    const detached = await t.stripe.paymentMethods.detach(pm.id);
    expect(detached.customer).toBeNull();
    expect((await t.stripe.customers.retrieve(c.id)) as Stripe.Customer).toMatchObject({ invoice_settings: { default_payment_method: null } });
    await expect(t.stripe.paymentMethods.attach(pm.id, { customer: c.id })).rejects.toMatchObject({ code: 'payment_method_unexpected_state' });
    const attached = await eventsOf('payment_method.attached');
    expect(attached.some((e) => (e.data.object as Stripe.PaymentMethod).id === pm.id)).toBe(true);
    const [det] = (await eventsOf('payment_method.detached')).filter((e) => (e.data.object as Stripe.PaymentMethod).id === pm.id);
    expect(det?.data.previous_attributes).toEqual({ customer: c.id });
  });

  it('refuses unknown parameters and test clocks', async () => {
    await expect(t.stripe.customers.create({ email: 'x@example.com', nope: 1 } as Stripe.CustomerCreateParams)).rejects.toMatchObject({
      code: 'parameter_unknown',
      param: 'nope',
    });
    await expect(t.stripe.customers.create({ test_clock: 'clock_1' })).rejects.toMatchObject({ param: 'test_clock' });
  });
});

describe('products and prices', () => {
  it('create with default_price_data, list filters, immutable amount, archive, lookup key transfer', async () => {
    const prod = await t.stripe.products.create({
      name: 'Monthly box',
      metadata: { seller_id: '7' },
      default_price_data: { currency: 'usd', unit_amount: 2000, recurring: { interval: 'month' } },
    });
    expect(prod.id).toMatch(/^prod_/);
    const price = await t.stripe.prices.retrieve(String(prod.default_price));
    expect(price).toMatchObject({
      unit_amount: 2000,
      currency: 'usd',
      type: 'recurring',
      recurring: { interval: 'month', interval_count: 1, usage_type: 'licensed' },
      product: prod.id,
      active: true,
    });
    expect(price.unit_amount_decimal?.toString()).toBe('2000');

    const yearly = await t.stripe.prices.create({
      product: prod.id,
      currency: 'usd',
      unit_amount: 20_000,
      recurring: { interval: 'year' },
      lookup_key: 'box_yearly',
    });
    const oneTime = await t.stripe.prices.create({ product: prod.id, currency: 'usd', unit_amount: 500 });
    expect(oneTime.type).toBe('one_time');
    expect((await t.stripe.prices.list({ product: prod.id, type: 'recurring' })).data.map((x) => x.id).sort()).toEqual([price.id, yearly.id].sort());
    expect((await t.stripe.prices.list({ lookup_keys: ['box_yearly'] })).data.map((x) => x.id)).toEqual([yearly.id]);
    expect((await t.stripe.prices.list({ product: prod.id, recurring: { interval: 'month' } })).data.map((x) => x.id)).toEqual([price.id]);

    await expect(t.stripe.prices.update(price.id, { unit_amount: 2500 } as Stripe.PriceUpdateParams)).rejects.toMatchObject({
      code: 'parameter_unknown',
      param: 'unit_amount',
    });
    await expect(
      t.stripe.prices.create({ product: prod.id, currency: 'usd', unit_amount: 21_000, recurring: { interval: 'year' }, lookup_key: 'box_yearly' }),
    ).rejects.toMatchObject({ param: 'lookup_key' });
    const moved = await t.stripe.prices.create({
      product: prod.id,
      currency: 'usd',
      unit_amount: 21_000,
      recurring: { interval: 'year' },
      lookup_key: 'box_yearly',
      transfer_lookup_key: true,
    });
    expect((await t.stripe.prices.retrieve(yearly.id)).lookup_key).toBeNull();
    expect((await t.stripe.prices.list({ lookup_keys: ['box_yearly'] })).data.map((x) => x.id)).toEqual([moved.id]);

    const archived = await t.stripe.prices.update(yearly.id, { active: false });
    expect(archived.active).toBe(false);
    expect((await t.stripe.prices.list({ product: prod.id, active: true })).data.map((x) => x.id)).not.toContain(yearly.id);
    await expect(t.stripe.products.del(prod.id)).rejects.toMatchObject({ statusCode: 400 });
    const empty = await t.stripe.products.create({ name: 'Nothing' });
    expect(await t.stripe.products.del(empty.id)).toMatchObject({ id: empty.id, deleted: true });

    const types = (await eventsOf('price.updated')).map((e) => e.data.previous_attributes);
    expect(types).toContainEqual({ lookup_key: 'box_yearly' });
    expect(types).toContainEqual({ active: true });
    expect((await eventsOf('product.created')).length).toBeGreaterThanOrEqual(2);
  });
});

describe('scoping and the remaining catalog events', () => {
  it('a product without prices is deleted (product.deleted); one with prices is refused', async () => {
    const bare = await t.stripe.products.create({ name: 'Gone' });
    expect(await t.stripe.products.del(bare.id)).toMatchObject({ id: bare.id, deleted: true });
    expect((await eventsOf('product.deleted')).map((e) => (e.data.object as Stripe.Product).id)).toContain(bare.id);
    const priced = await t.stripe.products.create({ name: 'Kept', default_price_data: { currency: 'usd', unit_amount: 100 } });
    await expect(t.stripe.products.del(priced.id)).rejects.toMatchObject({ statusCode: 400 });
  });

  it('billing objects are scoped by Stripe-Account: a connected account sees none of the platform’s, and keeps its own', async () => {
    const acct = await t.stripe.accounts.create({
      country: 'US',
      controller: {
        stripe_dashboard: { type: 'none' },
        fees: { payer: 'application' },
        losses: { payments: 'application' },
        requirement_collection: 'application',
      },
      capabilities: { transfers: { requested: true } },
    });
    const customer = await t.stripe.customers.create({ email: 'platform-only@example.com' });
    const product = await t.stripe.products.create({ name: 'Platform only' });
    const other = t.stripeFor(acct.id);
    await expect(other.customers.retrieve(customer.id)).rejects.toMatchObject({ statusCode: 404, code: 'resource_missing' });
    await expect(other.products.retrieve(product.id)).rejects.toMatchObject({ statusCode: 404 });
    const theirs = await other.customers.create({ email: 'connected@example.com' });
    expect((await other.customers.list()).data.map((c) => c.id)).toEqual([theirs.id]);
    await expect(t.stripe.customers.retrieve(theirs.id)).rejects.toMatchObject({ statusCode: 404 });
  });
});
