// Search ranking and keyset paging over 10,000 listings (issue 16 point 2): walking every page of
// each order visits every sellable listing exactly once, in order, through ties in price, in
// created_at and in rank; hidden listings (deactivated, taken down, a suspended or disabled
// seller's) never appear. The cursor goes through its text form between pages, as in a link.
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { seedCatalogueListings, seedMarketplace } from '../../src/bench/support/seed.ts';
import { searchCatalogue, type CatalogueCard } from '../../src/listings/queries.ts';
import { decodeCursor, encodeCursor, normaliseSearch, type CatalogueAsk, type CatalogueCursor } from '../../src/listings/search.ts';
import { TestClient } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';

const LISTINGS = 10_000;
const w = useWorld();
let sellerIds: string[];

beforeAll(async () => {
  await seedMarketplace(w.db, { sellers: 20, buyers: 0, listingsPerSeller: 0 });
  await seedCatalogueListings(w.db, LISTINGS);
  sellerIds = (await w.db.selectFrom('sellers').select('id').orderBy('id').execute()).map((s) => s.id);
  // Hidden from buyers: one suspended seller, one who can no longer take payments, one listing taken down.
  await w.db.insertInto('seller_suspensions').values({ seller_id: sellerIds[3]!, reason: 'Reported' }).execute();
  await w.db.updateTable('sellers').set({ charges_enabled: false }).where('id', '=', sellerIds[4]!).execute();
  const takenDown = await w.db.selectFrom('listings').select('id').where('active', '=', true).orderBy('id').limit(1).executeTakeFirstOrThrow();
  await w.db.insertInto('listing_takedowns').values({ listing_id: takenDown.id, reason: 'Prohibited' }).execute();
  await sql`analyze listings`.execute(w.db);
}, 120_000);

/** The oracle, written apart from the catalogue's query: what a buyer may see, matching `words`. */
async function visibleIds(words?: string, sellerId?: string): Promise<string[]> {
  const rows = await sql<{ id: string }>`
    select l.id from listings l join sellers s on s.id = l.seller_id
     where l.active and s.account_state = 'enabled' and s.charges_enabled
       and s.id not in (select seller_id from seller_suspensions)
       and l.id not in (select listing_id from listing_takedowns)
       and (${words ?? null}::text is null or l.search_vector @@ websearch_to_tsquery('english', ${words ?? ''}))
       and (${sellerId ?? null}::uuid is null or l.seller_id = ${sellerId ?? null}::uuid)`.execute(w.db);
  return rows.rows.map((r) => r.id).sort();
}

type Row = CatalogueCard & { rank?: number; created_key?: string };

/** Every page of a search, the cursor passed on in its text form; the rows in the order shown. */
async function walk(ask: CatalogueAsk): Promise<{ rows: Row[]; pages: number }> {
  const search = normaliseSearch(ask);
  const rows: Row[] = [];
  let after: CatalogueCursor | undefined;
  let pages = 0;
  for (;;) {
    const page = await searchCatalogue(w.db, { ...search, after });
    pages += 1;
    expect(page.listings.length).toBeLessThanOrEqual(24);
    rows.push(...(page.listings as Row[]));
    if (page.next === null) return { rows, pages };
    after = decodeCursor(encodeCursor(page.next), search.sort);
  }
}

function expectEachOnce(rows: Row[], expected: string[]) {
  const ids = rows.map((r) => r.id);
  expect(new Set(ids).size).toBe(ids.length);
  expect([...ids].sort()).toEqual(expected);
}

/** Each row's key compared with the next: never out of order, ties broken by id in the same direction. */
function expectOrdered(rows: Row[], key: (row: Row) => number | string, direction: 'asc' | 'desc') {
  for (let i = 1; i < rows.length; i++) {
    const [a, b] = [rows[i - 1]!, rows[i]!];
    const sign = direction === 'asc' ? 1 : -1;
    const byKey = key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
    const byId = a.id < b.id ? -1 : 1;
    expect(byKey === 0 ? byId * sign : byKey * sign, `rows ${i - 1} and ${i}`).toBe(-1);
  }
}

describe('keyset paging through 10,000 listings', () => {
  it('has hidden listings and ties to get through', async () => {
    const all = await visibleIds();
    expect(all.length).toBeGreaterThan(8000);
    expect(all.length).toBeLessThan(LISTINGS);
  });

  it('newest first: every sellable listing once, seven to a timestamp', async () => {
    const { rows } = await walk({});
    expectEachOnce(rows, await visibleIds());
    expectOrdered(rows, (r) => r.created_key!, 'desc');
  });

  it('price up and price down: every sellable listing once through hundreds of equal prices; sold-out ones in their place', async () => {
    const expected = await visibleIds();
    for (const [sort, direction] of [
      ['price_asc', 'asc'],
      ['price_desc', 'desc'],
    ] as const) {
      const { rows } = await walk({ sort });
      expectEachOnce(rows, expected);
      expectOrdered(rows, (r) => Number(r.price_amount), direction);
      expect(rows.filter((r) => r.stock === 0).length).toBeGreaterThan(500);
      expect(rows.findIndex((r) => r.stock === 0)).toBeLessThan(100); // not pushed to the end
    }
  });

  it('by relevance: every match once, title matches first, through thousands of equal ranks', async () => {
    const { rows } = await walk({ q: 'ceramic' });
    expectEachOnce(rows, await visibleIds('ceramic'));
    expectOrdered(rows, (r) => r.rank!, 'desc');
    // "Ceramic plate …" (title, weight A) above "… a ceramic piece …" (description only, weight B).
    const lastTitleMatch = rows.findLastIndex((r) => r.title.startsWith('Ceramic plate'));
    const firstDescriptionOnly = rows.findIndex((r) => !r.title.startsWith('Ceramic plate'));
    expect(firstDescriptionOnly).toBeGreaterThan(0);
    expect(lastTitleMatch).toBeLessThan(firstDescriptionOnly);
  });

  it('by relevance with either of two words: every match once, in rank order', async () => {
    const { rows } = await walk({ q: 'mug or bowl' });
    expectEachOnce(rows, await visibleIds('mug or bowl'));
    expectOrdered(rows, (r) => r.rank!, 'desc');
  });

  it('one seller, each order: only theirs, each once', async () => {
    const sellerId = sellerIds[7]!;
    const expected = await visibleIds(undefined, sellerId);
    expect(expected.length).toBeGreaterThan(400);
    for (const sort of ['newest', 'price_asc', 'price_desc'] as const) {
      const { rows } = await walk({ sort, seller: sellerId });
      expectEachOnce(rows, expected);
      expect(rows.every((r) => r.seller_id === sellerId)).toBe(true);
    }
  });

  it('through the page links of the catalogue, sort and words kept: every match once', async () => {
    const client = new TestClient(w.app);
    const seen: string[] = [];
    let url: string | undefined = '/?q=wool&sort=price_desc';
    while (url !== undefined) {
      const response = await client.get(url);
      expect(response.statusCode, url).toBe(200);
      seen.push(...[...response.body.matchAll(/data-listing-id="([^"]+)"/g)].map((m) => m[1]!));
      const next = /<a [^>]*href="([^"]+)" rel="next"/.exec(response.body)?.[1]?.replaceAll('&#x3D;', '=').replaceAll('&amp;', '&');
      if (next !== undefined) {
        expect(next).toContain('q=wool');
        expect(next).toContain('sort=price_desc');
      }
      url = next;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual(await visibleIds('wool'));
  });
});
