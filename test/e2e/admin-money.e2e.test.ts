// Browser journey: an admin logs in, refunds part of an order (form → confirmation → done, with the
// breakdown updated), then drafts and submits dispute evidence. Screenshots in test-artifacts/.
import { beforeAll, describe, expect } from 'vitest';
import { browserTest as it, chromiumAvailable, journey, NARROW_DESKTOP, screenshot, visible } from '../helpers/browser.ts';
import { useWorld } from '../helpers/fixture.ts';
import { logIn } from '../helpers/journeys.ts';
import { createPaidOrder, createSeller } from '../helpers/market.ts';

describe.skipIf(!chromiumAvailable)('browser: admin refunds part of an order and submits dispute evidence', () => {
  const w = useWorld({ browser: true, admin: true });
  let orderId: string;
  let disputeId: string;

  beforeAll(async () => {
    const seller = await createSeller(w, { manualPayouts: true });
    orderId = (await createPaidOrder(w, seller, { amount: 10_000 })).id;
    const disputedOrder = (await createPaidOrder(w, seller, { amount: 4_200, paymentMethod: 'pm_card_createDispute' })).id;
    disputeId = (await w.db.selectFrom('disputes').select('id').where('order_id', '=', disputedOrder).executeTakeFirstOrThrow()).id;
  });

  it('refund 25.00 of a 100.00 order, then submit winning evidence', async ({ openPage }) => {
    const page = await openPage({ viewport: NARROW_DESKTOP });
    page.setDefaultTimeout(15_000);
    await journey(page, 'admin-money', async () => {
      await logIn(page, w.baseUrl, w.adminUser.email);
      expect(['/', '/admin']).toContain(new URL(page.url()).pathname);

      await page.goto(`${w.baseUrl}/admin`);
      await visible(page.getByTestId('money-summary'));
      await screenshot(page, 'admin-home');

      await page.goto(`${w.baseUrl}/admin/orders`);
      await page.locator(`tr[data-order-id="${orderId}"] a`).click();
      await visible(page.getByTestId('refund-form'));
      await page.getByLabel('Amount to refund').fill('25.00');
      await page.getByLabel('Reason').selectOption('requested_by_customer');
      expect(await page.getByLabel("Reverse the seller's transfer").isChecked()).toBe(true);
      await page.getByRole('button', { name: 'Refund…' }).click();
      await visible(page.getByText('Refund $25.00 of order'));
      await screenshot(page, 'admin-refund-confirm');
      await page.getByRole('button', { name: 'Refund $25.00' }).click();
      await visible(page.getByText('Refunded $25.00.'));
      await w.settle();
      await page.reload();
      await visible(page.getByTestId('order-status').getByText('Partially refunded'));
      expect(await page.locator('tr[data-line="refunded_from_seller"] td.num').textContent()).toBe('$25.00');
      expect(await page.locator('tr[data-line="fee_refunded"] td.num').textContent()).toBe('$2.50');
      await screenshot(page, 'admin-order-partially-refunded');

      await page.goto(`${w.baseUrl}/admin/disputes`);
      await page.locator(`tr[data-dispute-id="${disputeId}"] a`).first().click();
      await page.getByLabel('Product description').fill('A hand-thrown stoneware mug, shipped 2 November.');
      await page.getByLabel('Customer communication').fill('Buyer confirmed delivery by email on 5 November.');
      await page.getByLabel('Shipping carrier').fill('UPS');
      await page.getByLabel('Tracking number').fill('1Z999AA10123456784');
      await page.getByLabel('Other information').fill('winning_evidence');
      await page.getByRole('button', { name: 'Save draft' }).click();
      await visible(page.getByText('Evidence saved as a draft'));
      await screenshot(page, 'admin-dispute-draft');
      await page.getByRole('button', { name: 'Submit evidence…' }).click();
      await visible(page.getByText('Submit this evidence to the card network?'));
      await page.getByRole('button', { name: 'Submit evidence' }).click();
      await visible(page.getByText('Evidence submitted to Stripe.'));
      await w.settle();
      await page.reload();
      await visible(page.getByTestId('dispute-status').getByText('won'));
      await screenshot(page, 'admin-dispute-won');
    });
  }, 180_000);
});
