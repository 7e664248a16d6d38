// Issue 13, plans: a seller whose charges are enabled creates a plan through the form; it becomes a
// Product and a recurring Price on the platform (metadata naming the seller and our plan, a lookup
// key). A new amount is a new Price that takes the lookup key over. Archiving stops new subscribers.
import { describe, expect, it } from 'vitest';
import { recordSubscriptionIntent } from '../../src/subscriptions/use-cases.ts';
import { useWorld } from '../helpers/fixture.ts';
import { useSeller } from '../helpers/market.ts';
import { planFor } from './harness.ts';

const h = useWorld({ webhooks: true, admin: true });
const seller = useSeller(h);

describe('plans', () => {
  it('the form makes a Product and a recurring Price on the platform', async () => {
    const { client } = await h.signIn('seller', seller.user.id);
    const page = await client.get('/seller/plans');
    expect(page.statusCode).toBe(200);
    const response = await client.post('/seller/plans', {
      name: 'Coffee box',
      description: 'Beans',
      amount: '20.00',
      currency: 'usd',
      interval: 'month',
      trial_days: '14',
    });
    expect(response.statusCode, response.body.slice(0, 500)).toBe(303);
    const plan = await h.database.db
      .selectFrom('plans')
      .selectAll()
      .where('seller_id', '=', seller.user.id)
      .where('name', '=', 'Coffee box')
      .executeTakeFirstOrThrow();
    expect(plan).toMatchObject({ amount: 2000, currency: 'usd', interval: 'month', trial_days: 14, status: 'active', price_version: 1 });
    const product = await h.stripe.products.retrieve(plan.stripe_product_id!);
    expect(product.metadata).toEqual({ seller_id: seller.user.id, plan_id: plan.id });
    const price = await h.stripe.prices.retrieve(plan.stripe_price_id!);
    expect(price).toMatchObject({ unit_amount: 2000, currency: 'usd', recurring: { interval: 'month' }, lookup_key: `plan_${plan.id}`, product: product.id });
    expect(price.metadata).toMatchObject({ seller_id: seller.user.id, plan_id: plan.id });
  });

  it('refuses bad input beside the fields, and sellers who cannot take payments', async () => {
    const { client } = await h.signIn('seller', seller.user.id);
    const bad = await client.post('/seller/plans', { name: 'X', amount: '0.10', currency: 'usd', interval: 'month', trial_days: 'abc' });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('minimum');
    const control = await client.post('/seller/plans', { name: 'Bad\u0007name', amount: '5.00', currency: 'usd', interval: 'month' });
    expect(control.statusCode).toBe(400);
    const { client: newcomer } = await h.signIn('seller');
    const refused = await newcomer.post('/seller/plans', { name: 'Early', amount: '5.00', currency: 'usd', interval: 'month' });
    expect(refused.statusCode).toBe(409);
    expect(await h.database.db.selectFrom('plans').select('id').where('name', 'in', ['X', 'Early']).execute()).toEqual([]);
  });

  it('a price change is a new Price that takes the lookup key over; archiving stops new subscribers', async () => {
    const plan = await planFor(h, seller, { amount: '10.00' });
    const { client } = await h.signIn('seller', seller.user.id);
    expect((await client.post(`/seller/plans/${plan.id}/price`, { amount: '12.00', move: 'keep' })).statusCode).toBe(303);
    const after = await h.database.db.selectFrom('plans').selectAll().where('id', '=', plan.id).executeTakeFirstOrThrow();
    expect(after).toMatchObject({ amount: 1200, price_version: 2 });
    expect(after.stripe_price_id).not.toBe(plan.stripe_price_id);
    const byKey = await h.stripe.prices.list({ lookup_keys: [plan.lookup_key] });
    expect(byKey.data.map((p) => [p.id, p.unit_amount])).toEqual([[after.stripe_price_id, 1200]]);
    // The same form again (a double submit) makes no third Price.
    expect((await client.post(`/seller/plans/${plan.id}/price`, { amount: '12.00', move: 'keep' })).statusCode).toBe(303);
    expect((await h.database.db.selectFrom('plans').select('price_version').where('id', '=', plan.id).executeTakeFirstOrThrow()).price_version).toBe(2);

    expect((await client.post(`/seller/plans/${plan.id}/archive`, {})).statusCode).toBe(303);
    expect((await h.stripe.products.retrieve(plan.stripe_product_id!)).active).toBe(false);
    const buyer = await h.signIn('buyer');
    await expect(recordSubscriptionIntent(h.database.db, h.stripe, { buyerId: buyer.userId, planId: plan.id, flow: 'custom' })).rejects.toMatchObject({
      code: 'plan_not_available',
    });
    // Another seller's plan is not found.
    const { client: other } = await h.signIn('seller');
    expect((await other.get(`/seller/plans/${plan.id}`)).statusCode).toBe(404);
    expect((await other.post(`/seller/plans/${plan.id}/archive`, {})).statusCode).toBe(404);
  });
});
