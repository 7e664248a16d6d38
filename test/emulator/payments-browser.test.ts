/**
 * The Stripe.js stand-in in a real browser (Debian's Chromium through playwright-core): a shop
 * page on another origin loads `/js/v3.js` from the emulator, mounts the Payment Element and calls
 * `stripe.confirmPayment`. The card number must reach only the emulator, never the shop server.
 * Skipped (with a notice) when Chromium is not installed.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Stripe from 'stripe';
import type { Browser } from 'playwright-core';
import { chromiumAvailable, launchBrowser } from '../helpers/browser.ts';
import { startTestEmulator, createExpressAccount, type TestEmulator } from './helpers.ts';

let t: TestEmulator;
let seller: Stripe.Account;
let browser: Browser | undefined;
let shop: http.Server;
let shopUrl = '';
const shopRequests: string[] = [];
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
      const { error } = await stripe.confirmPayment({ elements, confirmParams: { return_url: ${JSON.stringify(`${shopUrl}/done`)} } });
      if (error) document.getElementById('err').textContent = error.message;
    });
  </script></body></html>`;
}

beforeAll(async () => {
  t = await startTestEmulator();
  seller = await createExpressAccount(t, { outcome: 'verified', interval: 'manual' });
  shop = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      shopRequests.push(`${req.method} ${req.url} ${Buffer.concat(chunks).toString('utf8')}`);
      const u = new URL(req.url ?? '/', shopUrl);
      res.setHeader('content-type', 'text/html');
      if (u.pathname === '/checkout') {
        res.end(shopPage(clientSecrets.get(u.searchParams.get('order') ?? '') ?? ''));
      } else if (u.pathname === '/done') {
        res.end(`<p id="status">${u.searchParams.get('redirect_status')}</p><p id="pi">${u.searchParams.get('payment_intent')}</p>`);
      } else {
        res.statusCode = 404;
        res.end('not found');
      }
    });
  });
  await new Promise<void>((resolve) => shop.listen(0, '127.0.0.1', () => resolve()));
  const addr = shop.address();
  shopUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  if (chromiumAvailable) browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => shop.close(() => resolve()));
  await t.flush();
  await t.stop();
});

async function order(name: string): Promise<Stripe.PaymentIntent> {
  const pi = await t.stripe.paymentIntents.create({ amount: 3_000, currency: 'usd', application_fee_amount: 300, transfer_data: { destination: seller.id } });
  clientSecrets.set(name, String(pi.client_secret));
  return pi;
}

describe.skipIf(!chromiumAvailable)('Stripe.js stand-in in Chromium', () => {
  it('4242: confirmPayment redirects to return_url with redirect_status=succeeded', async () => {
    const pi = await order('a');
    const page = await (browser as Browser).newPage();
    await page.goto(`${shopUrl}/checkout?order=a`);
    await page.getByTestId('stripe-emulator-card-number').fill('4242 4242 4242 4242');
    await page.click('#pay');
    await page.waitForURL(`${shopUrl}/done**`);
    expect(await page.textContent('#status')).toBe('succeeded');
    expect(await page.textContent('#pi')).toBe(pi.id);
    expect((await t.stripe.paymentIntents.retrieve(pi.id)).status).toBe('succeeded');
    expect(shopRequests.join('\n')).not.toContain('4242424242424242');
    expect(shopRequests.join('\n')).not.toContain('4242 4242');
    await page.close();
  });

  it('3DS: challenge page, Complete authentication, back to return_url', async () => {
    const pi = await order('b');
    const page = await (browser as Browser).newPage();
    const consoleErrors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    await page.goto(`${shopUrl}/checkout?order=b`);
    await page.getByTestId('stripe-emulator-card-number').fill('4000000000003220');
    await page.click('#pay');
    await page.waitForURL(`${t.url}/hosted/3ds/**`);
    expect(await page.textContent('body')).toContain('Stripe emulator');
    await page.getByTestId('3ds-complete').click();
    await page.waitForURL(`${shopUrl}/done**`);
    expect(await page.textContent('#status')).toBe('succeeded');
    expect((await t.stripe.paymentIntents.retrieve(pi.id)).status).toBe('succeeded');
    expect(consoleErrors).toEqual([]); // e.g. no 401 for /favicon.ico on the emulator's pages
    await page.close();
  });

  it('a decline shows the error and stays on the page; another card then succeeds', async () => {
    const pi = await order('c');
    const page = await (browser as Browser).newPage();
    await page.goto(`${shopUrl}/checkout?order=c`);
    await page.getByTestId('stripe-emulator-card-number').fill('4000000000000002');
    await page.click('#pay');
    await page.locator('#err', { hasText: /\S/ }).waitFor();
    expect(await page.textContent('#err')).toBe('Your card was declined.');
    expect(page.url()).toContain('/checkout?order=c');
    await page.getByTestId('stripe-emulator-card-number').fill('4242424242424242');
    await page.click('#pay');
    await page.waitForURL(`${shopUrl}/done**`);
    expect((await t.stripe.paymentIntents.retrieve(pi.id)).status).toBe('succeeded');
    await page.close();
  });

  it('hosted Checkout in the browser: 3DS fail shows the message, then a card pays and lands on success_url', async () => {
    const s = await t.stripe.checkout.sessions.create({
      mode: 'payment',
      line_items: [{ price_data: { currency: 'usd', unit_amount: 2_500, product_data: { name: 'Poster' } }, quantity: 1 }],
      payment_intent_data: { application_fee_amount: 250, transfer_data: { destination: seller.id } },
      success_url: `${shopUrl}/done?redirect_status=checkout&payment_intent={CHECKOUT_SESSION_ID}`,
      cancel_url: `${shopUrl}/cancel`,
    });
    const page = await (browser as Browser).newPage();
    await page.goto(String(s.url));
    await page.fill('input[name=email]', 'buyer@example.com');
    await page.fill('input[name=card_number]', '4000002760003184');
    await page.getByTestId('pay').click();
    await page.getByTestId('3ds-fail').click();
    await page.getByTestId('error').waitFor();
    expect(await page.getByTestId('error').textContent()).toContain('failed authentication');
    await page.fill('input[name=card_number]', '4242424242424242');
    await page.getByTestId('pay').click();
    await page.waitForURL(`${shopUrl}/done**`);
    expect(await page.textContent('#pi')).toBe(s.id);
    expect((await t.stripe.checkout.sessions.retrieve(s.id)).status).toBe('complete');
    await page.close();
  });
});
