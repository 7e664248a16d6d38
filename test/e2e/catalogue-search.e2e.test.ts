// Issue 16 point 2 in a browser, at a desktop's width and a phone's: a buyer types words into the
// labelled search box, picks an order, pages on with the order kept, and searches a seller's shop.
// Screenshots: test-artifacts/search/<width>-<page>.png.
import { describe, expect } from 'vitest';
import { createListing } from '../../src/listings/queries.ts';
import { createTestUser } from '../helpers/app.ts';
import { chromiumAvailable, e2eTest, journey, screenshot } from '../helpers/browser.ts';
import { createSeller } from '../helpers/market.ts';

/** The world with a shop in it, made once for the file: 30 mugs (every fifth sold out) and a plate; its seller's id. */
const it = e2eTest.extend('sellerId', { scope: 'file' }, async ({ world }) => {
  const user = await createTestUser(world.db, 'seller', { displayName: 'Harbour Pottery' });
  await createSeller(world, { userId: user.id });
  for (let i = 0; i < 30; i++) {
    await createListing(world.db, user.id, {
      title: `Stoneware mug no. ${i}`,
      description: 'Glazed by hand.',
      priceAmount: 1200 + (i % 7) * 150,
      currency: 'usd',
      stock: i % 5 === 0 ? 0 : 3,
      kind: 'physical',
    });
  }
  await createListing(world.db, user.id, {
    title: 'Serving plate',
    description: 'Goes with every mug.',
    priceAmount: 4200,
    currency: 'usd',
    stock: 1,
    kind: 'physical',
  });
  return user.id;
});

describe.skipIf(!chromiumAvailable)('browser: searching the catalogue and a shop', () => {
  for (const width of [1280, 390] as const) {
    it(`at ${width} px: search, sort, page on with the order kept, search a shop`, async ({ world: { baseUrl: base }, sellerId, openPage }) => {
      const page = await openPage(
        width === 390 ? { viewport: { width, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true } : { viewport: { width, height: 900 } },
      );
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
    }, 120_000);
  }
});
