/**
 * Billing through the Stripe.js stand-in in a real browser (Debian's Chromium through
 * playwright-core): a shop page on another origin saves a card with `stripe.confirmSetup` (the
 * Payment Element setup page) or `stripe.confirmCardSetup` (a card element), and pays a
 * subscription's first invoice from `latest_invoice.confirmation_secret` with
 * `stripe.confirmPayment` (the subscriptions custom flow). Skipped when Chromium is not installed.
 */
import { afterAll, beforeAll, describe, expect } from 'vitest';
import type Stripe from 'stripe';
import type { Page } from 'playwright-core';
import { browserTest as it, chromiumAvailable } from '../helpers/browser.ts';
import { createExpressAccount, useTestEmulator, monthlyPrice } from './helpers.ts';
import { startShop, type Shop } from './shop.ts';

const t = useTestEmulator();
let seller: Stripe.Account;
let monthly: Stripe.Price;
let shop: Shop;
/** What each shop page does: `call` is the Stripe.js method, `secret` the client secret. */
const pages = new Map<string, { call: 'confirmSetup' | 'confirmCardSetup' | 'confirmPayment'; secret: string }>();

function shopPage(name: string): string {
  const spec = pages.get(name);
  if (!spec) return 'unknown page';
  const elementType = spec.call === 'confirmCardSetup' ? 'card' : 'payment';
  const confirm =
    spec.call === 'confirmCardSetup'
      ? `stripe.confirmCardSetup(${JSON.stringify(spec.secret)}, { payment_method: { card: element } })`
      : `stripe.${spec.call}({ elements, confirmParams: { return_url: ${JSON.stringify(`${shop.url}/done`)} } })`;
  return `<!doctype html><html><head><title>Shop</title><script src="${t.url}/js/v3.js"></script></head><body>
  <form id="f"><div id="element"></div><button id="go" type="submit">Save</button></form><p id="err"></p><p id="result"></p>
  <script>
    const stripe = Stripe('pk_test_shop');
    const elements = stripe.elements({ clientSecret: ${JSON.stringify(spec.secret)} });
    const element = elements.create(${JSON.stringify(elementType)});
    element.mount('#element');
    document.getElementById('f').addEventListener('submit', async (e) => {
      e.preventDefault();
      const r = await ${confirm};
      if (r.error) document.getElementById('err').textContent = r.error.message;
      else document.getElementById('result').textContent = (r.setupIntent || r.paymentIntent).status;
    });
  </script></body></html>`;
}

beforeAll(async () => {
  seller = await createExpressAccount(t, { outcome: 'verified', interval: 'manual' });
  monthly = await monthlyPrice(t, 'Coffee beans');
  shop = await startShop((u) => {
    if (u.pathname === '/page') return shopPage(u.searchParams.get('name') ?? '');
    if (u.pathname !== '/done') return undefined;
    const id = u.searchParams.get('setup_intent') ?? u.searchParams.get('payment_intent');
    return `<p id="status">${u.searchParams.get('redirect_status')}</p><p id="id">${id}</p>`;
  });
});

afterAll(async () => {
  await shop.close();
});

async function open(page: Page, name: string, card: string): Promise<Page> {
  await page.goto(`${shop.url}/page?name=${name}`);
  await page.getByTestId('stripe-emulator-card-number').fill(card);
  await page.click('#go');
  return page;
}

describe.skipIf(!chromiumAvailable)('billing with the Stripe.js stand-in in Chromium', () => {
  it('confirmSetup on the Payment Element: 3155 authenticates on the challenge page and lands on return_url; the card is saved', async ({ openPage }) => {
    const customer = await t.stripe.customers.create({ email: 'js-setup@example.com' });
    const si = await t.stripe.setupIntents.create({ customer: customer.id, usage: 'off_session', automatic_payment_methods: { enabled: true } });
    pages.set('setup', { call: 'confirmSetup', secret: String(si.client_secret) });
    const page = await open(await openPage(), 'setup', '4000 0025 0000 3155');
    await page.waitForURL(`${t.url}/hosted/setup_3ds/**`);
    await page.getByTestId('3ds-complete').click();
    await page.waitForURL(`${shop.url}/done**`);
    expect(await page.textContent('#status')).toBe('succeeded');
    expect(await page.textContent('#id')).toBe(si.id);
    const done = await t.stripe.setupIntents.retrieve(si.id);
    expect(done.status).toBe('succeeded');
    expect((await t.stripe.customers.listPaymentMethods(customer.id)).data.map((p) => p.id)).toEqual([done.payment_method]);
    expect(shop.requests.join('\n')).not.toContain('3155');
  });

  it('confirmSetup: a declining card resolves {error} and stays on the page', async ({ openPage }) => {
    const customer = await t.stripe.customers.create({ email: 'js-decline@example.com' });
    const si = await t.stripe.setupIntents.create({ customer: customer.id });
    pages.set('decline', { call: 'confirmSetup', secret: String(si.client_secret) });
    const page = await open(await openPage(), 'decline', '4000000000000002');
    await page.locator('#err', { hasText: /\S/ }).waitFor();
    expect(await page.textContent('#err')).toBe('Your card was declined.');
    expect((await t.stripe.setupIntents.retrieve(si.id)).status).toBe('requires_payment_method');
  });

  it('confirmCardSetup with a card element resolves {setupIntent} without leaving the page', async ({ openPage }) => {
    const customer = await t.stripe.customers.create({ email: 'js-card@example.com' });
    const si = await t.stripe.setupIntents.create({ customer: customer.id });
    pages.set('card', { call: 'confirmCardSetup', secret: String(si.client_secret) });
    const page = await open(await openPage(), 'card', '4242424242424242');
    await page.locator('#result', { hasText: /\S/ }).waitFor();
    expect(await page.textContent('#result')).toBe('succeeded');
    expect((await t.stripe.setupIntents.retrieve(si.id)).status).toBe('succeeded');
  });

  it('confirmPayment with latest_invoice.confirmation_secret pays the first invoice (3DS for 3184) and activates the subscription', async ({ openPage }) => {
    const customer = await t.stripe.customers.create({ email: 'js-sub@example.com' });
    const sub = await t.stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: monthly.id }],
      payment_behavior: 'default_incomplete',
      payment_settings: { save_default_payment_method: 'on_subscription' },
      transfer_data: { destination: seller.id },
      application_fee_percent: 10,
      expand: ['latest_invoice.confirmation_secret'],
    });
    const invoice = sub.latest_invoice as Stripe.Invoice;
    const secret = invoice.confirmation_secret?.client_secret ?? '';
    expect(secret).toMatch(/^pi_.+_secret_/);
    pages.set('sub', { call: 'confirmPayment', secret });
    const page = await open(await openPage(), 'sub', '4000002760003184');
    await page.waitForURL(`${t.url}/hosted/3ds/**`);
    await page.getByTestId('3ds-complete').click();
    await page.waitForURL(`${shop.url}/done**`);
    expect(await page.textContent('#status')).toBe('succeeded');
    const after = await t.stripe.subscriptions.retrieve(sub.id, { expand: ['latest_invoice'] });
    expect(after.status).toBe('active');
    expect(after.latest_invoice).toMatchObject({ id: invoice.id, status: 'paid', amount_paid: 2000 });
    expect(after.default_payment_method).toBeTruthy();
  });
});
