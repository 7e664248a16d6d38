// Issue 16 point 6: the seller's Money page (balance from Stripe for their own account, payouts from
// our table in keyset pages, newest first) and CSV exports of their orders and payouts, read back
// with a real CSV parser. Through the real app, database and emulator; webhooks really delivered.
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PayoutStatus } from '../../src/db/schema.ts';
import { sellerOrdersCsv } from '../../src/sellers/money-exports.ts';
import { createTestUser, loginAs, TEST_PASSWORD, TestClient } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';
import { createPaidOrder, createSeller, refundByAdmin, type TestSeller } from '../helpers/market.ts';

const h = useWorld({ webhooks: true, admin: true });
let seller: TestSeller;
let client: TestClient;
let other: TestSeller;
let otherClient: TestClient;
const orderIds: string[] = [];

async function signedIn(email: string): Promise<TestClient> {
  const c = new TestClient(h.app);
  expect((await c.post('/login', { email, password: TEST_PASSWORD })).statusCode).toBe(303);
  return c;
}
const payoutIdsOn = (body: string) => [...body.matchAll(/data-payout-id="([^"]+)"/g)].map((m) => m[1]);
const csvRows = (body: string) => parse(body, { columns: true }) as Record<string, string>[];

/** A payout row as the payout.* handlers record it (for states the emulator cannot produce, and for many rows). */
async function storedPayout(sellerId: string, account: string, values: { id: string; status: PayoutStatus; created: Date; amount?: number; failure?: string }) {
  await h.database.db
    .insertInto('payouts')
    .values({
      id: values.id,
      account,
      seller_id: sellerId,
      amount: values.amount ?? 500,
      currency: 'usd',
      status: values.status,
      automatic: true,
      arrival_date: new Date(values.created.getTime() + 86_400_000),
      failure_code: values.failure === undefined ? null : 'account_closed',
      failure_message: values.failure ?? null,
      stripe_created: values.created,
      observed_at: values.created,
    })
    .execute();
}

beforeAll(async () => {
  seller = await createSeller(h, { manualPayouts: true });
  client = await signedIn(seller.user.email);
  other = await createSeller(h, { manualPayouts: true });
  otherClient = await signedIn(other.user.email);
  // Available at once (pm_card_bypassPending): 100.00 − 10% fee = 90.00; pending (pm_card_visa): 50.00 − 5.00.
  orderIds.push((await createPaidOrder(h, seller, { amount: 10_000 })).id);
  orderIds.push((await createPaidOrder(h, seller, { amount: 5_000, paymentMethod: 'pm_card_visa' })).id);
  await createPaidOrder(h, other, { amount: 7_700 });
});

describe('the Money page', () => {
  it('is linked from the dashboard and shows the balance Stripe holds for the seller, available and pending', async () => {
    expect((await client.get('/seller')).body).toContain('href="/seller/money"');
    const page = await client.get('/seller/money');
    expect(page.statusCode).toBe(200);
    const balance = await h.stripe.balance.retrieve({}, { stripeAccount: seller.accountId });
    const usd = { available: balance.available.find((b) => b.currency === 'usd')!.amount, pending: balance.pending.find((b) => b.currency === 'usd')!.amount };
    expect(usd).toEqual({ available: 9_000, pending: 4_500 });
    expect(page.body).toMatch(/data-testid="available" data-amount="9000">\$90\.00</);
    expect(page.body).toMatch(/data-testid="pending" data-amount="4500">\$45\.00</);
  });

  it("lists the seller's payouts from our table with status and arrival, as payout events recorded them", async () => {
    const payout = await h.stripe.payouts.create({ amount: 2_000, currency: 'usd' }, { stripeAccount: seller.accountId });
    await h.settle();
    let page = await client.get('/seller/money');
    expect(page.body).toMatch(new RegExp(`data-payout-id="${payout.id}" data-status="pending"[\\s\\S]*?\\$20\\.00[\\s\\S]*?Pending[\\s\\S]*?Expected`));
    await h.emu.advanceClock(2 * 86_400);
    await h.settle();
    page = await client.get('/seller/money');
    expect(page.body).toMatch(new RegExp(`data-payout-id="${payout.id}" data-status="paid"[\\s\\S]*?Paid[\\s\\S]*?Arrived`));
    // Never another seller's.
    expect(payoutIdsOn((await otherClient.get('/seller/money')).body)).not.toContain(payout.id);
  });

  it('says why a payout failed', async () => {
    await storedPayout(seller.user.id, seller.accountId, {
      id: 'po_failedExample1',
      status: 'failed',
      created: new Date(),
      failure: 'The bank account has been closed.',
    });
    const page = await client.get('/seller/money');
    expect(page.body).toMatch(/data-payout-id="po_failedExample1" data-status="failed"[\s\S]*?Failed[\s\S]*?The bank account has been closed\./);
  });

  it("pages through payouts newest first, and a cursor naming another seller's payout shows nothing of theirs", async () => {
    const pager = await createSeller(h);
    const start = Date.UTC(2026, 0, 1);
    for (let i = 0; i < 30; i++)
      await storedPayout(pager.user.id, pager.accountId, {
        id: `po_page${String(i).padStart(2, '0')}`,
        status: 'paid',
        created: new Date(start + i * 3_600_000),
      });
    const pagerClient = await signedIn(pager.user.email);
    const first = await pagerClient.get('/seller/money');
    const firstIds = payoutIdsOn(first.body);
    expect(firstIds).toEqual(Array.from({ length: 25 }, (_, i) => `po_page${String(29 - i).padStart(2, '0')}`));
    const next = /data-testid="older-payouts" href="([^"]+)"|href="([^"]+)" data-testid="older-payouts"/.exec(first.body);
    // As the browser reads the link: Handlebars writes '=' as &#x3D;.
    const nextUrl = (next?.[1] ?? next?.[2])!.replaceAll('&#x3D;', '=').replaceAll('&amp;', '&');
    const second = await pagerClient.get(nextUrl);
    expect(payoutIdsOn(second.body)).toEqual(['po_page04', 'po_page03', 'po_page02', 'po_page01', 'po_page00']);
    expect(second.body).not.toContain('data-testid="older-payouts"');

    // The same cursor in another seller's hands pages through nothing of the pager's.
    const stolen = await client.get(nextUrl);
    expect(stolen.statusCode).toBe(200);
    expect(payoutIdsOn(stolen.body).filter((id) => id!.startsWith('po_page'))).toEqual([]);

    const edited = await pagerClient.get('/seller/money?before=not-a-cursor');
    expect(edited.statusCode).toBe(400);
    expect(edited.body).toContain('The page link is not valid');
  });

  it('still renders our own records, with a clear note, when Stripe fails to give the balance', async () => {
    const before = (await h.emu.requests('/v1/balance', 'GET')).length;
    await h.emu.control('POST', '/_emulator/faults', { path: '/v1/balance', count: 1, kind: '500' });
    const page = await client.get('/seller/money');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('data-testid="balance-unavailable"');
    expect(page.body).toContain('balance is unavailable right now');
    expect(page.body).not.toContain('data-testid="balance-table"');
    expect(page.body).toContain('data-payout-id="po_failedExample1"');
    expect((await h.emu.requests('/v1/balance', 'GET')).length).toBe(before + 1);
    // The fault was used up: the next visit reads the balance again.
    expect((await client.get('/seller/money')).body).toContain('data-testid="balance-table"');
  });

  it('a seller without a payouts account is told how to set one up, and Stripe is not asked', async () => {
    const newcomer = await createTestUser(h.database.db, 'seller');
    const before = (await h.emu.requests('/v1/balance', 'GET')).length;
    const page = await (await signedIn(newcomer.email)).get('/seller/money');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('data-testid="no-account"');
    expect(page.body).toContain('href="/seller#payouts"');
    expect((await h.emu.requests('/v1/balance', 'GET')).length).toBe(before);
  });
});

describe('CSV exports', () => {
  it("orders.csv: the seller's own orders with the net, formula cells neutralised, another seller's never", async () => {
    const tricky = '=HYPERLINK("http://x"), "quoted"\nsecond line';
    await h.database.db.updateTable('orders').set({ title: tricky }).where('id', '=', orderIds[0]!).execute();
    // A partial refund, so the net differs from amount − fee.
    await refundByAdmin(h, orderIds[0]!, '25.00');

    const response = await client.get('/seller/money/orders.csv');
    expect(response.statusCode).toBe(200);
    expect(String(response.headers['content-type'])).toMatch(/^text\/csv/);
    expect(String(response.headers['content-disposition'])).toMatch(/^attachment; filename="orders-\d{4}-\d{2}-\d{2}\.csv"$/);
    const rows = csvRows(response.body);
    const own = await h.database.db.selectFrom('orders').select('id').where('seller_id', '=', seller.user.id).execute();
    expect(rows.map((r) => r.order_id).sort()).toEqual(own.map((o) => o.id).sort());
    const refunded = rows.find((r) => r.order_id === orderIds[0])!;
    expect(refunded).toMatchObject({
      title: `'${tricky}`,
      amount_minor: '10000',
      amount: '100.00',
      platform_fee_minor: '1000',
      refunded_minor: '2500',
      refunded_from_you_minor: '2500',
      fee_returned_minor: '250',
      net_minor: '6750',
      net: '67.50',
      status: 'partially_refunded',
    });
    const otherOrders = await h.database.db.selectFrom('orders').select('id').where('seller_id', '=', other.user.id).execute();
    expect(otherOrders.length).toBeGreaterThan(0);
    for (const o of otherOrders) expect(response.body).not.toContain(o.id);
  });

  it('orders.csv is read a page at a time and loses no order across pages', async () => {
    let text = '';
    for await (const chunk of sellerOrdersCsv(h.database.db, seller.user.id, 1)) text += chunk;
    const paged = csvRows(text).map((r) => r.order_id);
    const whole = csvRows((await client.get('/seller/money/orders.csv')).body).map((r) => r.order_id);
    expect(paged).toEqual(whole);
    expect(paged.length).toBeGreaterThanOrEqual(2);
  });

  it("payouts.csv: the seller's own payouts, another seller's never", async () => {
    const otherPayout = await h.stripe.payouts.create({ amount: 1_000, currency: 'usd' }, { stripeAccount: other.accountId });
    await h.settle();
    const response = await client.get('/seller/money/payouts.csv');
    expect(String(response.headers['content-disposition'])).toMatch(/^attachment; filename="payouts-/);
    const rows = csvRows(response.body);
    const own = await h.database.db.selectFrom('payouts').select('id').where('seller_id', '=', seller.user.id).execute();
    expect(rows.map((r) => r.payout_id).sort()).toEqual(own.map((p) => p.id).sort());
    expect(rows.find((r) => r.payout_id === 'po_failedExample1')).toMatchObject({
      status: 'failed',
      failure_message: 'The bank account has been closed.',
      amount: '5.00',
    });
    expect(response.body).not.toContain(otherPayout.id);
    expect(csvRows((await otherClient.get('/seller/money/payouts.csv')).body).map((r) => r.payout_id)).toContain(otherPayout.id);
  });
});

describe('only sellers get in', () => {
  it("anonymous → log in; buyer and admin → 403; nothing of the seller's shown", async () => {
    const buyer = (await loginAs(h.app, 'buyer')).client;
    for (const path of ['/seller/money', '/seller/money/orders.csv', '/seller/money/payouts.csv']) {
      const anonymous = await new TestClient(h.app).get(path);
      expect([anonymous.statusCode, anonymous.location]).toEqual([303, `/login?next=${encodeURIComponent(path)}`]);
      for (const c of [buyer, h.admin]) {
        const refused = await c.get(path);
        expect(refused.statusCode).toBe(403);
        expect(refused.body).not.toContain('po_failedExample1');
        expect(refused.body).not.toContain(orderIds[0]!);
      }
    }
  });
});
