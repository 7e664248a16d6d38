// The saved-card journey in Chromium (issue 12): a buyer saves a 3155 card on the payment-methods
// page (Payment Element + SetupIntent; the bank's challenge completed), buys in one click with it,
// saves a 3184 card and buys in one click with it (the challenge shown and completed), removes a
// card after the confirmation page; a saved 0341 card's one-click purchase is declined with a clear
// message and the stock comes back. Screenshots at desktop and phone width go to test-artifacts/.
import type { FastifyInstance } from 'fastify';
import { createServer } from 'node:net';
import type { Browser, Page } from 'playwright-core';
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

const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

describe.skipIf(!chromiumAvailable)('browser: saved cards and one-click purchase', () => {
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

  const stockOf = async (listingId: string) => (await database.db.selectFrom('listings').select('stock').where('id', '=', listingId).executeTakeFirstOrThrow()).stock;

  async function logIn(page: Page, email: string) {
    await page.goto(`${baseUrl}/login`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await visible(page.getByRole('link', { name: 'My orders' }));
  }

  /** Payment methods → "Add a card on this site" → the Payment Element → Save → the bank's challenge if asked. */
  async function saveCard(page: Page, number: string, name: string, expectChallenge: boolean) {
    await page.goto(`${baseUrl}/account/payment-methods`);
    await page.getByTestId('add-card-here').click();
    await page.waitForURL((url) => /\/account\/payment-methods\/setups\/[0-9a-f-]+$/.test(url.pathname));
    const field = page.getByTestId('stripe-emulator-card-number');
    await visible(field);
    await field.fill(number);
    await screenshot(page, `saved-cards-add-${name}-element`);
    await page.getByTestId('save-card').click();
    if (expectChallenge) {
      await page.waitForURL((url) => url.href.startsWith(`${emulator.url}/hosted/setup_3ds/`));
      await visible(page.getByTestId('3ds-complete'));
      await screenshot(page, `saved-cards-add-${name}-challenge`);
      await page.getByTestId('3ds-complete').click();
    }
    await page.waitForURL((url) => url.href.startsWith(`${baseUrl}/account/payment-methods/setups/`) && url.pathname.endsWith('/done'));
    expect(await page.getByTestId('outcome').textContent()).toBe('Card saved');
    await screenshot(page, `saved-cards-add-${name}-saved`);
  }

  /** "Buy with Visa •••• <last4>" on the listing; completes the bank's challenge when it is shown. Returns whether it was. */
  async function buyOneClick(page: Page, listingId: string, last4: string, name: string): Promise<boolean> {
    await page.goto(`${baseUrl}/listings/${listingId}`);
    const button = page.getByRole('button', { name: `Buy with Visa •••• ${last4}` });
    await visible(button);
    await screenshot(page, `saved-cards-buy-${name}-listing`);
    await button.click();
    await page.waitForURL((url) => url.href.startsWith(`${emulator.url}/hosted/3ds/`) || url.pathname.endsWith('/complete'));
    const challenged = page.url().startsWith(`${emulator.url}/hosted/3ds/`);
    if (challenged) {
      await visible(page.getByTestId('3ds-complete'));
      await screenshot(page, `saved-cards-buy-${name}-challenge`);
      await page.getByTestId('3ds-complete').click();
      await page.waitForURL((url) => url.href.startsWith(`${baseUrl}/orders/`) && url.pathname.endsWith('/complete'));
    }
    await visible(page.getByTestId('outcome'));
    expect(await page.getByTestId('outcome').textContent()).toBe('Paid');
    await screenshot(page, `saved-cards-buy-${name}-paid`);
    return challenged;
  }

  it('3155 saved with the challenge and bought with; 3184 bought with the challenge; a card removed; 0341 declined with the stock back', async () => {
    const seller = await enabledSeller(app, emulator);
    const listing = await addListing(database.db, seller.sellerId, { price: 3200, stock: 5, title: 'Walnut serving board' });
    const buyer = await createTestUser(database.db, 'buyer', { displayName: 'Cara Card' });
    const page = await browser.newPage({ viewport: DESKTOP });
    const consoleErrors: string[] = [];
    page.on('console', (message) => {
      // The declined purchase's page is answered 402 on purpose; Chromium logs every 4xx document.
      const declinedPage = message.text().includes('status of 402') && message.location().url.endsWith('/saved-card');
      if (message.type() === 'error' && !message.location().url.endsWith('/favicon.ico') && !declinedPage) consoleErrors.push(`${message.text()} ${message.location().url}`);
    });

    await journey(page, 'saved-cards', async () => {
      await logIn(page, buyer.email);
      await page.goto(`${baseUrl}/account/payment-methods`);
      await visible(page.getByTestId('no-cards'));
      await screenshot(page, 'saved-cards-1-empty');

      await saveCard(page, '4000 0025 0000 3155', '3155', true);
      await buyOneClick(page, listing.id, '3155', '3155');

      await saveCard(page, '4000 0027 6000 3184', '3184', true);
      expect(await buyOneClick(page, listing.id, '3184', '3184')).toBe(true); // the challenge was shown and completed
      expect(await stockOf(listing.id)).toBe(3);

      await page.goto(`${baseUrl}/account/payment-methods`);
      await visible(page.getByTestId('cards'));
      expect(await page.getByTestId('card').count()).toBe(2);
      await screenshot(page, 'saved-cards-2-two-cards');
      await page.setViewportSize(PHONE);
      await screenshot(page, 'saved-cards-2-two-cards-phone');
      await page.goto(`${baseUrl}/listings/${listing.id}`);
      await screenshot(page, 'saved-cards-2-listing-phone');
      await page.setViewportSize(DESKTOP);

      // Remove the 3184 card, after the confirmation page.
      await page.goto(`${baseUrl}/account/payment-methods`);
      await page.locator('[data-testid="card"][data-last4="3184"]').getByTestId('remove').click();
      await visible(page.getByTestId('confirm-remove'));
      await screenshot(page, 'saved-cards-3-remove-confirm');
      await page.getByTestId('confirm-remove').click();
      await visible(page.getByText('Card removed.'));
      const rows = await page.locator('[data-testid="card"]').all();
      expect(await Promise.all(rows.map((row) => row.getAttribute('data-last4')))).toEqual(['3155']);
      await screenshot(page, 'saved-cards-3-removed');

      // 0341 saves fine; its one-click purchase is declined.
      await saveCard(page, '4000 0000 0000 0341', '0341', false);
      await page.goto(`${baseUrl}/listings/${listing.id}`);
      await page.getByRole('button', { name: 'Buy with Visa •••• 0341' }).click();
      await visible(page.getByTestId('refusal'));
      expect(await page.getByTestId('refusal').textContent()).toBe('Your bank declined the payment with this card. Nothing was charged, and the item is still available. Try another card.');
      await screenshot(page, 'saved-cards-4-declined');
      await page.setViewportSize(PHONE);
      await screenshot(page, 'saved-cards-4-declined-phone');
      expect(await stockOf(listing.id)).toBe(3);
    });

    expect(consoleErrors).toEqual([]);
    const orders = await database.db.selectFrom('orders').select(['status', 'flow', 'amount', 'application_fee_amount']).where('listing_id', '=', listing.id).orderBy('created_at').execute();
    expect(orders).toEqual([
      { status: 'paid', flow: 'saved_card', amount: 3200, application_fee_amount: 320 },
      { status: 'paid', flow: 'saved_card', amount: 3200, application_fee_amount: 320 },
      { status: 'payment_failed', flow: 'saved_card', amount: 3200, application_fee_amount: 320 },
    ]);
    const pm3184 = await database.db.selectFrom('buyer_payment_methods').select('id').where('buyer_id', '=', buyer.id).where('last4', '=', '3184').executeTakeFirstOrThrow();
    expect((await emulator.stripe.paymentMethods.retrieve(pm3184.id)).customer).toBeNull();
  }, 180_000);
});
