// Browser journey: a seller opens Money from the dashboard and reads their balance and payouts, at a
// desktop's width and a phone's, with nothing wider than the screen; the orders CSV downloads from
// the page. Screenshots in test-artifacts/seller-money-*.png.
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect } from 'vitest';
import { browserTest as it, chromiumAvailable, DESKTOP, journey, PHONE_PROFILE, screenshot, visible } from '../helpers/browser.ts';
import { useWorld } from '../helpers/fixture.ts';
import { logIn } from '../helpers/journeys.ts';
import { createPaidOrder, createSeller, type TestSeller } from '../helpers/market.ts';

describe.skipIf(!chromiumAvailable)("browser: the seller's Money page", () => {
  const w = useWorld({ browser: true });
  let seller: TestSeller;

  beforeAll(async () => {
    seller = await createSeller(w, { manualPayouts: true });
    await createPaidOrder(w, seller, { amount: 12_345 });
    await createPaidOrder(w, seller, { amount: 4_800, paymentMethod: 'pm_card_visa' });
    await w.stripe.payouts.create({ amount: 5_000, currency: 'usd' }, { stripeAccount: seller.accountId });
    await w.settle();
    const created = new Date(Date.now() - 3 * 86_400_000);
    await w.db
      .insertInto('payouts')
      .values({
        id: 'po_e2eFailed',
        account: seller.accountId,
        seller_id: seller.user.id,
        amount: 2_500,
        currency: 'usd',
        status: 'failed',
        automatic: true,
        arrival_date: created,
        failure_code: 'account_closed',
        failure_message: 'The bank account has been closed. Update your bank details in your Express dashboard.',
        stripe_created: created,
        observed_at: created,
      })
      .execute();
  });

  const measure = (page: Page) =>
    page.evaluate('({ documentWidth: document.documentElement.scrollWidth, layoutWidth: window.innerWidth })') as Promise<{
      documentWidth: number;
      layoutWidth: number;
    }>;

  for (const width of [DESKTOP.width, PHONE_PROFILE.viewport!.width] as const) {
    it(`at ${width} px: from the dashboard to Money, balance and payouts readable, nothing wider than the screen`, async ({ openPage }) => {
      const page = await openPage({ ...(width === DESKTOP.width ? { viewport: DESKTOP } : PHONE_PROFILE), acceptDownloads: true });
      page.setDefaultTimeout(15_000);
      await journey(page, `seller-money-${width}`, async () => {
        await logIn(page, w.baseUrl, seller.user.email);
        await page.goto(`${w.baseUrl}/seller`);
        await page.getByTestId('seller-money-link').click();
        await page.waitForURL((url) => url.pathname === '/seller/money');
        await visible(page.getByTestId('balance-table'));
        expect(await page.locator('tr[data-currency="usd"] [data-testid="available"]').textContent()).toBe('$61.10'); // 123.45 − 12.35 fee − 50.00 paid out
        expect(await page.locator('tr[data-currency="usd"] [data-testid="pending"]').textContent()).toBe('$43.20');
        await visible(page.getByText('The bank account has been closed.'));
        const size = await measure(page);
        await screenshot(page, `seller-money-${width}`);
        expect(size.documentWidth).toBeLessThanOrEqual(width);
        expect(size.layoutWidth).toBeLessThanOrEqual(width);
        const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Orders (CSV)' }).click()]);
        expect(download.suggestedFilename()).toMatch(/^orders-\d{4}-\d{2}-\d{2}\.csv$/);
      });
    }, 120_000);
  }
});
