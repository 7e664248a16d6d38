// Issue 16 point 2 in a browser, at a desktop's width and a phone's: a buyer types words into the
// labelled search box, picks an order, pages on with the order kept, and searches a seller's shop.
// Screenshots: test-artifacts/search/<width>-<page>.png.
import type { FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createListing } from '../../src/listings/queries.ts';
import { buildTestApp, createTestUser } from '../helpers/app.ts';
import { chromiumAvailable, journey, launchBrowser, listen, screenshot } from '../helpers/browser.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

describe.skipIf(!chromiumAvailable)('browser: searching the catalogue and a shop', () => {
  let database: TestDatabase;
  let app: FastifyInstance;
  let browser: Browser;
  let base: string;
  let sellerId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    const seller = await createTestUser(database.db, 'seller', { displayName: 'Harbour Pottery' });
    sellerId = seller.id;
    await database.db
      .insertInto('sellers')
      .values({ id: seller.id, account_state: 'enabled', charges_enabled: true, payouts_enabled: true, details_submitted: true })
      .execute();
    for (let i = 0; i < 30; i++) {
      await createListing(database.db, seller.id, {
        title: `Stoneware mug no. ${i}`,
        description: 'Glazed by hand.',
        priceAmount: 1200 + (i % 7) * 150,
        currency: 'usd',
        stock: i % 5 === 0 ? 0 : 3,
        kind: 'physical',
      });
    }
    await createListing(database.db, seller.id, {
      title: 'Serving plate',
      description: 'Goes with every mug.',
      priceAmount: 4200,
      currency: 'usd',
      stock: 1,
      kind: 'physical',
    });
    app = await buildTestApp({ db: database.db });
    base = await listen(app);
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await database?.close();
  });

  for (const width of [1280, 390] as const) {
    it(`at ${width} px: search, sort, page on with the order kept, search a shop`, async () => {
      const context = await browser.newContext(
        width === 390 ? { viewport: { width, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true } : { viewport: { width, height: 900 } },
      );
      const page = await context.newPage();
      await journey(page, `search-${width}`, async () => {
        await page.goto(`${base}/`);
        await page.getByLabel('Search listings').fill('mugs');
        await page.getByLabel('Sort by').selectOption('price_asc');
        await page.getByRole('button', { name: 'Search' }).click();
        await page.waitForURL(/q=mugs/);
        await expect(page.getByTestId('search-summary').textContent()).resolves.toContain('31 listings match “mugs”');
        await expect(page.getByTestId('sold-out').count()).resolves.toBeGreaterThan(0);
        await screenshot(page, `search/${width}-results`);
        expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(width);

        await page.getByRole('link', { name: 'More listings →' }).click();
        await page.waitForURL(/after=/);
        expect(page.url()).toContain('sort=price_asc');
        expect(await page.getByLabel('Sort by').inputValue()).toBe('price_asc');
        expect(await page.getByLabel('Search listings').inputValue()).toBe('mugs');
        await expect(page.locator('[data-listing-id]').count()).resolves.toBe(7);

        await page.goto(`${base}/sellers/${sellerId}`);
        expect(await page.getByLabel('Sort by').inputValue()).toBe(''); // newest, the default while browsing
        await page.getByLabel('Search this shop').fill('plate');
        await page.getByRole('button', { name: 'Search' }).click();
        await page.waitForURL(/q=plate/);
        await expect(page.locator('[data-listing-id]').count()).resolves.toBe(1);
        expect(await page.getByLabel('Sort by').locator('option:checked').textContent()).toBe('Best match');
        await screenshot(page, `search/${width}-shop`);
        expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(width);
      });
      await context.close();
    }, 120_000);
  }
});
