// A suspended seller sells nothing new (moderation's promise), subscriptions included: their plans
// leave /plans/:id, subscribing is refused before anything reaches Stripe, and they can neither
// create plans nor change prices; reinstated, all of it works again. A suspension that commits
// while a subscription or an order is being recorded is seen by it (the seller's row is locked and
// then read again). Through the real app, database and emulator.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../src/db/schema.ts';
import { lockSellerForModeration, upsertSuspension } from '../../src/moderation/queries.ts';
import { buyWithPaymentElement } from '../../src/orders/use-cases.ts';
import { recordSubscriptionIntent } from '../../src/subscriptions/use-cases.ts';
import type { TestClient } from '../helpers/app.ts';
import { isPglite } from '../helpers/database.ts';
import { useWorld } from '../helpers/fixture.ts';
import { createListing, enabledSeller, type TestSeller } from '../helpers/market.ts';
import { planFor } from './harness.ts';

const w = useWorld({ webhooks: true, admin: true });

const subscriptionsOf = (planId: string) => w.db.selectFrom('subscriptions').select(['id', 'status']).where('plan_id', '=', planId).execute();
const plansOf = (sellerId: string) => w.db.selectFrom('plans').select(['id', 'name', 'amount', 'price_version']).where('seller_id', '=', sellerId).execute();

describe('a suspended seller and their plans', () => {
  let seller: TestSeller & { client: TestClient; sellerId: string };
  let plan: Plan;
  beforeAll(async () => {
    seller = await enabledSeller(w);
    plan = await planFor(w, seller, { amount: '12.00' });
  }, 60_000);

  it('their plan page is gone, subscribing is refused, and they cannot create plans or change prices; reinstated, all of it works again', async () => {
    const buyer = await w.signIn('buyer');
    const visitor = (await w.signIn('buyer')).client;
    expect((await visitor.get(`/plans/${plan.id}`)).statusCode).toBe(200);
    expect((await w.admin.post(`/admin/sellers/${seller.sellerId}/suspend`, { reason: 'Fake reviews' })).statusCode).toBe(303);

    expect((await visitor.get(`/plans/${plan.id}`)).statusCode).toBe(404);
    expect((await visitor.get(`/sellers/${seller.sellerId}`)).statusCode).toBe(404);
    for (const flow of ['custom', 'hosted']) {
      const refused = await buyer.client.post(`/plans/${plan.id}/subscribe`, { flow });
      expect(refused.statusCode, flow).toBe(409);
      expect(refused.body, flow).toContain('This plan is not open to new subscribers right now.');
    }
    await expect(recordSubscriptionIntent(w.db, w.stripe, { buyerId: buyer.userId, planId: plan.id, flow: 'custom' })).rejects.toMatchObject({
      code: 'plan_not_available',
    });
    expect(await subscriptionsOf(plan.id)).toEqual([]);
    expect((await w.stripe.subscriptions.list({ price: plan.stripe_price_id! })).data).toEqual([]);

    const created = await seller.client.post('/seller/plans', { name: 'Second box', amount: '9.00', currency: 'usd', interval: 'month' });
    expect(created.statusCode).toBe(409);
    expect(created.body).toContain('Your shop is suspended by the marketplace');
    const repriced = await seller.client.post(`/seller/plans/${plan.id}/price`, { amount: '15.00', move: 'keep' });
    expect(repriced.statusCode).toBe(409);
    expect(repriced.body).toContain('Your shop is suspended by the marketplace');
    expect(await plansOf(seller.sellerId)).toEqual([{ id: plan.id, name: plan.name, amount: 1_200, price_version: plan.price_version }]);

    expect((await w.admin.post(`/admin/sellers/${seller.sellerId}/reinstate`, {})).statusCode).toBe(303);
    expect((await visitor.get(`/plans/${plan.id}`)).statusCode).toBe(200);
    const subscribed = await buyer.client.post(`/plans/${plan.id}/subscribe`, { flow: 'custom' });
    expect([subscribed.statusCode, subscribed.location]).toEqual([303, expect.stringMatching(/^\/subscriptions\/[0-9a-f-]{36}\/pay$/)]);
    expect(await subscriptionsOf(plan.id)).toHaveLength(1);
    expect((await seller.client.post('/seller/plans', { name: 'Second box', amount: '9.00', currency: 'usd', interval: 'month' })).statusCode).toBe(303);
    expect((await seller.client.post(`/seller/plans/${plan.id}/price`, { amount: '15.00', move: 'keep' })).statusCode).toBe(303);
    expect((await plansOf(seller.sellerId)).map((p) => p.amount).sort((a, b) => a - b)).toEqual([900, 1_500]);
  });
});

// PGlite is one connection: a second session cannot wait on a lock there.
describe.skipIf(isPglite())('a suspension committing while a sale is being recorded', () => {
  /**
   * Suspends the seller as the admin's use case does (their row locked FOR UPDATE, the suspension
   * written), runs `sale` while that transaction is still open, waits until `sale` is blocked on
   * the seller's row, then commits the suspension; `sale`'s outcome.
   */
  async function suspendDuring<T>(sellerId: string, sale: () => Promise<T>): Promise<PromiseSettledResult<T>> {
    let commit!: () => void;
    let outcome!: Promise<PromiseSettledResult<T>>;
    const held = new Promise<void>((resolve) => (commit = resolve));
    await w.db.transaction().execute(async (trx) => {
      await lockSellerForModeration(trx, sellerId);
      await upsertSuspension(trx, { sellerId, reason: 'Chargebacks', by: w.adminUser.id });
      outcome = Promise.allSettled([sale()]).then(([result]) => result!);
      await waitForLockWaiter();
      commit();
      await held;
    });
    return outcome;
  }

  /** Until some other session waits for a row lock (the sale, blocked on the seller's row). */
  async function waitForLockWaiter(): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const { rows } = await sql<{ n: number }>`
        select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`.execute(w.db);
      if (rows[0]!.n > 0) return;
      if (Date.now() > deadline) throw new Error('the sale never waited for the seller row');
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  it('a subscription is refused', async () => {
    const seller = await enabledSeller(w);
    const plan = await planFor(w, seller);
    const buyer = await w.signIn('buyer');
    const result = await suspendDuring(seller.sellerId, () =>
      recordSubscriptionIntent(w.db, w.stripe, { buyerId: buyer.userId, planId: plan.id, flow: 'custom' }),
    );
    expect(result).toMatchObject({ status: 'rejected', reason: { code: 'plan_not_available' } });
    expect(await subscriptionsOf(plan.id)).toEqual([]);
  });

  it('an order is refused', async () => {
    const seller = await enabledSeller(w);
    const listingId = await createListing(w, seller.sellerId, 2_500);
    const buyer = await w.signIn('buyer');
    const input = { buyerId: buyer.userId, buyerEmail: buyer.email, listingId, quantity: 1, attemptId: randomUUID() };
    const result = await suspendDuring(seller.sellerId, () => buyWithPaymentElement(w.db, w.stripe, input));
    expect(result).toMatchObject({ status: 'rejected', reason: { code: 'listing_not_for_sale' } });
    expect(await w.db.selectFrom('orders').select('id').where('listing_id', '=', listingId).execute()).toEqual([]);
  });
});
