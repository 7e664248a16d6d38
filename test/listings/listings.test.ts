// Listings over HTTP: validation beside each field with input kept, ownership (another seller's
// listing is a 404), and the public catalogue showing only sellable listings, newest first.
import { describe, expect, it } from 'vitest';
import { createListing, searchCatalogue } from '../../src/listings/queries.ts';
import { normaliseSearch, type CatalogueCursor } from '../../src/listings/search.ts';
import { ensureConnectedAccount, syncAccountFromStripe } from '../../src/sellers/use-cases.ts';
import { TEST_PASSWORD, TestClient, type Response } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';

const w = useWorld({ emulator: true });
let ipCounter = 10;

async function signUpSeller(name = `Seller ${ipCounter}`): Promise<{ client: TestClient; sellerId: string; email: string }> {
  const client = new TestClient(w.app, `10.1.0.${ipCounter++}`);
  const email = `lseller-${ipCounter}-${Date.now()}@example.test`;
  await client.post('/signup', { email, password: TEST_PASSWORD, displayName: name, role: 'seller' });
  const user = await w.db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirstOrThrow();
  return { client, sellerId: user.id, email };
}

/** Onboards at the emulator (control API) and records the account as the return page would. */
async function onboard(sellerId: string, email: string, outcome: 'verified' | 'requirements_due' | 'pending_verification'): Promise<void> {
  const { accountId } = await ensureConnectedAccount(w.db, w.emu.stripe, { sellerId, country: 'US', email });
  await w.emu.control('POST', `/_emulator/accounts/${accountId}/onboarding`, { outcome });
  await syncAccountFromStripe(w.db, w.emu.stripe, accountId);
}

const valid = { title: 'Hand-thrown mug', description: 'Stoneware, 350 ml.', price: '24.00', currency: 'usd', stock: '3' };

async function createVia(client: TestClient, fields: Record<string, string>): Promise<Response> {
  return client.post('/seller/listings', fields);
}

const listingsOf = (sellerId: string) => w.db.selectFrom('listings').selectAll().where('seller_id', '=', sellerId).orderBy('created_at').execute();

describe('creating listings', () => {
  it('stores the price as integer minor units in the chosen currency', async () => {
    const { client, sellerId } = await signUpSeller();
    expect((await createVia(client, valid)).location).toBe('/seller');
    expect((await createVia(client, { ...valid, title: 'Tea bowl', price: '500', currency: 'jpy', stock: '', unlimited: 'on' })).location).toBe('/seller');
    expect((await createVia(client, { ...valid, title: 'Plate', price: '0.50', currency: 'usd' })).location).toBe('/seller');
    const rows = await listingsOf(sellerId);
    expect(rows.map((r) => [r.title, r.price_amount, r.currency, r.stock, r.active, r.billing_interval])).toEqual([
      ['Hand-thrown mug', 2400, 'usd', 3, true, 'one_off'],
      ['Tea bowl', 500, 'jpy', null, true, 'one_off'],
      ['Plate', 50, 'usd', 3, true, 'one_off'],
    ]);
    const dashboard = await client.get('/seller');
    expect(dashboard.body).toContain('$24.00');
    expect(dashboard.body).toContain('¥500');
    expect(dashboard.body).toContain('Unlimited');
    expect(dashboard.body).toContain('Buyers see your listings once your payouts are enabled.');
  });

  const cases: [string, Record<string, string>, string, string][] = [
    ['an empty title', { title: '' }, 'title', 'Enter a title'],
    ['a blank title', { title: '   ' }, 'title', 'Enter a title'],
    ['a 121-character title', { title: 'x'.repeat(121) }, 'title', 'Enter a title (1 to 120 characters)'],
    ['a description over 5,000 characters', { description: 'y'.repeat(5001) }, 'description', 'under 5,000 characters'],
    ['no price', { price: '' }, 'price', 'Enter a price'],
    ['a price that is not a number', { price: 'twelve' }, 'price', 'Enter an amount like 12.50'],
    ['three decimals in usd', { price: '1.234' }, 'price', 'at most two decimal places'],
    [
      'a decimal comma (12,50 could be 1250)',
      { price: '12,50', currency: 'eur' },
      'price',
      'Write the amount without commas, spaces or other separators, with a point for decimals, like 1250.50',
    ],
    ['commas that group nothing', { price: '1,0,0.00' }, 'price', 'Write the amount without commas'],
    ['49 cents in usd', { price: '0.49' }, 'price', 'The minimum price in USD is $0.50'],
    ['¥49.5 in jpy', { price: '49.5', currency: 'jpy' }, 'price', 'Enter a whole number: JPY has no decimal places'],
    ['¥49 in jpy', { price: '49', currency: 'jpy' }, 'price', 'The minimum price in JPY is ¥50'],
    ['£0.29 in gbp', { price: '0.29', currency: 'gbp' }, 'price', 'The minimum price in GBP is £0.30'],
    ['more than 99,999,999 minor units', { price: '1000000.00' }, 'price', 'The maximum price in USD is $999,999.99'],
    ['more than ¥99,999,999', { price: '100000000', currency: 'jpy' }, 'price', 'The maximum price in JPY is ¥99,999,999'],
    ['an unsupported currency', { currency: 'xyz' }, 'currency', 'Choose one of the listed currencies'],
    ['no stock and not unlimited', { stock: '' }, 'stock', 'Enter how many you have in stock'],
    ['negative stock', { stock: '-1' }, 'stock', 'Enter how many you have in stock'],
    ['fractional stock', { stock: '2.5' }, 'stock', 'Enter how many you have in stock'],
    ['stock over a million', { stock: '1000001' }, 'stock', 'Enter how many you have in stock'],
  ];

  it.each(cases)('rejects %s beside the field, keeping the input', async (_name, change, field, message) => {
    const { client, sellerId } = await signUpSeller();
    const fields = { ...valid, ...change };
    const response = await createVia(client, fields);
    expect(response.statusCode).toBe(400);
    // The message sits in the field's own error slot, not at the top of the form.
    const slot = new RegExp(`<p class="error" id="${field}-error">([^<]*)</p>`).exec(response.body)?.[1] ?? '';
    expect(slot).toContain(message.replaceAll("'", '&#x27;'));
    // The rest of what the seller typed is still there.
    if (field !== 'title') expect(response.body).toContain(`value="${valid.title}"`);
    if (field !== 'price') expect(response.body).toContain(`value="${fields.price}"`);
    if (field !== 'description') expect(response.body).toContain('Stoneware, 350 ml.</textarea>');
    expect(await listingsOf(sellerId)).toHaveLength(0);
  });

  it('keeps a rejected price and currency in the form', async () => {
    const { client } = await signUpSeller();
    const response = await createVia(client, { ...valid, price: '49.5', currency: 'jpy' });
    expect(response.body).toContain('value="49.5"');
    expect(response.body).toContain('<option value="jpy" selected>');
  });

  it('needs a CSRF token and a seller', async () => {
    const { client } = await signUpSeller();
    expect((await client.post('/seller/listings', valid, { csrf: false })).statusCode).toBe(403);
    const visitor = new TestClient(w.app, '10.1.9.1');
    expect((await visitor.post('/seller/listings', valid)).location).toMatch(/^\/login/);
  });
});

describe('editing and deactivating', () => {
  it("edits the seller's own listing, with the decimal price shown as entered", async () => {
    const { client, sellerId } = await signUpSeller();
    await createVia(client, { ...valid, price: '12.5' });
    const [listing] = await listingsOf(sellerId);
    const form = await client.get(`/seller/listings/${listing!.id}/edit`);
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('value="12.50"');
    const saved = await client.post(`/seller/listings/${listing!.id}`, { ...valid, title: 'Mug, blue', price: '13.00', stock: '', unlimited: 'on' });
    expect(saved.location).toBe('/seller');
    const [after] = await listingsOf(sellerId);
    expect([after!.title, after!.price_amount, after!.stock]).toEqual(['Mug, blue', 1300, null]);
  });

  it('an invalid edit re-renders with errors and changes nothing', async () => {
    const { client, sellerId } = await signUpSeller();
    await createVia(client, valid);
    const [listing] = await listingsOf(sellerId);
    const response = await client.post(`/seller/listings/${listing!.id}`, { ...valid, price: '0.49' });
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('The minimum price in USD is $0.50');
    expect((await listingsOf(sellerId))[0]!.price_amount).toBe(2400);
  });

  it('another seller opening, editing or deactivating the listing gets 404, and nothing changes', async () => {
    const owner = await signUpSeller();
    const other = await signUpSeller();
    await createVia(owner.client, valid);
    const [listing] = await listingsOf(owner.sellerId);
    expect((await other.client.get(`/seller/listings/${listing!.id}/edit`)).statusCode).toBe(404);
    expect((await other.client.post(`/seller/listings/${listing!.id}`, { ...valid, title: 'Stolen' })).statusCode).toBe(404);
    expect((await other.client.post(`/seller/listings/${listing!.id}`, { ...valid, price: 'bad' })).statusCode).toBe(404);
    expect((await other.client.post(`/seller/listings/${listing!.id}/deactivate`)).statusCode).toBe(404);
    expect((await other.client.get('/seller/listings/00000000-0000-4000-8000-000000000000/edit')).statusCode).toBe(404);
    const [after] = await listingsOf(owner.sellerId);
    expect([after!.title, after!.active]).toEqual([valid.title, true]);
  });

  it('deactivates and reactivates', async () => {
    const { client, sellerId } = await signUpSeller();
    await createVia(client, valid);
    const [listing] = await listingsOf(sellerId);
    expect((await client.post(`/seller/listings/${listing!.id}/deactivate`)).location).toBe('/seller');
    expect((await listingsOf(sellerId))[0]!.active).toBe(false);
    expect((await client.get('/seller')).body).toContain('Deactivated');
    await client.post(`/seller/listings/${listing!.id}/activate`);
    expect((await listingsOf(sellerId))[0]!.active).toBe(true);
  });
});

describe('public catalogue', () => {
  it('shows active listings of enabled sellers only: not deactivated ones, not restricted or unverified sellers', async () => {
    const enabled = await signUpSeller('Open Studio');
    const restricted = await signUpSeller('Restricted Studio');
    const pending = await signUpSeller('Pending Studio');
    const notOnboarded = await signUpSeller('New Studio');
    await onboard(enabled.sellerId, enabled.email, 'verified');
    await onboard(restricted.sellerId, restricted.email, 'requirements_due');
    await onboard(pending.sellerId, pending.email, 'pending_verification');
    // The restricted seller can still charge until Stripe's deadline; we still do not sell for them.
    const restrictedRow = await w.db.selectFrom('sellers').selectAll().where('id', '=', restricted.sellerId).executeTakeFirstOrThrow();
    expect([restrictedRow.account_state, restrictedRow.charges_enabled]).toEqual(['restricted', true]);

    await createVia(enabled.client, { ...valid, title: 'Visible vase' });
    await createVia(enabled.client, { ...valid, title: 'Hidden deactivated vase' });
    await createVia(restricted.client, { ...valid, title: 'Restricted seller vase' });
    await createVia(pending.client, { ...valid, title: 'Pending seller vase' });
    await createVia(notOnboarded.client, { ...valid, title: 'New seller vase' });
    const hidden = (await listingsOf(enabled.sellerId)).find((l) => l.title === 'Hidden deactivated vase')!;
    await enabled.client.post(`/seller/listings/${hidden.id}/deactivate`);

    const home = await new TestClient(w.app).get('/');
    expect(home.body).toContain('Visible vase');
    expect(home.body).toContain('by Open Studio');
    for (const title of ['Hidden deactivated vase', 'Restricted seller vase', 'Pending seller vase', 'New seller vase']) expect(home.body).not.toContain(title);

    const visible = (await listingsOf(enabled.sellerId)).find((l) => l.title === 'Visible vase')!;
    const page = await new TestClient(w.app).get(`/listings/${visible.id}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('$24.00');
    expect(page.body).toContain('3 in stock');
    expect((await new TestClient(w.app).get(`/listings/${hidden.id}`)).statusCode).toBe(404);
    const restrictedListing = (await listingsOf(restricted.sellerId))[0]!;
    expect((await new TestClient(w.app).get(`/listings/${restrictedListing.id}`)).statusCode).toBe(404);

    const sellerPage = await new TestClient(w.app).get(`/sellers/${enabled.sellerId}`);
    expect(sellerPage.statusCode).toBe(200);
    expect(sellerPage.body).toContain('Open Studio');
    expect(sellerPage.body).toContain('Visible vase');
    expect(sellerPage.body).not.toContain('Hidden deactivated vase');
    expect((await new TestClient(w.app).get(`/sellers/${restricted.sellerId}`)).statusCode).toBe(404);
    expect((await new TestClient(w.app).get('/sellers/not-a-uuid')).statusCode).toBe(400);
  });

  it('pages newest first with a keyset cursor: no listing twice, none skipped, even within one millisecond', async () => {
    const seller = await signUpSeller('Bulk Studio');
    await onboard(seller.sellerId, seller.email, 'verified');
    const ids: string[] = [];
    for (let i = 0; i < 13; i++) {
      ids.push(
        (
          await createListing(w.db, seller.sellerId, {
            title: `Bulk ${i}`,
            description: '',
            priceAmount: 100 + i,
            currency: 'usd',
            stock: null,
            kind: 'digital',
          })
        ).id,
      );
    }
    const seen: string[] = [];
    let after: CatalogueCursor | undefined;
    for (;;) {
      const page = await searchCatalogue(w.db, { ...normaliseSearch({}), after }, 5);
      seen.push(...page.listings.filter((l) => l.seller_id === seller.sellerId).map((l) => l.id));
      if (page.next === null) break;
      after = page.next;
    }
    expect(seen).toEqual([...ids].reverse());

    const first = await new TestClient(w.app).get('/');
    expect(first.body).toContain('Bulk 12');
    expect(first.body.indexOf('Bulk 12')).toBeLessThan(first.body.indexOf('Bulk 11'));
    expect((await new TestClient(w.app).get('/?after=nonsense')).statusCode).toBe(400);
  });
});
