/**
 * The Stripe.js stand-in in a real browser (Debian's Chromium through playwright-core): a shop
 * page on another origin loads `/js/v3.js` from the emulator, mounts the Payment Element and calls
 * `stripe.confirmPayment`. The card number must reach only the emulator, never the shop server.
 * Skipped (with a notice) when Chromium is not installed.
 */
import { afterAll, beforeAll, describe, expect } from 'vitest';
import type Stripe from 'stripe';
import { browserTest as it, chromiumAvailable } from '../helpers/browser.ts';
import { createExpressAccount, useTestEmulator } from './helpers.ts';
import { startShop, type Shop } from './shop.ts';

const t = useTestEmulator();
let seller: Stripe.Account;
let shop: Shop;
const clientSecrets = new Map<string, string>();

function shopPage(clientSecret: string): string {
  return `<!doctype html><html><head><title>Shop</title><script src="${t.url}/js/v3.js"></script></head><body>
  <form id="f"><div id="payment-element"></div><button id="pay" type="submit">Pay</button></form><p id="err"></p>
  <script>
    const stripe = Stripe('pk_test_shop');
    const elements = stripe.elements({ clientSecret: ${JSON.stringify(clientSecret)} });
    elements.create('payment').mount('#payment-element');
    document.getElementById('f').addEventListener('submit', async (e) => {
      e.preventDefault();
      const { error } = await stripe.confirmPayment({ elements, confirmParams: { return_url: ${JSON.stringify(`${shop.url}/done`)} } });
      if (error) document.getElementById('err').textContent = error.message;
    });
  </script></body></html>`;
}

beforeAll(async () => {
  seller = await createExpressAccount(t, { outcome: 'verified', interval: 'manual' });
  shop = await startShop((u) => {
    if (u.pathname === '/checkout') return shopPage(clientSecrets.get(u.searchParams.get('order') ?? '') ?? '');
    if (u.pathname === '/done') return `<p id="status">${u.searchParams.get('redirect_status')}</p><p id="pi">${u.searchParams.get('payment_intent')}</p>`;
    return undefined;
  });
});

afterAll(async () => {
  await shop.close();
});

async function order(name: string): Promise<Stripe.PaymentIntent> {
  const pi = await t.stripe.paymentIntents.create({ amount: 3_000, currency: 'usd', application_fee_amount: 300, transfer_data: { destination: seller.id } });
  clientSecrets.set(name, String(pi.client_secret));
  return pi;
}

describe.skipIf(!chromiumAvailable)('Stripe.js stand-in in Chromium', () => {
  it('4242: confirmPayment redirects to return_url with redirect_status=succeeded', async ({ openPage }) => {
    const pi = await order('a');
    const page = await openPage();
    await page.goto(`${shop.url}/checkout?order=a`);
    await page.getByTestId('stripe-emulator-card-number').fill('4242 4242 4242 4242');
    await page.click('#pay');
    await page.waitForURL(`${shop.url}/done**`);
    expect(await page.textContent('#status')).toBe('succeeded');
    expect(await page.textContent('#pi')).toBe(pi.id);
    expect((await t.stripe.paymentIntents.retrieve(pi.id)).status).toBe('succeeded');
    expect(shop.requests.join('\n')).not.toContain('4242424242424242');
    expect(shop.requests.join('\n')).not.toContain('4242 4242');
  });

  it('3DS: challenge page, Complete authentication, back to return_url', async ({ openPage }) => {
    const pi = await order('b');
    const page = await openPage();
    const consoleErrors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    await page.goto(`${shop.url}/checkout?order=b`);
    await page.getByTestId('stripe-emulator-card-number').fill('4000000000003220');
    await page.click('#pay');
    await page.waitForURL(`${t.url}/hosted/3ds/**`);
    expect(await page.textContent('body')).toContain('Stripe emulator');
    await page.getByTestId('3ds-complete').click();
    await page.waitForURL(`${shop.url}/done**`);
    expect(await page.textContent('#status')).toBe('succeeded');
    expect((await t.stripe.paymentIntents.retrieve(pi.id)).status).toBe('succeeded');
    expect(consoleErrors).toEqual([]); // e.g. no 401 for /favicon.ico on the emulator's pages
  });

  it('a decline shows the error and stays on the page; another card then succeeds', async ({ openPage }) => {
    const pi = await order('c');
    const page = await openPage();
    await page.goto(`${shop.url}/checkout?order=c`);
    await page.getByTestId('stripe-emulator-card-number').fill('4000000000000002');
    await page.click('#pay');
    await page.locator('#err', { hasText: /\S/ }).waitFor();
    expect(await page.textContent('#err')).toBe('Your card was declined.');
    expect(page.url()).toContain('/checkout?order=c');
    await page.getByTestId('stripe-emulator-card-number').fill('4242424242424242');
    await page.click('#pay');
    await page.waitForURL(`${shop.url}/done**`);
    expect((await t.stripe.paymentIntents.retrieve(pi.id)).status).toBe('succeeded');
  });

  it('hosted Checkout in the browser: 3DS fail shows the message, then a card pays and lands on success_url', async ({ openPage }) => {
    const s = await t.stripe.checkout.sessions.create({
      mode: 'payment',
      line_items: [{ price_data: { currency: 'usd', unit_amount: 2_500, product_data: { name: 'Poster' } }, quantity: 1 }],
      payment_intent_data: { application_fee_amount: 250, transfer_data: { destination: seller.id } },
      success_url: `${shop.url}/done?redirect_status=checkout&payment_intent={CHECKOUT_SESSION_ID}`,
      cancel_url: `${shop.url}/cancel`,
    });
    const page = await openPage();
    await page.goto(String(s.url));
    await page.fill('input[name=email]', 'buyer@example.com');
    await page.fill('input[name=card_number]', '4000002760003184');
    await page.getByTestId('pay').click();
    await page.getByTestId('3ds-fail').click();
    await page.getByTestId('error').waitFor();
    expect(await page.getByTestId('error').textContent()).toContain('failed authentication');
    await page.fill('input[name=card_number]', '4242424242424242');
    await page.getByTestId('pay').click();
    await page.waitForURL(`${shop.url}/done**`);
    expect(await page.textContent('#pi')).toBe(s.id);
    expect((await t.stripe.checkout.sessions.retrieve(s.id)).status).toBe('complete');
  });
});
