// The buyer's journey in Chromium: log in, open a listing, "Buy now" → the emulator's hosted
// Checkout page → pay with 4242 → our completion page says Paid; then again with 3155, completing
// the 3DS challenge on the emulator's page; both orders are Paid in "My orders". Screenshots go to
// test-artifacts/.
import { describe, expect } from 'vitest';
import { createTestUser } from '../helpers/app.ts';
import { chromiumAvailable, consoleErrors, e2eTest as it, journey, screenshot, visible } from '../helpers/browser.ts';
import { completeChallenge, logIn, orderOutcome, payOnCheckoutPage, payWithPaymentElement, waitForStripePage } from '../helpers/journeys.ts';
import { addListing, enabledSeller } from '../helpers/market.ts';

describe.skipIf(!chromiumAvailable)('browser: a buyer pays through hosted Checkout, with and without 3DS', () => {
  it('4242 then 3155 with the 3DS challenge: both orders end paid', async ({ world, openPage }) => {
    const { db, emu, baseUrl } = world;
    const seller = await enabledSeller(world);
    const listing = await addListing(db, seller.sellerId, { price: 2450, stock: 5, title: 'Hand-thrown mug' });
    const buyer = await createTestUser(db, 'buyer', { displayName: 'Bea Buyer' });
    const page = await openPage();

    await journey(page, 'buyer-checkout', async () => {
      await logIn(page, baseUrl, buyer.email);
      await visible(page.getByRole('link', { name: 'My orders' }));

      for (const [card, name] of [
        ['4242 4242 4242 4242', '4242'],
        ['4000 0025 0000 3155', '3155'],
      ] as const) {
        await page.goto(`${baseUrl}/listings/${listing.id}`);
        await visible(page.getByRole('button', { name: 'Buy now' }));
        if (name === '4242') await screenshot(page, 'checkout-1-listing');
        await page.getByRole('button', { name: 'Buy now' }).click();
        await waitForStripePage(page, emu.url, 'checkout');
        await visible(page.getByText('Pay $24.50').first());
        await payOnCheckoutPage(page, card, { screenshotAs: `checkout-2-stripe-page-${name}` });
        if (name === '3155') await completeChallenge(page, emu.url, { screenshotAs: 'checkout-3-3ds-challenge' });
        expect(await orderOutcome(page, baseUrl)).toBe('Paid');
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

    const orders = await db.selectFrom('orders').select(['status', 'amount', 'application_fee_amount']).where('listing_id', '=', listing.id).execute();
    expect(orders).toEqual([
      { status: 'paid', amount: 2450, application_fee_amount: 245 },
      { status: 'paid', amount: 2450, application_fee_amount: 245 },
    ]);
    const stock = await db.selectFrom('listings').select('stock').where('id', '=', listing.id).executeTakeFirstOrThrow();
    expect(stock.stock).toBe(3);
  }, 120_000);

  it('the custom flow: the Payment Element (Stripe.js) on our page, 4242 and then a 3DS card; both paid', async ({ world, openPage }) => {
    const { db, emu, baseUrl } = world;
    const seller = await enabledSeller(world);
    const listing = await addListing(db, seller.sellerId, { price: 1800, stock: 4, title: 'Linen apron' });
    const buyer = await createTestUser(db, 'buyer');
    const page = await openPage();
    const errors = consoleErrors(page);

    await journey(page, 'buyer-custom-flow', async () => {
      await logIn(page, baseUrl, buyer.email);
      await visible(page.getByRole('link', { name: 'My orders' }));

      for (const [card, name] of [
        ['4242424242424242', '4242'],
        ['4000000000003220', '3220'],
      ] as const) {
        await page.goto(`${baseUrl}/listings/${listing.id}`);
        await page.getByRole('button', { name: 'Pay with card on this site' }).click();
        await page.waitForURL((url) => /\/orders\/[0-9a-f-]+\/pay$/.test(url.pathname));
        await payWithPaymentElement(page, card, { button: 'pay-button', screenshotAs: `custom-1-payment-element-${name}` });
        if (name === '3220') await completeChallenge(page, emu.url);
        expect(await orderOutcome(page, baseUrl)).toBe('Paid');
        expect(new URL(page.url()).searchParams.get('payment_intent')).toMatch(/^pi_/);
        await screenshot(page, `custom-2-paid-${name}`);
      }
    });
    expect(errors).toEqual([]); // e.g. nothing blocked by the content security policy
    const orders = await db.selectFrom('orders').select(['status', 'flow']).where('listing_id', '=', listing.id).execute();
    expect(orders).toEqual([
      { status: 'paid', flow: 'custom' },
      { status: 'paid', flow: 'custom' },
    ]);
  }, 120_000);
});
