// A buyer presses "Buy now" and Stripe does not answer (the connection is dropped, twice: the SDK
// retries once by itself). The page says what happened and that nothing was charged, and its
// "Try again" sends the same form again: the buyer reaches Stripe's Checkout for the same order.
// Screenshots: test-artifacts/no-answer/<width>.png.
import { describe, expect } from 'vitest';
import { createListing } from '../../src/listings/queries.ts';
import { createTestUser } from '../helpers/app.ts';
import { chromiumAvailable, e2eTest as it, journey, screenshot, visible } from '../helpers/browser.ts';
import { logIn } from '../helpers/journeys.ts';
import { createSeller } from '../helpers/market.ts';

describe.skipIf(!chromiumAvailable)('browser: Stripe does not answer the Buy button', () => {
  for (const width of [1280, 390] as const) {
    it(`at ${width} px: the buyer is told nothing was charged and "Try again" reaches Checkout for the same order`, async ({ world, openPage }) => {
      const sellerUser = await createTestUser(world.db, 'seller', { displayName: `Quiet Kiln ${width}` });
      await createSeller(world, { userId: sellerUser.id });
      const listing = await createListing(world.db, sellerUser.id, {
        title: 'Ash-glazed bowl',
        description: 'Thrown on the wheel.',
        priceAmount: 3400,
        currency: 'usd',
        stock: 3,
        kind: 'digital',
      });
      const buyer = await createTestUser(world.db, 'buyer');
      const page = await openPage(
        width === 390 ? { viewport: { width, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true } : { viewport: { width, height: 900 } },
      );
      await journey(page, `no-answer-${width}`, async () => {
        await logIn(page, world.baseUrl, buyer.email);
        await page.goto(`${world.baseUrl}/listings/${listing.id}`);
        await page.locator('#quantity').fill('2');
        await world.emu.control('POST', '/_emulator/faults', { path: '/v1/checkout/sessions', method: 'POST', kind: 'drop', count: 2 });
        await page.getByTestId('buy').click();

        await visible(page.getByRole('heading', { name: 'Payment not started' }));
        expect(await page.getByTestId('refusal').textContent()).toContain('Nothing has been charged');
        expect(await (page.evaluate('document.documentElement.scrollWidth') as Promise<number>)).toBeLessThanOrEqual(width);
        await screenshot(page, `no-answer/${width}`);
        const waiting = await world.db.selectFrom('orders').selectAll().where('listing_id', '=', listing.id).execute();
        expect(waiting).toHaveLength(1);
        expect(waiting[0]).toMatchObject({ status: 'pending', quantity: 2, stripe_checkout_session_id: null });

        await page.getByTestId('retry').click();
        await page.waitForURL((url) => url.pathname.includes('/hosted/checkout/cs_test_'));
        const orders = await world.db.selectFrom('orders').selectAll().where('listing_id', '=', listing.id).execute();
        expect(orders).toHaveLength(1);
        expect(page.url()).toContain(orders[0]!.stripe_checkout_session_id!);
      });
    });
  }
});
