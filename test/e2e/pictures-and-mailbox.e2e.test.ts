// In Chromium: a seller adds two pictures to a listing through the edit page's upload form (a real
// browser's multipart body, CSRF token first) and moves the second to the front; a buyer sees them
// in the catalogue and on the listing, pays through hosted Checkout, and finds the receipt in the
// offline mailbox. Screenshots go to test-artifacts/.
import type { FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { sendDueEmails } from '../../src/email/sender.ts';
import { createMailboxTransport } from '../../src/email/transport.ts';
import { createTestUser, TEST_PASSWORD, testConfig } from '../helpers/app.ts';
import { chromiumAvailable, journey, launchBrowser, screenshot, visible } from '../helpers/browser.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { startTestEmulator, type TestEmulator } from '../helpers/emulator.ts';
import { jpegPicture } from '../images/helpers.ts';
import { addListing, enabledSeller } from '../orders/helpers.ts';

describe.skipIf(!chromiumAvailable)('browser: pictures on a listing, and the receipt in the offline mailbox', () => {
  let database: TestDatabase;
  let emulator: TestEmulator;
  let app: FastifyInstance;
  let browser: Browser;
  let baseUrl: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    emulator = await startTestEmulator();
    // PUBLIC_URL must be known before listening: take a port, then build the app for it.
    const probe = await buildApp({ config: testConfig(), db: database.db, stripe: emulator.stripe, logger: false });
    await probe.listen({ port: 0, host: '127.0.0.1' });
    const port = (probe.server.address() as { port: number }).port;
    await probe.close();
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

  it('the seller adds and reorders pictures; the buyer sees them, pays, and reads the receipt in the mailbox', async () => {
    const seller = await enabledSeller(app, emulator);
    const sellerUser = await database.db.selectFrom('users').select('email').where('id', '=', seller.sellerId).executeTakeFirstOrThrow();
    const listing = await addListing(database.db, seller.sellerId, { price: 3200, stock: 3, title: 'Speckled stoneware jug' });
    const sellerPage = await browser.newPage();

    await journey(sellerPage, 'seller-pictures', async () => {
      await sellerPage.goto(`${baseUrl}/login`);
      await sellerPage.getByLabel('Email').fill(sellerUser.email);
      await sellerPage.getByLabel('Password').fill(TEST_PASSWORD);
      await sellerPage.getByRole('button', { name: 'Log in' }).click();
      await sellerPage.waitForURL(`${baseUrl}/seller`);
      await sellerPage.goto(`${baseUrl}/seller/listings/${listing.id}/edit`);
      await visible(sellerPage.getByText('No pictures yet.'));

      const pictures = [await jpegPicture(1200, 900, [180, 90, 30]), await jpegPicture(900, 1200, [20, 120, 180])];
      for (const [i, bytes] of pictures.entries()) {
        await sellerPage.getByLabel('Add a picture').setInputFiles({ name: `jug-${i + 1}.jpg`, mimeType: 'image/jpeg', buffer: bytes });
        await sellerPage.getByRole('button', { name: 'Upload picture' }).click();
        await visible(sellerPage.getByRole('alert').filter({ hasText: 'Picture added.' }));
      }
      await visible(sellerPage.getByText('2 of 8'));
      await screenshot(sellerPage, 'pictures-1-seller-edit-page');
      await sellerPage.getByRole('button', { name: 'Move earlier (picture 2)' }).click();
      await visible(sellerPage.getByText('Cover (shown in the catalogue)'));
      await screenshot(sellerPage, 'pictures-2-reordered');
    });

    const images = await database.db.selectFrom('listing_images').selectAll().where('listing_id', '=', listing.id).orderBy('position').execute();
    // The second upload (portrait, 900 × 1200) is now the cover.
    expect(images.map((i) => [i.large_width, i.large_height])).toEqual([[900, 1200], [1200, 900]]);

    const buyer = await createTestUser(database.db, 'buyer', { displayName: 'Bea Buyer' });
    const page = await browser.newPage();
    await journey(page, 'buyer-pictures-and-mailbox', async () => {
      await page.goto(`${baseUrl}/`);
      const card = page.locator(`[data-listing-id="${listing.id}"] img`);
      await visible(card);
      expect(await card.getAttribute('alt')).toBe('Speckled stoneware jug');
      // The browser really loaded and decoded it.
      expect(await card.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBe(480);
      await screenshot(page, 'pictures-3-catalogue');

      await page.goto(`${baseUrl}/login`);
      await page.getByLabel('Email').fill(buyer.email);
      await page.getByLabel('Password').fill(TEST_PASSWORD);
      await page.getByRole('button', { name: 'Log in' }).click();
      await visible(page.getByRole('link', { name: 'My orders' }));
      await page.goto(`${baseUrl}/listings/${listing.id}`);
      const cover = page.locator('img.gallery-cover');
      await visible(cover);
      expect(await cover.evaluate((img) => { const i = img as unknown as { naturalWidth: number; naturalHeight: number }; return [i.naturalWidth, i.naturalHeight]; })).toEqual([900, 1200]);
      expect(await page.getByAltText('Speckled stoneware jug, picture 2 of 2').count()).toBe(1);
      await screenshot(page, 'pictures-4-listing-page');

      await page.getByRole('button', { name: 'Buy now' }).click();
      await page.waitForURL((url) => url.href.startsWith(`${emulator.url}/hosted/checkout/`));
      await page.getByLabel('Card number').fill('4242 4242 4242 4242');
      await page.getByTestId('pay').click();
      await page.waitForURL((url) => url.href.startsWith(`${baseUrl}/orders/`) && url.pathname.endsWith('/complete'));
      expect(await page.getByTestId('outcome').textContent()).toBe('Paid');

      // The worker's email round, as `npm start` runs it offline.
      const round = await sendDueEmails(database.db, createMailboxTransport(), { baseUrl, from: app.config.email.from });
      expect(round.outcomes.sent).toBe(2); // the receipt, and the seller's new sale

      await page.getByRole('link', { name: 'local mailbox' }).click();
      await visible(page.getByRole('heading', { name: 'Mailbox' }));
      await screenshot(page, 'mailbox-1-list');
      await page.getByRole('link', { name: 'Your receipt: Speckled stoneware jug' }).click();
      await visible(page.getByText('Sold by: '));
      const frame = page.frameLocator('iframe.mail-html');
      await visible(frame.getByRole('heading', { name: 'Thank you for your order' }));
      await screenshot(page, 'mailbox-2-receipt');
    });

    const receipt = await database.db.selectFrom('email_outbox').selectAll().where('template', '=', 'order-receipt').where('to_address', '=', buyer.email).executeTakeFirstOrThrow();
    expect(receipt.text_body).toContain('Paid: $32.00');
    expect(receipt.text_body).toContain(`${baseUrl}/orders/`);
    // The picture files are real WebP images, as the browser showed.
    const served = await fetch(`${baseUrl}/images/${images[0]!.thumb_key.slice('listing-images/'.length)}`);
    expect((await sharp(Buffer.from(await served.arrayBuffer())).metadata()).format).toBe('webp');
  }, 120_000);
});
