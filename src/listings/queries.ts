// Every SQL statement about listings. Every seller-side query is scoped by seller id, so "someone
// else's listing" and "no such listing" are the same answer (404) and never leak. Public queries
// show only active listings of sellers whose account is enabled.
import { sql, type Kysely } from 'kysely';
import type { Database, Listing } from '../db/schema.ts';
import type { ListingInput } from './rules.ts';

export async function createListing(db: Kysely<Database>, sellerId: string, input: ListingInput): Promise<Listing> {
  return db.insertInto('listings').values({
    seller_id: sellerId,
    title: input.title,
    description: input.description,
    price_amount: input.priceAmount,
    currency: input.currency,
    stock: input.stock,
    kind: input.kind,
  }).returningAll().executeTakeFirstOrThrow();
}

/** Updates only the seller's own listing; undefined when it is not theirs (the route answers 404). */
export async function updateListing(db: Kysely<Database>, sellerId: string, listingId: string, input: ListingInput): Promise<Listing | undefined> {
  return db.updateTable('listings').set({
    title: input.title,
    description: input.description,
    price_amount: input.priceAmount,
    currency: input.currency,
    stock: input.stock,
    kind: input.kind,
    updated_at: new Date(),
  }).where('id', '=', listingId).where('seller_id', '=', sellerId).returningAll().executeTakeFirst();
}

export async function setListingActive(db: Kysely<Database>, sellerId: string, listingId: string, active: boolean): Promise<Listing | undefined> {
  return db.updateTable('listings').set({ active, updated_at: new Date() })
    .where('id', '=', listingId).where('seller_id', '=', sellerId).returningAll().executeTakeFirst();
}

export async function findOwnListing(db: Kysely<Database>, sellerId: string, listingId: string): Promise<Listing | undefined> {
  return db.selectFrom('listings').selectAll().where('id', '=', listingId).where('seller_id', '=', sellerId).executeTakeFirst();
}

export async function listSellerListings(db: Kysely<Database>, sellerId: string): Promise<Listing[]> {
  return db.selectFrom('listings').selectAll().where('seller_id', '=', sellerId)
    .orderBy('active', 'desc').orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
}

export interface PublicListing extends Listing {
  seller_name: string;
}

/**
 * Who may be sold for: sellers whose account is `enabled` (charges and payouts on, nothing due).
 * A restricted seller can sometimes still charge until Stripe's deadline, but we stop selling for
 * them at once: a buyer should never pay a seller whose account may be paused before fulfilment.
 */
function sellable(db: Kysely<Database>) {
  return db.selectFrom('listings')
    .innerJoin('sellers', 'sellers.id', 'listings.seller_id')
    .innerJoin('users', 'users.id', 'sellers.id')
    .selectAll('listings')
    .select('users.display_name as seller_name')
    .where('listings.active', '=', true)
    .where('sellers.account_state', '=', 'enabled')
    .where('sellers.charges_enabled', '=', true)
    // Moderation (src/moderation): a suspended seller's listings and a taken-down listing are hidden.
    .where((eb) => eb.not(eb.exists(eb.selectFrom('seller_suspensions').select('seller_id').whereRef('seller_suspensions.seller_id', '=', 'listings.seller_id'))))
    .where((eb) => eb.not(eb.exists(eb.selectFrom('listing_takedowns').select('listing_id').whereRef('listing_takedowns.listing_id', '=', 'listings.id'))));
}

export const CATALOGUE_PAGE_SIZE = 24;

/**
 * Newest first, keyset-paginated. The cursor is the id of the last listing shown; the next page
 * starts strictly after its (created_at, id) as read inside the database, at full microsecond
 * precision (a timestamp round-tripped through a JS Date would lose microseconds and skip rows).
 */
export async function catalogue(db: Kysely<Database>, after: string | undefined, pageSize = CATALOGUE_PAGE_SIZE): Promise<{ listings: PublicListing[]; nextCursor: string | null }> {
  let query = sellable(db);
  if (after !== undefined) {
    query = query.where(sql<boolean>`(listings.created_at, listings.id) < (select c.created_at, c.id from listings c where c.id = ${after})`);
  }
  const rows = await query.orderBy('listings.created_at', 'desc').orderBy('listings.id', 'desc').limit(pageSize + 1).execute();
  const hasMore = rows.length > pageSize;
  const listings = rows.slice(0, pageSize);
  return { listings, nextCursor: hasMore ? listings[listings.length - 1]?.id ?? null : null };
}

export async function findPublicListing(db: Kysely<Database>, listingId: string): Promise<PublicListing | undefined> {
  return sellable(db).where('listings.id', '=', listingId).executeTakeFirst();
}

export async function findPublicSeller(db: Kysely<Database>, sellerId: string): Promise<{ id: string; name: string; since: Date; listings: PublicListing[] } | undefined> {
  const seller = await db.selectFrom('sellers').innerJoin('users', 'users.id', 'sellers.id')
    .select(['sellers.id', 'users.display_name', 'sellers.created_at'])
    .where('sellers.id', '=', sellerId).where('sellers.account_state', '=', 'enabled').where('sellers.charges_enabled', '=', true)
    .where((eb) => eb.not(eb.exists(eb.selectFrom('seller_suspensions').select('seller_id').whereRef('seller_suspensions.seller_id', '=', 'sellers.id'))))
    .executeTakeFirst();
  if (seller === undefined) return undefined;
  const listings = await sellable(db).where('listings.seller_id', '=', sellerId)
    .orderBy('listings.created_at', 'desc').orderBy('listings.id', 'desc').limit(100).execute();
  return { id: seller.id, name: seller.display_name, since: seller.created_at, listings };
}
