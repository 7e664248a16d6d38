// The admin's order list (filters by status, seller and date; keyset pages with no row lost or
// repeated) and the fee policy pages (platform default, per-seller override, validation, audit,
// applied to new orders only).
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { PENDING_ORDERS_PER_BUYER } from '../../src/orders/rules.ts';
import { placeOrder } from '../../src/orders/use-cases.ts';
import { createTestUser } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';
import { createListing, createSeller, type TestSeller } from '../helpers/market.ts';

describe('admin orders list and fee policy', () => {
  const h = useWorld({ webhooks: true, admin: true });
  let a: TestSeller;
  let b: TestSeller;
  const ids: string[] = [];

  beforeAll(async () => {
    a = await createSeller(h);
    b = await createSeller(h);
    const listingA = await createListing(h, a.user.id, 1_000);
    const listingB = await createListing(h, b.user.id, 2_000);
    // 70 orders for seller A on two days (some canceled), 5 for seller B; a buyer may have only
    // PENDING_ORDERS_PER_BUYER unpaid orders, so a new buyer places every few.
    let buyer = await createTestUser(h.database.db, 'buyer');
    for (let i = 0; i < 75; i++) {
      if (i > 0 && i % PENDING_ORDERS_PER_BUYER === 0) buyer = await createTestUser(h.database.db, 'buyer');
      const forA = i < 70;
      const placed = await placeOrder(h.database.db, {
        buyerId: buyer.id,
        buyerEmail: buyer.email,
        listingId: forA ? listingA : listingB,
        quantity: 1,
        attemptId: randomUUID(),
        flow: 'custom',
      });
      ids.push(placed.id);
      const day = i % 2 === 0 ? '2026-11-20T10:00:00Z' : '2026-11-21T10:00:00Z';
      // Several orders share one created_at: the keyset cursor must break ties by id.
      const createdAt = new Date(new Date(day).getTime() + Math.floor(i / 3) * 1000).toISOString();
      // created_at is database-filled (never written by the app); the test back-dates it on purpose.
      await h.database.db
        .updateTable('orders')
        .set({ created_at: sql<Date>`${createdAt}::timestamptz` as never, ...(i % 10 === 0 ? { status: 'canceled' as const } : {}) })
        .where('id', '=', placed.id)
        .execute();
    }
  });

  async function collect(url: string): Promise<string[]> {
    const seen: string[] = [];
    let next: string | undefined = url;
    while (next !== undefined) {
      const page = await h.admin.get(next);
      expect(page.statusCode).toBe(200);
      seen.push(...[...page.body.matchAll(/data-order-id="([0-9a-f-]{36})"/g)].map((m) => m[1]!));
      next = /data-testid="next-page" href="([^"]+)"|href="([^"]+)" data-testid="next-page"/
        .exec(page.body)
        ?.slice(1)
        .find(Boolean)
        ?.replaceAll('&#x3D;', '=')
        .replaceAll('&amp;', '&');
    }
    return seen;
  }

  it('pages through every order exactly once, newest first', async () => {
    const seen = await collect('/admin/orders');
    expect(seen).toHaveLength(75);
    expect(new Set(seen).size).toBe(75);
    expect(new Set(seen)).toEqual(new Set(ids));
  });

  it('filters by status, seller and date', async () => {
    expect(await collect(`/admin/orders?status=canceled`)).toHaveLength(8);
    expect(await collect(`/admin/orders?seller=${b.user.id}`)).toHaveLength(5);
    const onThe20th = await collect('/admin/orders?from=2026-11-20&to=2026-11-20');
    expect(onThe20th).toHaveLength(38);
    expect(await collect(`/admin/orders?seller=${a.user.id}&status=pending&from=2026-11-21&to=2026-11-21`)).toHaveLength(35); // canceled ones are all on the 20th
    expect((await h.admin.get('/admin/orders?status=bogus')).statusCode).toBe(400);
  });

  it('fee policy: platform default and a seller override apply to new orders only, with validation and an audit trail', async () => {
    const before = await h.database.db.selectFrom('orders').select(['id', 'application_fee_amount']).where('id', '=', ids[0]!).executeTakeFirstOrThrow();
    const bad = await h.admin.post('/admin/fees', { currency: '', basis_points: '500', fixed: '0.30' });
    expect(bad.statusCode).toBe(422);
    expect(bad.body).toContain('A fixed amount needs a currency');
    expect((await h.admin.post('/admin/fees', { currency: 'usd', basis_points: '20000' })).statusCode).toBe(422);

    expect((await h.admin.post('/admin/fees', { currency: 'usd', basis_points: '500', fixed: '0.30' })).statusCode).toBe(303);
    expect((await h.admin.post(`/admin/sellers/${b.user.id}/fee-policy`, { currency: '', basis_points: '250' })).statusCode).toBe(303);
    const fees = await h.admin.get('/admin/fees');
    expect(fees.body).toContain('5.00 %');
    expect(fees.body).toContain('$0.30');

    const buyer = await createTestUser(h.database.db, 'buyer');
    const listingA = await createListing(h, a.user.id, 10_000);
    const listingB = await createListing(h, b.user.id, 10_000);
    const orderA = await placeOrder(h.database.db, {
      buyerId: buyer.id,
      buyerEmail: buyer.email,
      listingId: listingA,
      quantity: 1,
      attemptId: randomUUID(),
      flow: 'custom',
    });
    const orderB = await placeOrder(h.database.db, {
      buyerId: buyer.id,
      buyerEmail: buyer.email,
      listingId: listingB,
      quantity: 1,
      attemptId: randomUUID(),
      flow: 'custom',
    });
    expect(orderA.application_fee_amount).toBe(530); // 5 % + $0.30
    expect(orderB.application_fee_amount).toBe(250); // the seller's override: 2.5 %
    const unchanged = await h.database.db.selectFrom('orders').select('application_fee_amount').where('id', '=', before.id).executeTakeFirstOrThrow();
    expect(unchanged.application_fee_amount).toBe(before.application_fee_amount);

    const audit = await h.database.db.selectFrom('admin_audit_log').selectAll().where('action', '=', 'fee_policy.save').orderBy('id').execute();
    expect(audit.map((x) => [x.target_type, x.before, x.after])).toEqual([
      ['platform', null, { seller_id: null, currency: 'usd', basis_points: 500, fixed_amount: 30 }],
      ['seller', null, { seller_id: b.user.id, currency: null, basis_points: 250, fixed_amount: 0 }],
    ]);
    // Editing keeps one row per scope and records before/after.
    expect((await h.admin.post('/admin/fees', { currency: 'usd', basis_points: '600' })).statusCode).toBe(303);
    const last = await h.database.db.selectFrom('admin_audit_log').selectAll().orderBy('id', 'desc').executeTakeFirstOrThrow();
    expect(last.before).toMatchObject({ basis_points: 500, fixed_amount: 30 });
    expect(last.after).toMatchObject({ basis_points: 600, fixed_amount: 0 });
  });
});
