// In Chromium: a seller adds two pictures to a listing through the edit page's upload form (a real
// browser's multipart body, CSRF token first) and moves the second to the front; a buyer sees them
// in the catalogue and on the listing, pays through hosted Checkout, and finds the receipt in the
// offline mailbox. Screenshots go to test-artifacts/.
import sharp from 'sharp';
import { describe, expect } from 'vitest';
import { sendDueEmails } from '../../src/email/sender.ts';
import { createMailboxTransport } from '../../src/email/transport.ts';
import { createTestUser } from '../helpers/app.ts';
import { chromiumAvailable, e2eTest as it, journey, screenshot, visible } from '../helpers/browser.ts';
import { buyNowWithCard, logIn } from '../helpers/journeys.ts';
import { jpegPicture } from '../images/helpers.ts';
import { addListing, enabledSeller } from '../helpers/market.ts';

describe.skipIf(!chromiumAvailable)('browser: pictures on a listing, and the receipt in the offline mailbox', () => {
  it('the seller adds and reorders pictures; the buyer sees them, pays, and reads the receipt in the mailbox', async ({ world, openPage }) => {
    const { app, db, emu, baseUrl } = world;
    const seller = await enabledSeller(world);
    const sellerUser = await db.selectFrom('users').select('email').where('id', '=', seller.sellerId).executeTakeFirstOrThrow();
    const listing = await addListing(db, seller.sellerId, { price: 3200, stock: 3, title: 'Speckled stoneware jug' });
    const sellerPage = await openPage();

    await journey(sellerPage, 'seller-pictures', async () => {
      await logIn(sellerPage, baseUrl, sellerUser.email);
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

    const images = await db.selectFrom('listing_images').selectAll().where('listing_id', '=', listing.id).orderBy('position').execute();
    // The second upload (portrait, 900 × 1200) is now the cover.
    expect(images.map((i) => [i.large_width, i.large_height])).toEqual([
      [900, 1200],
      [1200, 900],
    ]);

    const buyer = await createTestUser(db, 'buyer', { displayName: 'Bea Buyer' });
    const page = await openPage();
    await journey(page, 'buyer-pictures-and-mailbox', async () => {
      await page.goto(`${baseUrl}/`);
      const card = page.locator(`[data-listing-id="${listing.id}"] img`);
      await visible(card);
      expect(await card.getAttribute('alt')).toBe('Speckled stoneware jug');
      // The browser really loaded and decoded it (the card can show before its picture has arrived).
      await expect.poll(() => card.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth), { timeout: 15_000 }).toBe(480);
      await screenshot(page, 'pictures-3-catalogue');

      await logIn(page, baseUrl, buyer.email);
      await visible(page.getByRole('link', { name: 'My orders' }));
      await page.goto(`${baseUrl}/listings/${listing.id}`);
      const cover = page.locator('img.gallery-cover');
      await visible(cover);
      await expect
        .poll(
          () =>
            cover.evaluate((img) => {
              const i = img as unknown as { naturalWidth: number; naturalHeight: number };
              return [i.naturalWidth, i.naturalHeight];
            }),
          { timeout: 15_000 },
        )
        .toEqual([900, 1200]);
      expect(await page.getByAltText('Speckled stoneware jug, picture 2 of 2').count()).toBe(1);
      await screenshot(page, 'pictures-4-listing-page');

      expect(await buyNowWithCard(page, baseUrl, emu.url, '4242 4242 4242 4242')).toBe('Paid');

      // The worker's email round, as `npm start` runs it offline.
      const round = await sendDueEmails(db, createMailboxTransport(), { baseUrl, from: app.config.email.from });
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

    const receipt = await db
      .selectFrom('email_outbox')
      .selectAll()
      .where('template', '=', 'order-receipt')
      .where('to_address', '=', buyer.email)
      .executeTakeFirstOrThrow();
    expect(receipt.text_body).toContain('Paid: $32.00');
    expect(receipt.text_body).toContain(`${baseUrl}/orders/`);
    // The picture files are real WebP images, as the browser showed.
    const served = await fetch(`${baseUrl}/images/${images[0]!.thumb_key.slice('listing-images/'.length)}`);
    expect((await sharp(Buffer.from(await served.arrayBuffer())).metadata()).format).toBe('webp');
  }, 120_000);
});
