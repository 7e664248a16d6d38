// Issue 13: ten concurrent "Subscribe" submissions by one buyer for one plan make one subscription
// row (the partial unique index) and one subscription at Stripe (the key from that row).
import { describe, expect, it } from 'vitest';
import { isPglite } from '../helpers/database.ts';
import { useWorld } from '../helpers/fixture.ts';
import { useSeller } from '../helpers/market.ts';
import { planFor } from './harness.ts';

describe.skipIf(isPglite())('ten concurrent subscribe submissions', () => {
  const h = useWorld({ webhooks: true, admin: true });
  const seller = useSeller(h);

  it('make one subscription at the emulator, and every submit lands on its pay page', async () => {
    const plan = await planFor(h, seller);
    const buyer = await h.signIn('buyer');
    await buyer.client.csrfToken();
    const responses = await Promise.all(Array.from({ length: 10 }, () => buyer.client.post(`/plans/${plan.id}/subscribe`, { flow: 'custom' })));
    expect(responses.map((r) => r.statusCode)).toEqual(Array(10).fill(303));
    expect(new Set(responses.map((r) => r.location)).size).toBe(1);
    const rows = await h.database.db.selectFrom('subscriptions').select(['id', 'stripe_subscription_id']).where('buyer_id', '=', buyer.userId).execute();
    expect(rows).toHaveLength(1);
    const atStripe = await h.stripe.subscriptions.list({
      customer: (await h.database.db.selectFrom('subscriptions').select('stripe_customer_id').where('id', '=', rows[0]!.id).executeTakeFirstOrThrow())
        .stripe_customer_id!,
      status: 'all',
    });
    expect(atStripe.data.map((s) => s.id)).toEqual([rows[0]!.stripe_subscription_id]);
    // The hosted flow for the same plan is refused while this one is live: still one.
    const other = await buyer.client.post(`/plans/${plan.id}/subscribe`, { flow: 'hosted' });
    expect(other.statusCode).toBe(409);
    expect((await h.emu.requests('/v1/checkout/sessions')).length).toBe(0);
  });
});
