// Second guards, over HTTP, for rules that had a single test (or only a browser test, skipped
// without Chromium): the refund form's defaults as a browser submits them, the Checkout Session's
// idempotency key through the buy form, CSRF on every admin POST route found in the source, and a
// new session id at login (no fixation). Each goes through the real app, as a browser would.
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { getSettings, saveSettings } from '../../src/admin/settings.ts';
import { SESSION_COOKIE } from '../../src/auth/sessions.ts';
import { createTestUser, loginAs, TEST_PASSWORD, TestClient } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';
import { createListing, createPaidOrder, useSeller } from '../helpers/market.ts';

const w = useWorld({ webhooks: true, admin: true });
const seller = useSeller(w, { manualPayouts: true });

/** The fields a browser sends for the first form matching `formPattern`: hidden and text inputs, checked boxes, selected options. */
function browserFields(page: string, formPattern: RegExp): Record<string, string> {
  const form = formPattern.exec(page)?.[0];
  if (form === undefined) throw new Error(`no form ${formPattern}`);
  const fields: Record<string, string> = {};
  for (const input of form.match(/<input[^>]*>/g) ?? []) {
    const name = /name="([^"]+)"/.exec(input)?.[1];
    if (name === undefined) continue;
    const type = /type="([^"]+)"/.exec(input)?.[1] ?? 'text';
    if (type === 'checkbox' && !/\schecked\b/.test(input)) continue;
    fields[name] = /value="([^"]*)"/.exec(input)?.[1] ?? 'on';
  }
  for (const select of form.match(/<select[\s\S]*?<\/select>/g) ?? []) {
    const name = /name="([^"]+)"/.exec(select)![1]!;
    fields[name] = (/<option value="([^"]*)"[^>]*selected/.exec(select) ?? /<option value="([^"]*)"/.exec(select))![1]!;
  }
  return fields;
}

describe("the refund form's defaults, as a browser submits them", () => {
  it("reverse the seller's transfer is on by default: the untouched form refunds from the seller (and the fee, by the default setting)", async () => {
    const order = await createPaidOrder(w, seller, { amount: 10_000 });
    const page = await w.admin.get(`/admin/orders/${order.id}`);
    const form = browserFields(page.body, /<form[^>]*data-testid="refund-form"[\s\S]*?<\/form>/);
    expect(form).toMatchObject({ amount: '100.00', reverse_transfer: 'on', refund_application_fee: 'on', reason: '' });
    const { _csrf: token, ...fields } = form;
    const confirm = await w.admin.post(`/admin/orders/${order.id}/refunds`, { ...fields, amount: '30.00' }, { csrf: token! });
    expect(confirm.statusCode).toBe(200);
    const confirmFields = browserFields(confirm.body, /<form[^>]*action="\/admin\/orders\/[^"]+\/refunds"[\s\S]*?<\/form>/);
    expect(confirmFields).toMatchObject({ reverse_transfer: 'on', refund_application_fee: 'on', confirm: 'yes' });
    const { _csrf: confirmToken, ...confirmed } = confirmFields;
    expect((await w.admin.post(`/admin/orders/${order.id}/refunds`, confirmed, { csrf: confirmToken! })).statusCode).toBe(303);
    await w.settle();
    const [refund] = (await w.stripe.refunds.list({ payment_intent: order.stripe_payment_intent_id!, expand: ['data.transfer_reversal'] })).data;
    expect(refund).toMatchObject({ amount: 3_000 });
    expect(refund!.transfer_reversal).toMatchObject({ amount: 3_000 });
    expect((await w.stripe.transfers.retrieve(order.stripe_transfer_id!)).amount_reversed).toBe(3_000);
    expect((await w.stripe.applicationFees.retrieve(order.stripe_application_fee_id!)).amount_refunded).toBe(300);
  });

  it('with the fee-refund setting off, the form starts with the fee box unticked but still reverses the transfer', async () => {
    const order = await createPaidOrder(w, seller, { amount: 10_000 });
    const settings = await getSettings(w.db);
    await saveSettings(w.db, w.actor, { ...settings, 'refunds.refund_application_fee': false });
    try {
      const page = await w.admin.get(`/admin/orders/${order.id}`);
      const form = browserFields(page.body, /<form[^>]*data-testid="refund-form"[\s\S]*?<\/form>/);
      expect(form.reverse_transfer).toBe('on');
      expect(form.refund_application_fee).toBeUndefined();
    } finally {
      await saveSettings(w.db, w.actor, settings);
    }
  });
});

describe('the Checkout Session idempotency key, through the buy form', () => {
  it('the same form after a lost answer, and twice at once, is one session under order:<id>:checkout', async () => {
    const listingId = await createListing(w, seller.user.id, 2_600);
    const { client: buyer } = await loginAs(w.app, 'buyer');
    const listingPage = await buyer.get(`/listings/${listingId}`);
    const attempt = browserFields(listingPage.body, /<form[^>]*data-testid="buy-form"[\s\S]*?<\/form>/).attempt!;
    await w.emu.fault('/v1/checkout/sessions', 'apply_then_drop', { count: 2 });
    const lost = await buyer.post(`/checkout/${listingId}`, { attempt, quantity: 1 });
    expect(lost.statusCode).not.toBe(303);
    const [again, twice] = await Promise.all([
      buyer.post(`/checkout/${listingId}`, { attempt, quantity: 1 }),
      buyer.post(`/checkout/${listingId}`, { attempt, quantity: 1 }),
    ]);
    expect([again.statusCode, twice.statusCode]).toEqual([303, 303]);
    expect(twice.location).toBe(again.location);
    const order = await w.db.selectFrom('orders').selectAll().where('checkout_attempt_id', '=', attempt).executeTakeFirstOrThrow();
    const sessions = (await w.stripe.checkout.sessions.list({ limit: 100 })).data.filter((s) => s.client_reference_id === order.id);
    expect(sessions.map((s) => s.url)).toEqual([again.location]);
    const keys = (await w.emu.requests('/v1/checkout/sessions')).filter((r) => r.idempotency_key?.includes(order.id)).map((r) => r.idempotency_key);
    expect(keys.length).toBeGreaterThanOrEqual(3);
    expect(new Set(keys)).toEqual(new Set([`order:${order.id}:checkout`]));
  });
});

describe('CSRF on every admin POST route', () => {
  /** Every `app.post('/admin…')` in src/routes, so a route added later is covered without editing this test. */
  const adminPostRoutes = readdirSync('src/routes')
    .filter((f) => f.endsWith('.ts'))
    .flatMap((f) => [...readFileSync(`src/routes/${f}`, 'utf8').matchAll(/app\.post\('(\/admin[^']*)'/g)].map((m) => m[1]!));

  it('finds the admin POST routes (refunds, disputes, payouts, fees, events, settings)', () => {
    expect(adminPostRoutes.length).toBeGreaterThanOrEqual(12);
    for (const prefix of ['/admin/orders/', '/admin/disputes/', '/admin/sellers/', '/admin/fees', '/admin/events/']) {
      expect(
        adminPostRoutes.some((r) => r.startsWith(prefix)),
        prefix,
      ).toBe(true);
    }
  });

  it("no token, a forged one, or another admin's valid token: 403, and nothing changes here or at Stripe", async () => {
    const order = await createPaidOrder(w, seller, { amount: 5_000, paymentMethod: 'pm_card_createDispute' });
    const dispute = await w.db.selectFrom('disputes').select('id').where('order_id', '=', order.id).executeTakeFirstOrThrow();
    const event = await w.db.selectFrom('stripe_events').select('id').limit(1).executeTakeFirstOrThrow();
    const ids: Record<string, string> = { orders: order.id, disputes: dispute.id, sellers: seller.user.id, events: event.id };
    const urlOf = (route: string) =>
      route.replace(/\/(\w+)\/:id/, (_m, area: string) => `/${area}/${ids[area] ?? randomUUID()}`).replace(/:\w+/g, () => randomUUID());
    const body = {
      refund_id: randomUUID(),
      request_id: randomUUID(),
      amount: '10.00',
      currency: 'usd',
      confirm: 'yes',
      reverse_transfer: 'on',
      refund_application_fee: 'on',
      action: 'submit',
      uncategorized_text: 'losing_evidence',
      interval: 'daily',
      basis_points: '100',
      fixed_amount: '0',
      value: 'off',
      key: 'refunds.refund_application_fee',
    };
    const { client: otherAdmin } = await loginAs(w.app, 'admin');
    const otherToken = await otherAdmin.csrfToken();
    const snapshot = async () =>
      JSON.stringify({
        audit: (await w.db.selectFrom('admin_audit_log').select('id').execute()).length,
        refunds: (await w.db.selectFrom('refunds').select('id').execute()).length,
        payouts: (await w.db.selectFrom('payout_requests').select('id').execute()).length,
        settings: await w.db.selectFrom('platform_settings').selectAll().execute(),
        stripePosts: (await w.emu.control<{ data: { method: string }[] }>('GET', '/_emulator/requests')).data.filter((r) => r.method === 'POST').length,
      });
    const before = await snapshot();
    for (const route of adminPostRoutes) {
      const url = urlOf(route);
      expect((await w.admin.post(url, body, { csrf: false })).statusCode, `${url} without a token`).toBe(403);
      expect((await w.admin.post(url, body, { csrf: 'forged-token' })).statusCode, `${url} forged`).toBe(403);
      expect((await w.admin.post(url, body, { csrf: otherToken })).statusCode, `${url} another session's token`).toBe(403);
    }
    expect(await snapshot()).toBe(before);
    // A refund form with this session's own token goes through (to its confirm step): the 403s were the CSRF check.
    const undisputed = await createPaidOrder(w, seller, { amount: 5_000 });
    const control = await w.admin.post(`/admin/orders/${undisputed.id}/refunds`, {
      refund_id: randomUUID(),
      amount: '10.00',
      reverse_transfer: 'on',
      refund_application_fee: 'on',
    });
    expect(control.statusCode).toBe(200);
  });
});

describe('a new session id at login (no fixation)', () => {
  it("a session cookie planted before login is replaced, and the planted one never becomes the victim's", async () => {
    const attacker = await createTestUser(w.db, 'buyer');
    const victim = await createTestUser(w.db, 'admin');
    const attackerBrowser = new TestClient(w.app);
    expect((await attackerBrowser.post('/login', { email: attacker.email, password: TEST_PASSWORD })).statusCode).toBe(303);
    const planted = attackerBrowser.cookies.get(SESSION_COOKIE)!;

    const victimBrowser = new TestClient(w.app);
    victimBrowser.cookies.set(SESSION_COOKIE, planted);
    expect((await victimBrowser.post('/login', { email: victim.email, password: TEST_PASSWORD })).statusCode).toBe(303);
    const issued = victimBrowser.cookies.get(SESSION_COOKIE)!;
    expect(issued.split('.')[0]).not.toBe(planted.split('.')[0]);
    expect((await victimBrowser.get('/admin')).statusCode).toBe(200);

    // The planted token signs nobody in as the victim: the admin area refuses it.
    const replay = new TestClient(w.app);
    replay.cookies.set(SESSION_COOKIE, planted);
    const admin = await replay.get('/admin');
    expect(admin.statusCode).not.toBe(200);
    const account = await replay.get('/account');
    expect(account.body).not.toContain(victim.email);
  });

  it('signing in twice in one browser gives a new id each time; the earlier cookie is dead', async () => {
    const user = await createTestUser(w.db, 'seller');
    const browser = new TestClient(w.app);
    await browser.post('/login', { email: user.email, password: TEST_PASSWORD });
    const first = browser.cookies.get(SESSION_COOKIE)!;
    await browser.post('/login', { email: user.email, password: TEST_PASSWORD });
    expect(browser.cookies.get(SESSION_COOKIE)!.split('.')[0]).not.toBe(first.split('.')[0]);
    const old = new TestClient(w.app);
    old.cookies.set(SESSION_COOKIE, first);
    const response = await old.get('/account');
    expect([response.statusCode, response.location?.startsWith('/login')]).toEqual([303, true]);
  });
});
