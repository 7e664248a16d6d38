// Issue 15 acceptance (and point 21): every page, as each role sees it, at a phone's width (390 px,
// with a mobile browser profile: touch, device pixel ratio 3, so an overflowing page would be
// zoomed out) and at a desktop's (1,280 px). A page fails if its document is wider than the
// viewport. Screenshots of each go to test-artifacts/widths/<role>-<width>-<page>.png.
import { randomUUID } from 'node:crypto';
import type { BrowserContextOptions, Page } from 'playwright-core';
import { beforeAll, describe, expect } from 'vitest';
import type { User } from '../../src/db/schema.ts';
import { buyWithPaymentElement } from '../../src/orders/use-cases.ts';
import { createTestUser } from '../helpers/app.ts';
import { browserTest as it, chromiumAvailable, PHONE_PROFILE, screenshot } from '../helpers/browser.ts';
import { useWorld } from '../helpers/fixture.ts';
import { logIn } from '../helpers/journeys.ts';
import { createListing, createPaidOrder, createSeller, hiddenValue, type TestSeller } from '../helpers/market.ts';

const WIDTHS = [390, 1280] as const;

describe.skipIf(!chromiumAvailable)('browser: no page is wider than the screen, phone or desktop', () => {
  const w = useWorld({ browser: true, admin: true });
  let seller: TestSeller;
  let buyer: User;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    seller = await createSeller(w, { manualPayouts: true });
    await w.db.updateTable('users').set({ display_name: 'Wide Load Workshop of Remarkably Long Names' }).where('id', '=', seller.user.id).execute();
    buyer = await createTestUser(w.db, 'buyer', { displayName: 'Bea Buyer' });
    ids.listing = await createListing(w, seller.user.id, 2_450);
    await w.db
      .updateTable('listings')
      .set({ title: 'Hand-thrown stoneware mug with a very long descriptive title', description: 'Glazed by hand.\nHolds 350 ml.', stock: 7 })
      .where('id', '=', ids.listing)
      .execute();
    ids.paid = (await createPaidOrder(w, seller, { amount: 12_345, buyer })).id;
    ids.disputed = (await createPaidOrder(w, seller, { amount: 10_000, paymentMethod: 'pm_card_createDispute', buyer })).id;
    ids.dispute = (await w.db.selectFrom('disputes').select('id').where('order_id', '=', ids.disputed).executeTakeFirstOrThrow()).id;
    // A refund: an audit entry, refund rows and more events.
    const orderPage = await w.admin.get(`/admin/orders/${ids.paid}`);
    await w.admin.post(`/admin/orders/${ids.paid}/refunds`, {
      refund_id: hiddenValue(orderPage.body, 'refund_id')!,
      amount: '20.00',
      reason: 'requested_by_customer',
      reverse_transfer: 'on',
      refund_application_fee: 'on',
      confirm: 'yes',
    });
    await w.admin.post('/admin/fees', { currency: 'usd', basis_points: '1000', fixed: '0.30' });
    await w.settle();
    const pending = await buyWithPaymentElement(w.db, w.stripe, {
      buyerId: buyer.id,
      buyerEmail: buyer.email,
      listingId: ids.listing,
      quantity: 2,
      attemptId: randomUUID(),
    });
    ids.pending = pending.id;
    ids.event = (await w.db.selectFrom('stripe_events').select('id').orderBy('received_at', 'desc').limit(1).executeTakeFirstOrThrow()).id;
  }, 120_000);

  const pages = (): Record<'visitor' | 'buyer' | 'seller' | 'admin', [name: string, path: string][]> => ({
    visitor: [
      ['home', '/'],
      ['listing', `/listings/${ids.listing}`],
      ['seller', `/sellers/${seller.user.id}`],
      ['login', '/login'],
      ['signup', '/signup'],
    ],
    buyer: [
      ['home', '/'],
      ['listing', `/listings/${ids.listing}`],
      ['orders', '/orders'],
      ['receipt', `/orders/${ids.paid}`],
      ['complete', `/orders/${ids.paid}/complete`],
      ['pay-start', `/checkout/${ids.listing}/pay`],
      ['pay', `/orders/${ids.pending}/pay`],
      ['account', '/account'],
    ],
    seller: [
      ['dashboard', '/seller'],
      ['orders', '/seller/orders'],
      ['order', `/seller/orders/${ids.disputed}`],
      ['new-listing', '/seller/listings/new'],
      ['edit-listing', `/seller/listings/${ids.listing}/edit`],
      ['money', '/seller/money'],
      ['account', '/account'],
    ],
    admin: [
      ['home', '/admin'],
      ['sellers', '/admin/sellers'],
      ['seller', `/admin/sellers/${seller.user.id}`],
      ['orders', '/admin/orders'],
      ['order', `/admin/orders/${ids.paid}`],
      ['disputed-order', `/admin/orders/${ids.disputed}`],
      ['disputes', '/admin/disputes'],
      ['dispute', `/admin/disputes/${ids.dispute}`],
      ['fees', '/admin/fees'],
      ['policies', '/admin/policies'],
      ['events', '/admin/events'],
      ['event', `/admin/events/${ids.event}`],
      ['audit', '/admin/audit'],
      ['health', '/admin/health'],
      ['refund-requests', '/admin/refund-requests'],
    ],
  });

  /** A page at the width (a phone: the mobile profile), signed in as the role unless a visitor. */
  async function pageFor(openPage: (options: BrowserContextOptions) => Promise<Page>, width: number, role: keyof ReturnType<typeof pages>): Promise<Page> {
    const page = await openPage(width === 390 ? PHONE_PROFILE : { viewport: { width: 1280, height: 800 } });
    if (role !== 'visitor') await logIn(page, w.baseUrl, (role === 'buyer' ? buyer : role === 'seller' ? seller.user : w.adminUser).email);
    return page;
  }

  /** How wide the document is against the screen; a mobile browser widens its layout to overflowing content. */
  // A string, evaluated in the page: the test's own TypeScript program has no DOM types.
  const measure = (page: Page) =>
    page.evaluate(
      '({ documentWidth: document.documentElement.scrollWidth, layoutWidth: window.innerWidth, scale: window.visualViewport ? window.visualViewport.scale : 1 })',
    ) as Promise<{ documentWidth: number; layoutWidth: number; scale: number }>;

  for (const role of ['visitor', 'buyer', 'seller', 'admin'] as const) {
    for (const width of WIDTHS) {
      it(`${role} at ${width} px`, async ({ openPage }) => {
        const page = await pageFor(openPage, width, role);
        const tooWide: string[] = [];
        for (const [name, path] of pages()[role]) {
          const response = await page.goto(`${w.baseUrl}${path}`);
          expect(response?.status(), `${role} ${path}`).toBeLessThan(400);
          await page.waitForLoadState('load');
          const size = await measure(page);
          await screenshot(page, `widths/${role}-${width}-${name}`);
          if (size.documentWidth > width || size.layoutWidth > width || size.scale < 1)
            tooWide.push(`${path}: document ${size.documentWidth} px, layout ${size.layoutWidth} px, scale ${size.scale}`);
        }
        expect(tooWide).toEqual([]);
      }, 120_000);
    }
  }
});
