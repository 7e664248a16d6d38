// Every /admin page and action against anonymous, buyer, seller and admin: only the admin gets in.
// Every admin POST without a CSRF token is refused with 403 — and in every refused case nothing
// changed: no audit entry, no row in our money tables, no request at the emulator.
import { beforeAll, describe, expect, it } from 'vitest';
import { loginAs, TestClient } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';
import { createPaidOrder, createSeller, hiddenValue } from '../helpers/market.ts';

describe('admin authorization and CSRF', () => {
  const h = useWorld({ webhooks: true, admin: true });
  let pages: string[];
  let actions: { url: string; body: Record<string, string> }[];

  beforeAll(async () => {
    const seller = await createSeller(h, { manualPayouts: true });
    const orderId = (await createPaidOrder(h, seller, { amount: 5_000 })).id;
    const disputedId = (await createPaidOrder(h, seller, { amount: 3_000, paymentMethod: 'pm_card_createDispute' })).id;
    const dispute = await h.database.db.selectFrom('disputes').select('id').where('order_id', '=', disputedId).executeTakeFirstOrThrow();
    const policy = await h.database.db
      .insertInto('fee_policies')
      .values({ seller_id: null, currency: 'eur', basis_points: 700 })
      .returning('id')
      .executeTakeFirstOrThrow();
    const override = await h.database.db
      .insertInto('fee_policies')
      .values({ seller_id: seller.user.id, currency: null, basis_points: 300 })
      .returning('id')
      .executeTakeFirstOrThrow();
    const event = await h.database.db.selectFrom('stripe_events').select('id').limit(1).executeTakeFirstOrThrow();
    const declinedId = (await createPaidOrder(h, seller, { amount: 2_000 })).id;
    const askFor = async (id: string) => {
      const order = await h.database.db.selectFrom('orders').select('buyer_id').where('id', '=', id).executeTakeFirstOrThrow();
      return (
        await h.database.db
          .insertInto('refund_requests')
          .values({ order_id: id, buyer_id: order.buyer_id, reason: 'Broken' })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id;
    };
    const toApprove = await askFor(orderId);
    const toDecline = await askFor(declinedId);
    const listingOfOrder = (await h.database.db.selectFrom('orders').select('listing_id').where('id', '=', orderId).executeTakeFirstOrThrow()).listing_id;
    const orderPage = await h.admin.get(`/admin/orders/${orderId}`);
    const sellerPage = await h.admin.get(`/admin/sellers/${seller.user.id}`);
    const s = `/admin/sellers/${seller.user.id}`;
    pages = [
      '/admin',
      '/admin/events',
      `/admin/events/${event.id}`,
      '/admin/sellers',
      s,
      '/admin/fees',
      '/admin/policies',
      '/admin/audit',
      '/admin/orders',
      '/admin/orders?q=pi_x',
      `${s}/moderation`,
      '/admin/exports/orders.csv',
      '/admin/exports/payouts.csv',
      '/admin/exports/audit.csv',
      '/admin/health',
      '/admin/refund-requests',
      `/admin/orders/${orderId}`,
      '/admin/disputes',
      `/admin/disputes/${dispute.id}`,
    ];
    actions = [
      { url: `/admin/events/${event.id}/replay`, body: {} },
      { url: `${s}/payout-schedule`, body: { interval: 'weekly', weekly_anchor: 'monday' } },
      { url: `${s}/payouts/pause`, body: {} },
      { url: `${s}/payouts/resume`, body: {} },
      { url: `${s}/payouts`, body: { request_id: hiddenValue(sellerPage.body, 'request_id')!, amount: '1.00', currency: 'usd', confirm: 'yes' } },
      { url: `${s}/fee-policy`, body: { currency: '', basis_points: '500' } },
      { url: `${s}/fee-policy/${override.id}/delete`, body: {} },
      { url: '/admin/fees', body: { currency: 'usd', basis_points: '900', fixed: '0.30' } },
      { url: `/admin/fees/${policy.id}/delete`, body: {} },
      {
        url: `/admin/orders/${orderId}/refunds`,
        body: { refund_id: hiddenValue(orderPage.body, 'refund_id')!, amount: '1.00', reverse_transfer: 'on', confirm: 'yes' },
      },
      { url: `/admin/disputes/${dispute.id}/evidence`, body: { action: 'draft', uncategorized_text: 'draft text' } },
      { url: `/admin/disputes/${dispute.id}/accept`, body: { confirm: 'yes' } },
      { url: '/admin/policies', body: { 'refunds.refund_application_fee': 'on' } },
      { url: `/admin/orders/${orderId}/refund-requests/${toApprove}/approve`, body: { note: 'ok' } },
      { url: `/admin/orders/${declinedId}/refund-requests/${toDecline}/decline`, body: { reason: 'Not broken' } },
      { url: `/admin/listings/${listingOfOrder}/take-down`, body: { reason: 'Prohibited' } },
      { url: `/admin/listings/${listingOfOrder}/restore`, body: {} },
      { url: `${s}/suspend`, body: { reason: 'Reported' } },
      { url: `${s}/reinstate`, body: {} },
    ];
  });

  /** Everything an admin action could change, in our database and at Stripe. */
  async function snapshot() {
    const db = h.database.db;
    const count = async (table: 'admin_audit_log' | 'refunds' | 'payout_requests' | 'platform_settings' | 'fee_policies' | 'refund_requests') =>
      (await db.selectFrom(table).select(db.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n;
    const emulatorPosts = (await h.emu.control<{ data: { method: string }[] }>('GET', '/_emulator/requests')).data.filter((r) => r.method === 'POST').length;
    const policies = await db.selectFrom('fee_policies').select(['id', 'basis_points']).orderBy('id').execute();
    const events = await db.selectFrom('stripe_events').select(['id', 'status', 'attempts']).orderBy('id').execute();
    return JSON.stringify({
      audit: await count('admin_audit_log'),
      refunds: await count('refunds'),
      payouts: await count('payout_requests'),
      settings: await count('platform_settings'),
      policies,
      events,
      emulatorPosts,
      refundRequests: await db.selectFrom('refund_requests').select(['id', 'status']).orderBy('id').execute(),
      suspensions: await db.selectFrom('seller_suspensions').select('seller_id').execute(),
      takedowns: await db.selectFrom('listing_takedowns').select('listing_id').execute(),
    });
  }

  it('anonymous visitors are sent to log in; buyers and sellers get 403; nothing changes', async () => {
    const before = await snapshot();
    const anonymous = new TestClient(h.app);
    const { client: buyer } = await loginAs(h.app, 'buyer');
    const { client: seller } = await loginAs(h.app, 'seller');
    for (const url of pages) {
      const a = await anonymous.get(url);
      expect([a.statusCode, a.location?.startsWith('/login')], url).toEqual([303, true]);
      expect((await buyer.get(url)).statusCode, url).toBe(403);
      expect((await seller.get(url)).statusCode, url).toBe(403);
    }
    for (const { url, body } of actions) {
      const a = await anonymous.post(url, body);
      expect([a.statusCode, a.location?.startsWith('/login')], url).toEqual([303, true]);
      expect((await buyer.post(url, body)).statusCode, url).toBe(403);
      expect((await seller.post(url, body)).statusCode, url).toBe(403);
    }
    expect(await snapshot()).toBe(before);
  });

  it('every admin POST without a CSRF token is 403 and changes nothing', async () => {
    const before = await snapshot();
    for (const { url, body } of actions) {
      const response = await h.admin.post(url, body, { csrf: false });
      expect(response.statusCode, url).toBe(403);
      const forged = await h.admin.post(url, body, { csrf: 'not-a-real-token' });
      expect(forged.statusCode, url).toBe(403);
    }
    expect(await snapshot()).toBe(before);
  });

  it('the admin can open every page and perform every action', async () => {
    for (const url of pages) expect((await h.admin.get(url)).statusCode, url).toBe(200);
    for (const { url, body } of actions) {
      const response = await h.admin.post(url, body);
      expect([200, 303], `${url} → ${response.statusCode}: ${response.body.slice(0, 300)}`).toContain(response.statusCode);
    }
    const actionsLogged = (await h.database.db.selectFrom('admin_audit_log').select('action').execute()).map((a) => a.action);
    for (const action of [
      'payouts.schedule',
      'payouts.pause',
      'payouts.resume',
      'payout.request',
      'fee_policy.save',
      'fee_policy.delete',
      'refund.request',
      'refund.create',
      'dispute.evidence_draft',
      'dispute.accept',
      'setting.update',
      'refund_request.approve',
      'refund_request.decline',
      'listing.take_down',
      'listing.restore',
      'seller.suspend',
      'seller.reinstate',
    ]) {
      expect(actionsLogged, action).toContain(action);
    }
  });
});
