// Every page and action of issue 13 against anonymous, buyer, seller and admin: each area lets in
// its own role only (anonymous → log in, other roles → 403); a subscription or plan of someone else
// is a 404; every POST without a valid CSRF token is 403. In every refused case nothing changed: no
// row in the subscription tables, no audit entry, no request at the emulator.
import { beforeAll, describe, expect, it } from 'vitest';
import { subscribeWithPaymentElement } from '../../src/subscriptions/use-cases.ts';
import { TestClient } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';
import { createSeller, hiddenValue } from '../helpers/market.ts';
import { intentIdOf, invoiceRows, planFor } from './harness.ts';

type Route = { url: string; body?: Record<string, string> };

describe('subscriptions: authorization × CSRF', () => {
  const h = useWorld({ webhooks: true, admin: true });
  let areas: Record<'admin' | 'seller' | 'buyer', { pages: string[]; actions: Route[] }>;
  let clients: Record<'admin' | 'seller' | 'buyer' | 'otherSeller' | 'otherBuyer', TestClient>;
  let anonymous: TestClient;

  beforeAll(async () => {
    const seller = await createSeller(h, { manualPayouts: true });
    const plan = await planFor(h, seller);
    const another = await planFor(h, seller);
    const buyer = await h.signIn('buyer');
    const step = await subscribeWithPaymentElement(h.database.db, h.stripe, { buyerId: buyer.userId, planId: plan.id });
    await h.stripe.paymentIntents.confirm(intentIdOf(step.clientSecret!), { payment_method: 'pm_card_visa' });
    await h.settle();
    const id = step.subscription.id;
    const [invoice] = await invoiceRows(h, id);
    const adminPage = await h.admin.get(`/admin/subscriptions/${id}`);
    clients = {
      admin: h.admin,
      seller: (await h.signIn('seller', seller.user.id)).client,
      buyer: buyer.client,
      otherSeller: (await h.signIn('seller')).client,
      otherBuyer: (await h.signIn('buyer')).client,
    };
    anonymous = new TestClient(h.app);
    areas = {
      admin: {
        pages: ['/admin/subscriptions', `/admin/subscriptions/${id}`, '/admin/invoices'],
        actions: [
          { url: `/admin/subscriptions/${id}/cancel`, body: { mode: 'period_end' } },
          {
            url: `/admin/invoices/${invoice!.id}/refunds`,
            body: { refund_id: hiddenValue(adminPage.body, 'refund_id')!, amount: '1.00', reverse_transfer: 'on', refund_application_fee: 'on' },
          },
        ],
      },
      seller: {
        pages: ['/seller/plans', `/seller/plans/${plan.id}`, '/seller/subscriptions'],
        actions: [
          { url: '/seller/plans', body: { name: 'Matrix plan', amount: '3.00', currency: 'usd', interval: 'month' } },
          { url: `/seller/plans/${plan.id}/price`, body: { amount: '21.00', move: 'keep' } },
          { url: `/seller/plans/${plan.id}/archive` },
          { url: `/seller/plans/${plan.id}/unarchive` },
        ],
      },
      buyer: {
        pages: ['/subscriptions', `/subscriptions/${id}/complete`],
        actions: [
          { url: `/subscriptions/${id}/cancel` },
          { url: `/subscriptions/${id}/resume` },
          { url: `/subscriptions/${id}/portal` },
          { url: `/plans/${another.id}/subscribe`, body: { flow: 'custom' } },
        ],
      },
    };
  });

  async function snapshot(): Promise<string> {
    const db = h.database.db;
    const rows = async (table: 'plans' | 'subscriptions' | 'invoice_refunds' | 'admin_audit_log' | 'seller_portal_configurations') =>
      (await db.selectFrom(table).selectAll().execute()).map((r) => JSON.stringify(r)).sort();
    const emulatorPosts = (await h.emu.control<{ data: { method: string }[] }>('GET', '/_emulator/requests')).data.filter((r) => r.method === 'POST').length;
    return JSON.stringify({
      plans: await rows('plans'),
      subscriptions: await rows('subscriptions'),
      refunds: await rows('invoice_refunds'),
      audit: await rows('admin_audit_log'),
      portal: await rows('seller_portal_configurations'),
      emulatorPosts,
    });
  }

  it('anonymous visitors are sent to log in; the other roles get 403; nothing changes', async () => {
    const before = await snapshot();
    for (const [role, { pages, actions }] of Object.entries(areas)) {
      const others = (['admin', 'seller', 'buyer'] as const).filter((r) => r !== role).map((r) => clients[r]);
      for (const url of pages) {
        const a = await anonymous.get(url);
        expect([a.statusCode, a.location?.startsWith('/login')], url).toEqual([303, true]);
        for (const other of others) expect((await other.get(url)).statusCode, `${url} as not ${role}`).toBe(403);
      }
      for (const { url, body } of actions) {
        const a = await anonymous.post(url, body);
        expect([a.statusCode, a.location?.startsWith('/login')], url).toEqual([303, true]);
        for (const other of others) expect((await other.post(url, body)).statusCode, `${url} as not ${role}`).toBe(403);
      }
    }
    expect(await snapshot()).toBe(before);
  });

  it("another seller's plan and another buyer's subscription are not found", async () => {
    const before = await snapshot();
    for (const route of areas.seller.pages.filter((u) => u.includes('/plans/'))) expect((await clients.otherSeller.get(route)).statusCode, route).toBe(404);
    for (const { url, body } of areas.seller.actions.filter((a) => a.url.includes('/plans/')))
      expect((await clients.otherSeller.post(url, body)).statusCode, url).toBe(404);
    expect((await clients.otherBuyer.get(areas.buyer.pages[1]!)).statusCode).toBe(404);
    for (const { url, body } of areas.buyer.actions.filter((a) => a.url.startsWith('/subscriptions/')))
      expect((await clients.otherBuyer.post(url, body)).statusCode, url).toBe(404);
    expect(await snapshot()).toBe(before);
  });

  it('every POST without a CSRF token, or with a forged one, is 403 and changes nothing', async () => {
    const before = await snapshot();
    for (const [role, { actions }] of Object.entries(areas)) {
      const client = clients[role as 'admin' | 'seller' | 'buyer'];
      for (const { url, body } of actions) {
        expect((await client.post(url, body, { csrf: false })).statusCode, url).toBe(403);
        expect((await client.post(url, body, { csrf: 'forged' })).statusCode, url).toBe(403);
      }
    }
    expect(await snapshot()).toBe(before);
  });

  it('each role can open its pages and perform its actions', async () => {
    for (const [role, { pages, actions }] of Object.entries(areas)) {
      const client = clients[role as 'admin' | 'seller' | 'buyer'];
      for (const url of pages) expect((await client.get(url)).statusCode, url).toBe(200);
      for (const { url, body } of actions) {
        const response = await client.post(url, body);
        expect([200, 303], `${url} → ${response.statusCode}: ${response.body.slice(0, 300)}`).toContain(response.statusCode);
      }
    }
  });
});
