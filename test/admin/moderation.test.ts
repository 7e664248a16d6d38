// Moderation and search for admins (issue 16, point 7), through the real app, database and emulator:
// search orders by id, buyer email, seller and Stripe ids; a suspended seller's listings leave the
// catalogue and cannot be bought while money already moving goes on; a taken-down listing likewise;
// both audited and shown to the seller; CSV exports read back with a CSV parser.
import { parse } from 'csv-parse/sync';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buyWithPaymentElement } from '../../src/orders/use-cases.ts';
import { createTestUser, TEST_PASSWORD, TestClient } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';
import { createListing, createPaidOrder, createSeller, type TestSeller } from '../helpers/market.ts';

const h = useWorld({ webhooks: true, admin: true });

async function sellerClient(seller: TestSeller): Promise<TestClient> {
  const client = new TestClient(h.app);
  await client.post('/login', { email: seller.user.email, password: TEST_PASSWORD });
  return client;
}
const orderIdsOn = (page: string) => [...page.matchAll(/\/admin\/orders\/([0-9a-f-]{36})"/g)].map((m) => m[1]);
async function tryToBuy(listingId: string) {
  const buyer = await createTestUser(h.database.db, 'buyer');
  return buyWithPaymentElement(h.database.db, h.stripe, { buyerId: buyer.id, buyerEmail: buyer.email, listingId, quantity: 1, attemptId: randomUUID() });
}

describe('search', () => {
  it('finds an order by its id, the buyer email, the seller, and its Stripe ids, and not others', async () => {
    const seller = await createSeller(h);
    const other = await createSeller(h);
    await h.database.db.updateTable('users').set({ display_name: 'Zebra Pottery Works' }).where('id', '=', seller.user.id).execute();
    const buyer = await createTestUser(h.database.db, 'buyer');
    const orderId = (await createPaidOrder(h, seller, { amount: 3_000, buyer })).id;
    const otherId = (await createPaidOrder(h, other, { amount: 3_000 })).id;
    await h.admin.post(`/admin/orders/${orderId}/refunds`, { refund_id: randomUUID(), amount: '1.00', reverse_transfer: 'on', confirm: 'yes' });
    const order = await h.database.db.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirstOrThrow();
    const refund = await h.database.db.selectFrom('refunds').select('stripe_refund_id').where('order_id', '=', orderId).executeTakeFirstOrThrow();
    for (const q of [
      orderId,
      buyer.email.toUpperCase(),
      'zebra pottery',
      seller.user.email,
      order.stripe_payment_intent_id!,
      order.stripe_charge_id!,
      refund.stripe_refund_id!,
    ]) {
      const page = await h.admin.get(`/admin/orders?q=${encodeURIComponent(q)}`);
      expect(page.statusCode, q).toBe(200);
      const ids = orderIdsOn(page.body);
      expect(ids, q).toContain(orderId);
      expect(ids, q).not.toContain(otherId);
    }
    expect(orderIdsOn((await h.admin.get('/admin/orders?q=100%25')).body)).toEqual([]);
  });
});

describe('suspending a seller', () => {
  it('hides their listings and stops new orders, leaves money already moving alone, and is audited and shown to them', async () => {
    const seller = await createSeller(h);
    const listingId = await createListing(h, seller.user.id, 1_500);
    const paidId = (await createPaidOrder(h, seller, { amount: 2_000 })).id;
    const visitor = new TestClient(h.app);
    expect((await visitor.get(`/listings/${listingId}`)).statusCode).toBe(200);

    expect((await h.admin.post(`/admin/sellers/${seller.user.id}/suspend`, { reason: 'Counterfeit goods reported' })).statusCode).toBe(303);
    expect((await visitor.get(`/listings/${listingId}`)).statusCode).toBe(404);
    expect((await visitor.get('/')).body).not.toContain(listingId);
    expect((await visitor.get(`/sellers/${seller.user.id}`)).statusCode).toBe(404);
    await expect(tryToBuy(listingId)).rejects.toMatchObject({ code: 'listing_not_for_sale' });
    const dashboard = await (await sellerClient(seller)).get('/seller');
    expect(dashboard.body).toContain('Counterfeit goods reported');

    // Money already moving is untouched: the paid order can still be refunded.
    const refund = await h.admin.post(`/admin/orders/${paidId}/refunds`, { refund_id: randomUUID(), amount: '5.00', reverse_transfer: 'on', confirm: 'yes' });
    expect(refund.statusCode).toBe(303);
    expect((await h.database.db.selectFrom('orders').select('amount_refunded').where('id', '=', paidId).executeTakeFirstOrThrow()).amount_refunded).toBe(500);

    expect((await h.admin.post(`/admin/sellers/${seller.user.id}/reinstate`, {})).statusCode).toBe(303);
    expect((await visitor.get(`/listings/${listingId}`)).statusCode).toBe(200);
    const actions = await h.database.db.selectFrom('admin_audit_log').select(['action', 'after']).where('target_id', '=', seller.user.id).execute();
    expect(actions.map((a) => a.action)).toEqual(expect.arrayContaining(['seller.suspend', 'seller.reinstate']));
    expect(actions.find((a) => a.action === 'seller.suspend')?.after).toMatchObject({ reason: 'Counterfeit goods reported' });
  });
});

describe('taking a listing down', () => {
  it('hides it and stops orders of it, with the reason shown to the seller and audited', async () => {
    const seller = await createSeller(h);
    const listingId = await createListing(h, seller.user.id, 1_200);
    const keptId = await createListing(h, seller.user.id, 1_300);
    expect((await h.admin.post(`/admin/listings/${listingId}/take-down`, { reason: 'Prohibited item' })).statusCode).toBe(303);
    const visitor = new TestClient(h.app);
    expect((await visitor.get(`/listings/${listingId}`)).statusCode).toBe(404);
    expect((await visitor.get(`/listings/${keptId}`)).statusCode).toBe(200);
    await expect(tryToBuy(listingId)).rejects.toMatchObject({ code: 'listing_not_for_sale' });
    expect((await (await sellerClient(seller)).get('/seller')).body).toContain('Prohibited item');
    expect((await h.admin.get(`/admin/sellers/${seller.user.id}/moderation`)).body).toContain('Prohibited item');
    const audit = await h.database.db.selectFrom('admin_audit_log').select('action').where('target_id', '=', listingId).execute();
    expect(audit.map((a) => a.action)).toEqual(['listing.take_down']);
    await h.admin.post(`/admin/listings/${listingId}/restore`, {});
    expect((await visitor.get(`/listings/${listingId}`)).statusCode).toBe(200);
  });
});

describe('CSV exports', () => {
  it('orders, payouts and the audit log open in a CSV parser with every field intact', async () => {
    const seller = await createSeller(h);
    const orderId = (await createPaidOrder(h, seller, { amount: 4_200 })).id;
    const tricky = '=HYPERLINK("x"), "quoted"\nsecond line';
    await h.database.db.updateTable('orders').set({ title: tricky }).where('id', '=', orderId).execute();

    const orders = await h.admin.get('/admin/exports/orders.csv');
    expect(orders.statusCode).toBe(200);
    expect(String(orders.headers['content-type'])).toMatch(/^text\/csv/);
    expect(String(orders.headers['content-disposition'])).toMatch(/^attachment; filename="orders-/);
    const rows = parse(orders.body, { columns: true }) as Record<string, string>[];
    const row = rows.find((r) => r.order_id === orderId)!;
    expect(row).toMatchObject({ title: `'${tricky}`, amount_minor: '4200', amount: '42.00', currency: 'usd', status: 'paid' });

    const payouts = parse((await h.admin.get('/admin/exports/payouts.csv')).body, { columns: true }) as Record<string, string>[];
    const stored = await h.database.db.selectFrom('payouts').select('id').execute();
    expect(payouts.map((p) => p.payout_id).sort()).toEqual(stored.map((p) => p.id).sort());

    const audit = parse((await h.admin.get('/admin/exports/audit.csv')).body, { columns: true }) as Record<string, string>[];
    const entries = await h.database.db.selectFrom('admin_audit_log').select(['id', 'action']).execute();
    expect(audit).toHaveLength(entries.length);
    expect(audit.length).toBeGreaterThan(0);
    for (const entry of audit)
      if (entry.after !== '')
        expect(() => {
          JSON.parse(entry.after!);
        }).not.toThrow();

    const { client: seller2 } = { client: await sellerClient(seller) };
    expect((await seller2.get('/admin/exports/orders.csv')).statusCode).toBe(403);
  });
});
