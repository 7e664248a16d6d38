// The seller's journey in a real browser: sign up, set up payouts through the emulator's hosted
// onboarding page, come back to the true state, create a listing, and find it in the catalogue.
import { createServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { testConfig } from '../helpers/app.ts';
import { chromiumAvailable, journey, launchBrowser, screenshot, visible } from '../helpers/browser.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { startTestEmulator, type TestEmulator } from '../helpers/emulator.ts';

/** A free loopback port, known before the app is built: Stripe's return_url must name it. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

describe.skipIf(!chromiumAvailable)('browser: seller onboarding and first listing', () => {
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
    // The emulator's origin stands in for Stripe's in the CSP, as in offline mode: the 303 after
    // "Set up payouts" is a form submission redirected to Stripe, which form-action must allow.
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

  it('a seller signs up, onboards at Stripe, lists a product and finds it on the home page', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    await journey(page, 'seller-onboarding', async () => {
      await page.goto(`${baseUrl}/signup?role=seller`);
      await page.getByLabel('Your name').fill('Saoirse Ceramics');
      await page.getByLabel('Email').fill('saoirse@example.test');
      await page.getByLabel('Password').fill('a-long-enough-password');
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.waitForURL(`${baseUrl}/seller`);
      await visible(page.getByText('Not set up'));
      await screenshot(page, 'seller-dashboard-not-started');

      await page.getByLabel('Where are you or your business based?').selectOption('IE');
      await page.getByRole('button', { name: 'Set up payouts' }).click();
      await page.waitForURL(`${emulator.url}/hosted/onboarding/**`);
      await visible(page.getByText('Set up payouts for saoirse@example.test'));
      await page.locator('button[data-outcome="verified"]').click();

      await page.waitForURL(`${baseUrl}/seller`);
      await visible(page.getByText('Welcome back from Stripe'));
      expect(await page.getByTestId('account-state').innerText()).toBe('Enabled');
      await visible(page.getByRole('button', { name: 'Open Stripe Express dashboard' }));

      await page.getByRole('link', { name: 'New listing' }).click();
      await page.getByLabel('Title').fill('Speckled stoneware mug');
      await page.getByLabel('Description').fill('Wheel-thrown in Galway.\nHolds 350 ml.');
      await page.getByLabel('Price').fill('0.49');
      await page.getByLabel('Currency').selectOption('eur');
      await page.getByLabel('Limited:').check();
      await page.getByLabel('Stock', { exact: true }).fill('12');
      await page.getByRole('button', { name: 'Create listing' }).click();
      // Below Stripe's minimum: the message sits beside the price and the rest of the input is kept.
      await visible(page.getByText('The minimum price in EUR is €0.50'));
      expect(await page.getByLabel('Title').inputValue()).toBe('Speckled stoneware mug');
      await screenshot(page, 'listing-form-error');
      expect(await page.getByLabel('Stock', { exact: true }).inputValue()).toBe('12');
      await page.getByLabel('Price').fill('28.50');
      await page.getByRole('button', { name: 'Create listing' }).click();
      await page.waitForURL(`${baseUrl}/seller`);
      await visible(page.getByText('“Speckled stoneware mug” is listed.'));
      await visible(page.getByRole('cell', { name: '€28.50' }));
      await screenshot(page, 'seller-dashboard');
      await page.setViewportSize({ width: 390, height: 844 });
      await screenshot(page, 'seller-dashboard-phone');
      await page.setViewportSize({ width: 1100, height: 900 });

      await page.getByRole('link', { name: 'Marketplace' }).first().click();
      await page.waitForURL(`${baseUrl}/`);
      await visible(page.getByText('Speckled stoneware mug'));
      await page.getByText('Speckled stoneware mug').click();
      await visible(page.getByText('12 in stock'));
      await visible(page.getByRole('link', { name: 'Saoirse Ceramics' }));
      await screenshot(page, 'listing-page');
    });
  });

  it('a seller whose documents are still due sees what is due, the deadline and how to fix it', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    await journey(page, 'seller-restricted', async () => {
      await page.goto(`${baseUrl}/signup?role=seller`);
      await page.getByLabel('Your name').fill('Rui Prints');
      await page.getByLabel('Email').fill('rui@example.test');
      await page.getByLabel('Password').fill('a-long-enough-password');
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.waitForURL(`${baseUrl}/seller`);
      await page.getByRole('button', { name: 'Set up payouts' }).click();
      await page.locator('button[data-outcome="requirements_due"]').click();
      await page.waitForURL(`${baseUrl}/seller`);
      expect(await page.getByTestId('account-state').innerText()).toBe('Action needed');
      await visible(page.getByText('An identity document (passport, ID card or driving licence)'));
      await visible(page.getByTestId('requirements-deadline'));
      await visible(page.getByRole('button', { name: 'Provide the missing information' }));
      await screenshot(page, 'seller-dashboard-restricted');
      // The button goes back to Stripe's hosted form with a fresh link.
      await page.getByRole('button', { name: 'Provide the missing information' }).click();
      await page.waitForURL(`${emulator.url}/hosted/onboarding/**`);
    });
  });
});
