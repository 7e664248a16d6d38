// Catalogue search, sorting and the seller filter through the real pages (issue 16 point 2): ranked
// results, each order, the "Sold out" mark, the same on a seller's shop, the form keeping its
// values, and every request we did not make answered 400 with words, never a 500.
import { describe, expect, it } from 'vitest';
import { createListing } from '../../src/listings/queries.ts';
import { encodeCursor } from '../../src/listings/search.ts';
import { TestClient } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';
import { recordEnabledSeller } from '../helpers/market.ts';

const w = useWorld();

const enabledSeller = (name: string) => recordEnabledSeller(w.db, name);

async function list(sellerId: string, title: string, description = '', priceAmount = 1000, stock: number | null = 5): Promise<string> {
  return (await createListing(w.db, sellerId, { title, description, priceAmount, currency: 'usd', stock, kind: 'physical' })).id;
}

const get = (url: string) => new TestClient(w.app).get(url);
/** The listing ids a page shows, in order. */
const shown = (body: string) => [...body.matchAll(/data-listing-id="([^"]+)"/g)].map((m) => m[1]!);

describe('searching the catalogue', () => {
  it('ranks a title match above a description-only match, and a listing with more of the words above one with fewer', async () => {
    const seller = await enabledSeller('Harbour Pottery');
    const mention = await list(seller, 'Serving plate', 'Glazed like our teapot.');
    const title = await list(seller, 'Porcelain teapot', 'Holds four cups.');
    await list(seller, 'Bread knife', 'Nothing to do with tea.');
    const page = await get('/?q=teapot');
    expect(page.statusCode).toBe(200);
    expect(shown(page.body)).toEqual([title, mention]);
    expect(page.body).toContain('2 listings match “teapot”');

    const both = await list(seller, 'Indigo scarf', 'Silk.');
    const one = await list(seller, 'Indigo cushion', 'Cotton.');
    expect(shown((await get('/?q=indigo+or+silk')).body)).toEqual([both, one]);
    // Stemming ('english'): a plural finds the singular the seller wrote.
    expect(shown((await get('/?q=teapots')).body)).toEqual([title, mention]);
  });

  it('takes any buyer input without an error: unbalanced quotes, operators alone, stop words', async () => {
    for (const q of ['"unclosed', '& | ! ( :*', 'the', '-', "O'Reilly's \\ mug", '🫖']) {
      const page = await get(`/?q=${encodeURIComponent(q)}`);
      expect(page.statusCode, q).toBe(200);
    }
    const none = await get('/?q=zeppelin');
    expect(none.body).toContain('No results for “zeppelin”');
    expect(shown(none.body)).toEqual([]);
  });

  it('sorts newest first, by price up and by price down, keeping sold-out listings in their place with the mark', async () => {
    const seller = await enabledSeller('Sorting Studio');
    const cheap = await list(seller, 'Sortable bead cheap', '', 500);
    const dear = await list(seller, 'Sortable bead dear', '', 9000, 0);
    const middle = await list(seller, 'Sortable bead middle', '', 2000);
    const ours = (body: string) => shown(body).filter((id) => [cheap, dear, middle].includes(id));
    expect(ours((await get('/?q=sortable&sort=newest')).body)).toEqual([middle, dear, cheap]);
    expect(ours((await get('/?q=sortable&sort=price_asc')).body)).toEqual([cheap, middle, dear]);
    const down = await get('/?q=sortable&sort=price_desc');
    expect(ours(down.body)).toEqual([dear, middle, cheap]);
    // The sold-out mark sits on the dear listing's card, first in this order rather than last.
    const card = down.body.slice(down.body.indexOf(`data-listing-id="${dear}"`), down.body.indexOf(`data-listing-id="${middle}"`));
    expect(card).toContain('data-testid="sold-out"');
    expect(down.body).toMatch(/<option value="price_desc" selected>/);
    expect(down.body).toContain('value="sortable"');
  });

  it("filters by seller on the catalogue, and a seller's shop searches, sorts and marks only their listings", async () => {
    const potter = await enabledSeller('Filter Potter');
    const weaver = await enabledSeller('Filter Weaver');
    const pot = await list(potter, 'Filtered jug', '', 3000, 0);
    const pot2 = await list(potter, 'Filtered cup', '', 1500);
    const rug = await list(weaver, 'Filtered rug', '', 2000);
    const filtered = await get(`/?q=filtered&seller=${potter}`);
    expect(shown(filtered.body).sort()).toEqual([pot, pot2].sort());
    expect(filtered.body).toContain('Only listings by <a href="/sellers/');
    expect(filtered.body).toContain(`name="seller" value="${potter}"`);

    const shop = await get(`/sellers/${potter}?q=filtered&sort=price_asc`);
    expect(shop.statusCode).toBe(200);
    expect(shown(shop.body)).toEqual([pot2, pot]);
    expect(shop.body).toContain('data-testid="sold-out"');
    expect(shop.body).toContain(`action="/sellers/${potter}"`);
    expect(shown((await get(`/sellers/${weaver}`)).body)).toEqual([rug]);
    expect((await get(`/sellers/${weaver}?q=jug`)).body).toContain('No results for “jug”');
  });

  it("pages a seller's shop with its cursor, the order kept in the link", async () => {
    const seller = await enabledSeller('Many Things');
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push(await list(seller, `Thing ${i}`, '', 1000 + (i % 3) * 100));
    const first = await get(`/sellers/${seller}?sort=price_desc`);
    const next = /href="([^"]+)" rel="next"/.exec(first.body)?.[1]?.replaceAll('&#x3D;', '=').replaceAll('&amp;', '&');
    expect(next).toMatch(new RegExp(`^/sellers/${seller}\\?sort=price_desc&after=`));
    const second = await get(next!);
    expect(second.statusCode).toBe(200);
    const all = [...shown(first.body), ...shown(second.body)];
    expect(all.sort()).toEqual([...ids].sort());
    expect(second.body).toContain('First page');
  });

  it('answers 400 with a message for a cursor, order, seller or words it did not make; never a 500', async () => {
    const seller = await enabledSeller('Bad Requests');
    const listing = await list(seller, 'Requested vase');
    const priceCursor = encodeCursor({ sort: 'price_asc', price: 1000, id: listing });
    const cases: [string, RegExp][] = [
      ['/?after=nonsense!', /page link is broken/],
      [`/?after=${'a'.repeat(201)}`, /after must NOT have more than 200 characters/],
      ['/?after=bm90IGpzb24', /page link is broken/],
      [`/?after=${Buffer.from('["newest","yesterday","x"]').toString('base64url')}`, /page link is broken/],
      [`/?after=${Buffer.from(`["newest","2026-11-30T01:02:03.000000Z","${listing}"]x`).toString('base64url')}`, /page link is broken/],
      [`/?sort=newest&after=${priceCursor}`, /page link is broken/], // a cursor made for another order
      [`/?sort=price_asc&after=${Buffer.from(`["price_asc",1.5,"${listing}"]`).toString('base64url')}`, /page link is broken/],
      ['/?sort=cheapest', /sort must be equal to one of the allowed values/],
      ['/?seller=not-a-uuid', /seller must match/],
      ['/?q=tea%00pot', /q must not contain control characters/],
      ['/?q=tea%07pot', /q must not contain control characters/],
      [`/?q=${'a'.repeat(201)}`, /q must NOT have more than 200 characters/],
      [`/sellers/${seller}?after=bm90IGpzb24`, /page link is broken/],
      [`/sellers/${seller}?q=%00`, /q must not contain control characters/],
    ];
    for (const [url, message] of cases) {
      const response = await get(url);
      expect(response.statusCode, url).toBe(400);
      expect(response.body.replaceAll('&#x27;', "'"), url).toMatch(message);
    }
    expect((await get(`/?sort=price_asc&after=${priceCursor}`)).statusCode).toBe(200);
  });
});
