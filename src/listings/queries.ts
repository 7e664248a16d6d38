// Every SQL statement about listings. Every seller-side query is scoped by seller id, so "someone
// else's listing" and "no such listing" are the same answer (404) and never leak. Public queries
// show only active listings of sellers whose account is enabled.
import { sql, type Kysely } from 'kysely';
import type { Database, Listing } from '../db/schema.ts';
import { sellerCanSell } from '../sellers/queries.ts';
import type { ListingInput } from './rules.ts';
import type { CatalogueCursor, CatalogueSearch } from './search.ts';

/** The columns the seller's listing form sets, on creation and on every edit. */
function formColumns(input: ListingInput) {
  return {
    title: input.title,
    description: input.description,
    price_amount: input.priceAmount,
    currency: input.currency,
    stock: input.stock,
    kind: input.kind,
  };
}

export async function createListing(db: Kysely<Database>, sellerId: string, input: ListingInput): Promise<Listing> {
  return db
    .insertInto('listings')
    .values({ seller_id: sellerId, ...formColumns(input) })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Updates only the seller's own listing; undefined when it is not theirs (the route answers 404). */
export async function updateListing(db: Kysely<Database>, sellerId: string, listingId: string, input: ListingInput): Promise<Listing | undefined> {
  return db
    .updateTable('listings')
    .set({ ...formColumns(input), updated_at: new Date() })
    .where('id', '=', listingId)
    .where('seller_id', '=', sellerId)
    .returningAll()
    .executeTakeFirst();
}

export async function setListingActive(db: Kysely<Database>, sellerId: string, listingId: string, active: boolean): Promise<Listing | undefined> {
  return db
    .updateTable('listings')
    .set({ active, updated_at: new Date() })
    .where('id', '=', listingId)
    .where('seller_id', '=', sellerId)
    .returningAll()
    .executeTakeFirst();
}

export async function findOwnListing(db: Kysely<Database>, sellerId: string, listingId: string): Promise<Listing | undefined> {
  return db.selectFrom('listings').selectAll().where('id', '=', listingId).where('seller_id', '=', sellerId).executeTakeFirst();
}

export async function listSellerListings(db: Kysely<Database>, sellerId: string): Promise<Listing[]> {
  return db
    .selectFrom('listings')
    .selectAll()
    .where('seller_id', '=', sellerId)
    .orderBy('active', 'desc')
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
}

export interface PublicListing extends Listing {
  seller_name: string;
}

/**
 * What is for sale: active listings of sellers who can sell (sellerCanSell: account enabled, not
 * suspended), unless an admin took the listing down (src/moderation).
 * Selects nothing: each caller names the columns its page shows.
 */
function sellable(db: Kysely<Database>) {
  return db
    .selectFrom('listings')
    .innerJoin('sellers', 'sellers.id', 'listings.seller_id')
    .innerJoin('users', 'users.id', 'sellers.id')
    .where('listings.active', '=', true)
    .where((eb) => sellerCanSell(eb))
    .where((eb) => eb.not(eb.exists(eb.selectFrom('listing_takedowns').select('listing_id').whereRef('listing_takedowns.listing_id', '=', 'listings.id'))));
}

export const CATALOGUE_PAGE_SIZE = 24;

/** What a catalogue card shows, and nothing more (a listing's description can be 5,000 characters). */
export interface CatalogueCard {
  id: string;
  title: string;
  price_amount: number;
  currency: string;
  stock: number | null;
  seller_id: string;
  seller_name: string;
}

/** The buyer's words as a query: websearch syntax ("quoted phrase", -not, or), which never fails to parse. */
const wordsQuery = (words: string) => sql`websearch_to_tsquery('english'::regconfig, ${words})`;
const rankOf = (words: string) => sql<number>`ts_rank(listings.search_vector, ${wordsQuery(words)})`;
/** created_at to the microsecond, in UTC: what a newest-first cursor carries (a JS Date would drop microseconds and skip rows). */
const createdKey = sql<string>`to_char(listings.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** Sellable listings matching the search's words and seller, before any order or page. */
function matching(db: Kysely<Database>, search: CatalogueSearch) {
  let query = sellable(db);
  if (search.words !== undefined) query = query.where(sql<boolean>`listings.search_vector @@ ${wordsQuery(search.words)}`);
  if (search.sellerId !== undefined) query = query.where('listings.seller_id', '=', search.sellerId);
  return query;
}

/**
 * One page of the catalogue in the search's order, each order with the id breaking ties, starting
 * strictly after the cursor by a row comparison that matches the order's index
 * (migrations/20261130_2345_search_catalogue.ts). Sold-out listings keep their place rather than
 * sorting last: stock changes while a buyer pages, and a listing jumping to the end mid-walk would
 * be shown twice or skipped; the card says "Sold out" instead. Prices sort by amount in minor units,
 * whatever the currency.
 */
export async function searchCatalogue(
  db: Kysely<Database>,
  search: CatalogueSearch,
  pageSize = CATALOGUE_PAGE_SIZE,
): Promise<{ listings: CatalogueCard[]; next: CatalogueCursor | null }> {
  const base = matching(db, search).select([
    'listings.id',
    'listings.title',
    'listings.price_amount',
    'listings.currency',
    'listings.stock',
    'listings.seller_id',
    'users.display_name as seller_name',
  ]);
  const limit = pageSize + 1;
  const { after } = search;
  let rows: CatalogueCard[];
  let cursorOf: (row: CatalogueCard) => CatalogueCursor;
  switch (search.sort) {
    case 'relevance': {
      const rank = rankOf(search.words ?? '');
      let query = base.select(rank.as('rank'));
      if (after?.sort === 'relevance') query = query.where(sql<boolean>`(${rank}, listings.id) < (${after.rank}::real, ${after.id}::uuid)`);
      const ranked = await query
        .orderBy(sql`rank`, 'desc')
        .orderBy('listings.id', 'desc')
        .limit(limit)
        .execute();
      rows = ranked;
      cursorOf = (row) => ({ sort: 'relevance', rank: (row as (typeof ranked)[number]).rank, id: row.id });
      break;
    }
    case 'newest': {
      let query = base.select(createdKey.as('created_key'));
      if (after?.sort === 'newest')
        query = query.where(sql<boolean>`(listings.created_at, listings.id) < (${after.createdAt}::timestamptz, ${after.id}::uuid)`);
      const newest = await query.orderBy('listings.created_at', 'desc').orderBy('listings.id', 'desc').limit(limit).execute();
      rows = newest;
      cursorOf = (row) => ({ sort: 'newest', createdAt: (row as (typeof newest)[number]).created_key, id: row.id });
      break;
    }
    case 'price_asc':
    case 'price_desc': {
      const sort = search.sort;
      const direction = sort === 'price_asc' ? 'asc' : 'desc';
      let query = base;
      if (after?.sort === sort) {
        const comparison = sort === 'price_asc' ? sql`>` : sql`<`;
        query = query.where(sql<boolean>`(listings.price_amount, listings.id) ${comparison} (${after.price}::bigint, ${after.id}::uuid)`);
      }
      rows = await query.orderBy('listings.price_amount', direction).orderBy('listings.id', direction).limit(limit).execute();
      cursorOf = (row) => ({ sort, price: Number(row.price_amount), id: row.id });
      break;
    }
  }
  const listings = rows.slice(0, pageSize);
  const last = listings[listings.length - 1];
  return { listings, next: rows.length > pageSize && last !== undefined ? cursorOf(last) : null };
}

/** How many sellable listings match the search's words (and seller), for "12 results for …". */
export async function countMatches(db: Kysely<Database>, search: CatalogueSearch): Promise<number> {
  const row = await matching(db, search)
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

export async function findPublicListing(db: Kysely<Database>, listingId: string): Promise<PublicListing | undefined> {
  return sellable(db).selectAll('listings').select('users.display_name as seller_name').where('listings.id', '=', listingId).executeTakeFirst();
}

/** A seller's public shop heading; undefined when they cannot sell (or are suspended): their page is a 404. */
export async function findPublicSeller(db: Kysely<Database>, sellerId: string): Promise<{ id: string; name: string; since: Date } | undefined> {
  const seller = await db
    .selectFrom('sellers')
    .innerJoin('users', 'users.id', 'sellers.id')
    .select(['sellers.id', 'users.display_name', 'sellers.created_at'])
    .where('sellers.id', '=', sellerId)
    .where((eb) => sellerCanSell(eb))
    .executeTakeFirst();
  return seller === undefined ? undefined : { id: seller.id, name: seller.display_name, since: seller.created_at };
}
