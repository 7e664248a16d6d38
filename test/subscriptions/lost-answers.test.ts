// The transaction rule for subscribing and plans: Stripe carries a request out but its answer is
// lost. The same button again sends the same key and gets the same object: one Product, one Price,
// one subscription, one Checkout Session. And a fee-policy change applies to new subscriptions only.
import { describe, expect, it } from 'vitest';
import { useWorld } from '../helpers/fixture.ts';
import { useSeller } from '../helpers/market.ts';
import { planFor, subscriptionIdFromPayUrl, subscriptionRow } from './harness.ts';

const h = useWorld({ webhooks: true, admin: true });
const seller = useSeller(h);

const loseNext = (path: string) => h.emu.control('POST', '/_emulator/faults', { method: 'POST', path, count: 1, kind: 'apply_then_500' });

describe('lost answers', () => {
  it('plan: a lost Price answer is repaired by the next attempt with the same key', async () => {
    await loseNext('/v1/prices');
    await expect(planFor(h, seller)).rejects.toMatchObject({ code: 'stripe_unavailable' });
    const plan = await h.database.db
      .selectFrom('plans')
      .selectAll()
      .where('seller_id', '=', seller.user.id)
      .orderBy('created_at', 'desc')
      .executeTakeFirstOrThrow();
    expect(plan.stripe_price_id).toBeNull();
    const { client } = await h.signIn('seller', seller.user.id);
    // Any use of the plan fills the blank: here, a buyer's subscribe.
    const buyer = await h.signIn('buyer');
    expect((await buyer.client.post(`/plans/${plan.id}/subscribe`, { flow: 'custom' })).statusCode).toBe(303);
    const prices = await h.stripe.prices.list({ product: plan.stripe_product_id! });
    expect(prices.data).toHaveLength(1);
    expect((await client.get('/seller/plans')).body).toContain('On sale');
  });

  it('custom flow: a lost subscriptions.create answer → the same button → the same subscription', async () => {
    const plan = await planFor(h, seller);
    const buyer = await h.signIn('buyer');
    await loseNext('/v1/subscriptions');
    const lost = await buyer.client.post(`/plans/${plan.id}/subscribe`, { flow: 'custom' });
    expect(lost.statusCode).toBe(422); // "we do not know yet whether this went through"
    const again = await buyer.client.post(`/plans/${plan.id}/subscribe`, { flow: 'custom' });
    expect(again.statusCode).toBe(303);
    const row = await subscriptionRow(h, subscriptionIdFromPayUrl(again.location));
    const atStripe = await h.stripe.subscriptions.list({ customer: row.stripe_customer_id!, status: 'all' });
    expect(atStripe.data.map((s) => s.id)).toEqual([row.stripe_subscription_id]);
  });

  it('a fee-policy change applies to new subscriptions; existing ones keep theirs', async () => {
    const plan = await planFor(h, seller);
    const first = await h.signIn('buyer');
    const before = subscriptionIdFromPayUrl((await first.client.post(`/plans/${plan.id}/subscribe`, { flow: 'custom' })).location);
    await h.database.db.insertInto('fee_policies').values({ seller_id: seller.user.id, currency: null, basis_points: 550 }).execute();
    const second = await h.signIn('buyer');
    const after = subscriptionIdFromPayUrl((await second.client.post(`/plans/${plan.id}/subscribe`, { flow: 'custom' })).location);
    const [old, fresh] = [await subscriptionRow(h, before), await subscriptionRow(h, after)];
    expect([old.fee_basis_points, fresh.fee_basis_points]).toEqual([1000, 550]);
    expect((await h.stripe.subscriptions.retrieve(old.stripe_subscription_id!)).application_fee_percent).toBe(10);
    expect((await h.stripe.subscriptions.retrieve(fresh.stripe_subscription_id!)).application_fee_percent).toBe(5.5);
  });
});
