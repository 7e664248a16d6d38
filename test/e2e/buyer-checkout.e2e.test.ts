// The buyer's journey in Chromium: log in, open a listing, "Buy now" → the emulator's hosted
// Checkout page → pay with 4242 → our completion page says Paid; then again with 3155, completing
// the 3DS challenge on the emulator's page; both orders are Paid in "My orders". Screenshots go to
// test-artifacts/.
import type { FastifyInstance } from 'fastify';
import { createServer } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { createTestUser, TEST_PASSWORD, testConfig } from '../helpers/app.ts';
import { chromiumAvailable, journey, launchBrowser, screenshot, visible } from '../helpers/browser.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { startTestEmulator, type TestEmulator } from '../helpers/emulator.ts';
import { addListing, enabledSeller } from '../orders/helpers.ts';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

describe.skipIf(!chromiumAvailable)('browser: a buyer pays through hosted Checkout, with and without 3DS', () => {
  let database: TestDatabase;
  let emulator: TestEmulator;
  let app: FastifyInstance;
  let browser: Browser;
  let baseUrl: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    emulator = await startTestEmulator();
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    // Stripe redirects the browser back to PUBLIC_URL, and the page's CSP must allow the emulator's pages.
    app = await buildApp({ config: testConfig({ PUBLIC_URL: baseUrl }), db: database.db, stripe: emulator.stripe, stripeOrigins: [emulator.url], logger: false });
    await app.listen({ port, host: '127.0.0.1' });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await emulator?.stop();
    await database?.close();
  });

  it('4242 then 3155 with the 3DS challenge: both orders end paid', async () => {
    const seller = await enabledSeller(app, emulator);
    const listing = await addListing(database.db, seller.sellerId, { price: 2450, stock: 5, title: 'Hand-thrown mug' });
    const buyer = await createTestUser(database.db, 'buyer', { displayName: 'Bea Buyer' });
    const page = await browser.newPage();

    await journey(page, 'buyer-checkout', async () => {
      await page.goto(`${baseUrl}/login`);
      await page.getByLabel('Email').fill(buyer.email);
      await page.getByLabel('Password').fill(TEST_PASSWORD);
      await page.getByRole('button', { name: 'Log in' }).click();
      await visible(page.getByRole('link', { name: 'My orders' }));

      for (const [card, name] of [['4242 4242 4242 4242', '4242'], ['4000 0025 0000 3155', '3155']] as const) {
        await page.goto(`${baseUrl}/listings/${listing.id}`);
        await visible(page.getByRole('button', { name: 'Buy now' }));
        if (name === '4242') await screenshot(page, 'checkout-1-listing');
        await page.getByRole('button', { name: 'Buy now' }).click();
        await page.waitForURL((url) => url.href.startsWith(`${emulator.url}/hosted/checkout/`));
        await visible(page.getByText('Pay $24.50').first());
        await page.getByLabel('Card number').fill(card);
        await screenshot(page, `checkout-2-stripe-page-${name}`);
        await page.getByTestId('pay').click();
        if (name === '3155') {
          await page.waitForURL((url) => url.href.startsWith(`${emulator.url}/hosted/3ds/`));
          await visible(page.getByTestId('3ds-complete'));
          await screenshot(page, 'checkout-3-3ds-challenge');
          await page.getByTestId('3ds-complete').click();
        }
        await page.waitForURL((url) => url.href.startsWith(`${baseUrl}/orders/`) && url.pathname.endsWith('/complete'));
        await visible(page.getByTestId('outcome'));
        expect(await page.getByTestId('outcome').textContent()).toBe('Paid');
        await screenshot(page, `checkout-4-paid-${name}`);
      }

      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My orders' }).click();
      await visible(page.getByTestId('orders'));
      const rows = page.locator('[data-testid="orders"] tbody tr');
      expect(await rows.count()).toBe(2);
      expect(await rows.locator('.badge').allTextContents()).toEqual(['Paid', 'Paid']);
      await screenshot(page, 'checkout-5-my-orders');
      await rows.first().getByRole('link').click();
      await visible(page.getByTestId('receipt'));
      await screenshot(page, 'checkout-6-receipt');
    });

    const orders = await database.db.selectFrom('orders').select(['status', 'amount', 'application_fee_amount']).where('listing_id', '=', listing.id).execute();
    expect(orders).toEqual([
      { status: 'paid', amount: 2450, application_fee_amount: 245 },
      { status: 'paid', amount: 2450, application_fee_amount: 245 },
    ]);
    const stock = await database.db.selectFrom('listings').select('stock').where('id', '=', listing.id).executeTakeFirstOrThrow();
    expect(stock.stock).toBe(3);
  }, 120_000);

  it('the custom flow: the Payment Element (Stripe.js) on our page, 4242 and then a 3DS card; both paid', async () => {
    const seller = await enabledSeller(app, emulator);
    const listing = await addListing(database.db, seller.sellerId, { price: 1800, stock: 4, title: 'Linen apron' });
    const buyer = await createTestUser(database.db, 'buyer');
    const page = await browser.newPage();
    const consoleErrors: string[] = [];
    // Errors in the page (a script blocked by the CSP, a failed Stripe.js call); the browser's own
    // favicon requests (no favicon here or at the emulator) are not the page's.
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.location().url.endsWith('/favicon.ico')) consoleErrors.push(`${message.text()} ${message.location().url}`);
    });

    await journey(page, 'buyer-custom-flow', async () => {
      await page.goto(`${baseUrl}/login`);
      await page.getByLabel('Email').fill(buyer.email);
      await page.getByLabel('Password').fill(TEST_PASSWORD);
      await page.getByRole('button', { name: 'Log in' }).click();
      await visible(page.getByRole('link', { name: 'My orders' }));

      for (const [card, name] of [['4242424242424242', '4242'], ['4000000000003220', '3220']] as const) {
        await page.goto(`${baseUrl}/listings/${listing.id}`);
        await page.getByRole('button', { name: 'Pay with card on this site' }).click();
        await page.waitForURL((url) => /\/orders\/[0-9a-f-]+\/pay$/.test(url.pathname));
        // The card field belongs to Stripe.js (the emulator's stand-in), not to our form.
        const cardField = page.getByTestId('stripe-emulator-card-number');
        await visible(cardField);
        await cardField.fill(card);
        await screenshot(page, `custom-1-payment-element-${name}`);
        await page.getByTestId('pay-button').click();
        if (name === '3220') {
          await page.waitForURL((url) => url.href.startsWith(`${emulator.url}/hosted/3ds/`));
          await page.getByTestId('3ds-complete').click();
        }
        await page.waitForURL((url) => url.href.startsWith(`${baseUrl}/orders/`) && url.pathname.endsWith('/complete'));
        expect(new URL(page.url()).searchParams.get('payment_intent')).toMatch(/^pi_/);
        await visible(page.getByTestId('outcome'));
        expect(await page.getByTestId('outcome').textContent()).toBe('Paid');
        await screenshot(page, `custom-2-paid-${name}`);
      }
    });
    expect(consoleErrors).toEqual([]); // e.g. nothing blocked by the content security policy
    const orders = await database.db.selectFrom('orders').select(['status', 'flow']).where('listing_id', '=', listing.id).execute();
    expect(orders).toEqual([{ status: 'paid', flow: 'custom' }, { status: 'paid', flow: 'custom' }]);
  }, 120_000);
});
