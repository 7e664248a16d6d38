// Issue 13's journeys in Chromium, with screenshots in test-artifacts/: a seller creates a plan;
// a buyer subscribes with hosted Checkout and with the Payment Element on our page; the buyer
// opens the customer portal and cancels; the seller's subscribers page; an admin refunds an invoice.
// Signed webhooks reach the app's real endpoint; the inbox is drained by the worker's code.
import { describe, expect } from 'vitest';
import { createTestUser } from '../helpers/app.ts';
import { chromiumAvailable, e2eTest as it, journey, screenshot, visible } from '../helpers/browser.ts';
import { logIn, payOnCheckoutPage, payWithPaymentElement, waitForStripePage } from '../helpers/journeys.ts';
import { enabledSeller } from '../helpers/market.ts';

describe.skipIf(!chromiumAvailable)('browser: subscriptions', () => {
  it('seller plan → hosted and custom subscriptions → portal cancel → subscribers page → admin refund', async ({ world, openPage }) => {
    const { db, emu, baseUrl, settle } = world;
    const seller = await enabledSeller(world);
    const sellerEmail = (await db.selectFrom('users').select('email').where('id', '=', seller.sellerId).executeTakeFirstOrThrow()).email;
    const buyer = await createTestUser(db, 'buyer', { displayName: 'Sam Subscriber' });
    const admin = await createTestUser(db, 'admin');
    const sellerPage = await openPage();
    const buyerPage = await openPage();
    const adminPage = await openPage();

    const planIds = await journey(sellerPage, 'subs-seller-plan', async () => {
      await logIn(sellerPage, baseUrl, sellerEmail);
      await sellerPage.goto(`${baseUrl}/seller/plans`);
      for (const [name, amount] of [
        ['Coffee club', '20.00'],
        ['Tea club', '12.00'],
      ] as const) {
        await sellerPage.getByLabel('Name').fill(name);
        await sellerPage.getByLabel('Price').fill(amount);
        if (name === 'Coffee club') await screenshot(sellerPage, 'subs-1-seller-new-plan');
        await sellerPage.getByTestId('create-plan').click();
        await visible(sellerPage.getByRole('link', { name }));
      }
      await screenshot(sellerPage, 'subs-2-seller-plans');
      return (await db.selectFrom('plans').select(['id', 'name']).orderBy('name').execute()).map((p) => p.id);
    });
    const [coffee, tea] = planIds as [string, string];

    await journey(buyerPage, 'subs-buyer-hosted', async () => {
      await logIn(buyerPage, baseUrl, buyer.email);
      await buyerPage.goto(`${baseUrl}/plans/${coffee}`);
      await screenshot(buyerPage, 'subs-3-plan-page');
      await buyerPage.getByTestId('subscribe-hosted').click();
      await waitForStripePage(buyerPage, emu.url, 'checkout');
      await payOnCheckoutPage(buyerPage, '4242 4242 4242 4242', { email: buyer.email, screenshotAs: 'subs-4-checkout-subscription' });
      await buyerPage.waitForURL((url) => url.href.startsWith(`${baseUrl}/subscriptions/`));
      expect(await buyerPage.getByTestId('outcome').textContent()).toBe('Subscribed');
      await screenshot(buyerPage, 'subs-5-hosted-subscribed');
    });

    await journey(buyerPage, 'subs-buyer-custom', async () => {
      await buyerPage.goto(`${baseUrl}/plans/${tea}`);
      await buyerPage.getByTestId('subscribe-custom').click();
      await buyerPage.waitForURL((url) => url.pathname.endsWith('/pay'));
      await payWithPaymentElement(buyerPage, '4242424242424242', { button: 'pay-button', screenshotAs: 'subs-6-custom-payment-element' });
      await buyerPage.waitForURL((url) => url.pathname.endsWith('/complete'));
      await visible(buyerPage.getByTestId('outcome'));
      expect(await buyerPage.getByTestId('outcome').textContent()).toBe('Subscribed');
    });
    await settle();

    await journey(buyerPage, 'subs-buyer-portal', async () => {
      await buyerPage.goto(`${baseUrl}/subscriptions`);
      await screenshot(buyerPage, 'subs-7-my-subscriptions');
      const teaCard = buyerPage.locator('section[data-status="active"]', { hasText: 'Tea club' });
      await teaCard.getByTestId('manage-billing').click();
      await waitForStripePage(buyerPage, emu.url, 'portal');
      await screenshot(buyerPage, 'subs-8-portal');
      const stripeId = (await db.selectFrom('subscriptions').select('stripe_subscription_id').where('plan_id', '=', tea).executeTakeFirstOrThrow())
        .stripe_subscription_id;
      await buyerPage.getByTestId(`cancel-${stripeId}`).click();
      await visible(buyerPage.getByTestId('return'));
      await buyerPage.getByTestId('return').click();
      await buyerPage.waitForURL(`${baseUrl}/subscriptions`);
      await settle();
      await buyerPage.reload();
      await visible(buyerPage.locator('section', { hasText: 'Tea club' }).getByTestId('ends'));
      await screenshot(buyerPage, 'subs-9-canceled-at-period-end');
    });

    await journey(sellerPage, 'subs-seller-subscribers', async () => {
      await sellerPage.goto(`${baseUrl}/seller/subscriptions`);
      await visible(sellerPage.getByTestId('mrr'));
      expect(await sellerPage.getByTestId('mrr').textContent()).toContain('$32.00');
      await screenshot(sellerPage, 'subs-10-seller-subscribers');
    });

    await journey(adminPage, 'subs-admin-refund', async () => {
      await logIn(adminPage, baseUrl, admin.email);
      await adminPage.goto(`${baseUrl}/admin/subscriptions`);
      await adminPage.getByRole('link', { name: 'Coffee club' }).click();
      const form = adminPage.locator('form[data-testid^="refund-"]').first();
      await form.locator('input[name="amount"]').fill('5.00');
      await screenshot(adminPage, 'subs-11-admin-subscription');
      await form.getByRole('button', { name: 'Refund' }).click();
      await visible(adminPage.getByText('Refund succeeded.'));
      await settle();
      await adminPage.reload();
      await visible(adminPage.getByText('Refund $5.00: succeeded'));
      await screenshot(adminPage, 'subs-12-admin-refunded');
    });
    const refunded = await db
      .selectFrom('invoices')
      .select(['amount_refunded', 'fee_refunded', 'transfer_reversed'])
      .where('amount_refunded', '>', 0)
      .execute();
    expect(refunded).toEqual([{ amount_refunded: 500, fee_refunded: 50, transfer_reversed: 500 }]);
  }, 180_000);
});
