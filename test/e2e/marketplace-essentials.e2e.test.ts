// Issue 16's browser journey, in Chromium: a seller adds a picture to a physical listing; a buyer
// finds it with the catalogue's search, buys it through hosted Checkout giving a shipping address on Stripe's
// page, and reads the receipt in the offline mailbox; the seller sees where to ship and marks it
// shipped with a tracking number; the buyer sees that on the order and in the mailbox.
// Screenshots go to test-artifacts/.
import { describe, expect } from 'vitest';
import { sendDueEmails } from '../../src/email/sender.ts';
import { createMailboxTransport } from '../../src/email/transport.ts';
import { createTestUser } from '../helpers/app.ts';
import { chromiumAvailable, e2eTest as it, journey, screenshot, visible } from '../helpers/browser.ts';
import { logIn, waitForStripePage } from '../helpers/journeys.ts';
import { jpegPicture } from '../images/helpers.ts';
import { addListing, enabledSeller } from '../helpers/market.ts';

describe.skipIf(!chromiumAvailable)('browser: a physical sale from picture to delivery', () => {
  it('pictures, catalogue, Checkout with shipping, receipt in the mailbox, shipped with tracking', async ({ world, openPage }) => {
    const { app, db, emu, baseUrl } = world;
    const seller = await enabledSeller(world);
    const sellerEmail = (await db.selectFrom('users').select('email').where('id', '=', seller.sellerId).executeTakeFirstOrThrow()).email;
    const listing = await addListing(db, seller.sellerId, { price: 5400, stock: 2, title: 'Hand-bound notebook', kind: 'physical' });
    // Something else in the catalogue, so the search has something to leave out.
    const other = await addListing(db, seller.sellerId, { price: 3100, stock: 4, title: 'Wool scarf', kind: 'physical' });
    const sellerPage = await openPage();
    await journey(sellerPage, 'essentials-seller-picture', async () => {
      await logIn(sellerPage, baseUrl, sellerEmail);
      await sellerPage.waitForURL(`${baseUrl}/seller`);
      await sellerPage.goto(`${baseUrl}/seller/listings/${listing.id}/edit`);
      await sellerPage
        .getByLabel('Add a picture')
        .setInputFiles({ name: 'notebook.jpg', mimeType: 'image/jpeg', buffer: await jpegPicture(1200, 900, [120, 60, 40]) });
      await sellerPage.getByRole('button', { name: 'Upload picture' }).click();
      await visible(sellerPage.getByRole('alert').filter({ hasText: 'Picture added.' }));
      expect(await sellerPage.getByTestId('kind-physical').isChecked()).toBe(true);
      await screenshot(sellerPage, 'essentials-1-seller-picture');
    });

    const buyer = await createTestUser(db, 'buyer', { displayName: 'Bea Buyer' });
    const page = await openPage();
    let orderUrl = '';
    await journey(page, 'essentials-buyer', async () => {
      await logIn(page, baseUrl, buyer.email);
      await page.goto(`${baseUrl}/`);
      // The buyer searches the catalogue: the notebook is found, the scarf is left out.
      await page.getByLabel('Search listings').fill('notebooks');
      await page.getByRole('button', { name: 'Search' }).click();
      await visible(page.getByTestId('search-summary').filter({ hasText: '1 listing matches' }));
      expect(await page.locator(`a[data-listing-id="${other.id}"]`).count()).toBe(0);
      await screenshot(page, 'essentials-2-search');
      await page.locator(`a[data-listing-id="${listing.id}"]`).click();
      await visible(page.getByTestId('listing-kind').filter({ hasText: 'Shipped to you' }));
      await screenshot(page, 'essentials-2-listing');
      await page.getByRole('button', { name: 'Buy now' }).click();
      await waitForStripePage(page, emu.url, 'checkout');
      await visible(page.getByTestId('shipping-address'));
      await page.getByTestId('shipping_name').fill('Bea Buyer');
      await page.getByTestId('shipping_line1').fill('221B Baker Street');
      await page.getByTestId('shipping_city').fill('Springfield');
      await page.getByTestId('shipping_state').fill('IL');
      await page.getByTestId('shipping_postal_code').fill('62701');
      await page.getByTestId('shipping_country').selectOption('US');
      await page.getByLabel('Card number').fill('4242 4242 4242 4242');
      await screenshot(page, 'essentials-3-checkout-shipping');
      await page.getByTestId('pay').click();
      await page.waitForURL((url) => url.href.startsWith(`${baseUrl}/orders/`));
      await visible(page.getByText('Paid', { exact: false }).first());
      orderUrl = page.url().replace(/\/complete.*$/, '');

      const round = await sendDueEmails(db, createMailboxTransport(), { baseUrl, from: app.config.email.from });
      expect(round.outcomes.sent).toBe(2); // the buyer's receipt and the seller's new sale
      await page.getByRole('link', { name: 'local mailbox' }).click();
      await page.getByRole('link', { name: 'Your receipt: Hand-bound notebook' }).click();
      await visible(page.frameLocator('iframe.mail-html').getByRole('heading', { name: 'Thank you for your order' }));
      await screenshot(page, 'essentials-4-receipt-in-mailbox');
    });

    const orderId = orderUrl.split('/').pop()!;
    await journey(sellerPage, 'essentials-seller-ships', async () => {
      await sellerPage.goto(`${baseUrl}/seller/orders/${orderId}`);
      await visible(sellerPage.getByTestId('ship-to').filter({ hasText: '221B Baker Street' }));
      await sellerPage.getByLabel('Carrier').fill('USPS');
      await sellerPage.getByLabel('Tracking number').fill('9400111899223344556677');
      await screenshot(sellerPage, 'essentials-5-seller-ship-to');
      await sellerPage.getByTestId('mark-shipped').click();
      await visible(sellerPage.getByTestId('fulfilment-words').filter({ hasText: 'Shipped' }));
      await screenshot(sellerPage, 'essentials-6-seller-shipped');
    });

    await journey(page, 'essentials-buyer-sees-shipment', async () => {
      await page.goto(`${baseUrl}/orders/${orderId}`);
      await visible(page.getByTestId('tracking-number').filter({ hasText: '9400111899223344556677' }));
      await screenshot(page, 'essentials-7-buyer-order-shipped');
      const round = await sendDueEmails(db, createMailboxTransport(), { baseUrl, from: app.config.email.from });
      expect(round.outcomes.sent).toBe(1); // "your order has shipped"
      await page.goto(`${baseUrl}/dev/mailbox`);
      await page.getByRole('link', { name: 'Your order has shipped: Hand-bound notebook' }).click();
      await visible(page.getByText('9400111899223344556677').first());
      await screenshot(page, 'essentials-8-shipped-in-mailbox');
    });
  }, 180_000);
});
