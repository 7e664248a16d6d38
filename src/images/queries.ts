// All of the pictures feature's SQL. Functions that change a listing's pictures take a
// Transaction and lock the listing row first, so two uploads (or an upload and a removal) of the
// same listing queue up instead of both seeing seven pictures and both adding an eighth.
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database, ListingImage } from '../db/schema.ts';

/** The listing, locked, if it belongs to this seller; undefined for "not yours" and "no such listing" alike. */
export async function lockOwnListing(trx: Transaction<Database>, sellerId: string, listingId: string): Promise<{ id: string; title: string } | undefined> {
  return trx.selectFrom('listings').select(['id', 'title']).where('id', '=', listingId).where('seller_id', '=', sellerId).forUpdate().executeTakeFirst();
}

export async function findOwnListingTitle(db: Kysely<Database>, sellerId: string, listingId: string): Promise<{ id: string; title: string } | undefined> {
  return db.selectFrom('listings').select(['id', 'title']).where('id', '=', listingId).where('seller_id', '=', sellerId).executeTakeFirst();
}

export async function countListingImages(db: Kysely<Database>, listingId: string): Promise<number> {
  const row = await db
    .selectFrom('listing_images')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('listing_id', '=', listingId)
    .executeTakeFirstOrThrow();
  return row.n;
}

export async function listListingImages(db: Kysely<Database>, listingId: string): Promise<ListingImage[]> {
  return db.selectFrom('listing_images').selectAll().where('listing_id', '=', listingId).orderBy('position').execute();
}

/** The cover (position 0) of each listing that has one. */
export async function listCovers(db: Kysely<Database>, listingIds: readonly string[]): Promise<ListingImage[]> {
  if (listingIds.length === 0) return [];
  return db.selectFrom('listing_images').selectAll().where('listing_id', 'in', listingIds).where('position', '=', 0).execute();
}

export async function hasImageWithHash(trx: Transaction<Database>, listingId: string, contentHash: string): Promise<boolean> {
  const row = await trx
    .selectFrom('listing_images')
    .select('id')
    .where('listing_id', '=', listingId)
    .where('content_hash', '=', contentHash)
    .executeTakeFirst();
  return row !== undefined;
}

export type NewListingImage = Omit<ListingImage, 'position' | 'created_at'>;

/** Appends after the last picture. The listing must be locked by the caller (see lockOwnListing). */
export async function appendListingImage(trx: Transaction<Database>, image: NewListingImage): Promise<ListingImage> {
  const position = await countListingImages(trx, image.listing_id);
  return trx
    .insertInto('listing_images')
    .values({ ...image, position })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Removes one picture and closes the gap, so positions stay 0..n-1. Returns the removed row. */
export async function deleteListingImage(trx: Transaction<Database>, listingId: string, imageId: string): Promise<ListingImage | undefined> {
  const removed = await trx.deleteFrom('listing_images').where('id', '=', imageId).where('listing_id', '=', listingId).returningAll().executeTakeFirst();
  if (removed === undefined) return undefined;
  await trx
    .updateTable('listing_images')
    .set((eb) => ({ position: eb('position', '-', 1) }))
    .where('listing_id', '=', listingId)
    .where('position', '>', removed.position)
    .execute();
  return removed;
}

/**
 * Swaps a picture with its neighbour (-1: earlier, +1: later). The position uniqueness is checked
 * at commit, so the two updates may pass through a moment where both share a position.
 */
export async function swapWithNeighbour(trx: Transaction<Database>, listingId: string, imageId: string, offset: -1 | 1): Promise<boolean> {
  const image = await trx
    .selectFrom('listing_images')
    .select(['id', 'position'])
    .where('id', '=', imageId)
    .where('listing_id', '=', listingId)
    .executeTakeFirst();
  if (image === undefined) return false;
  const neighbour = await trx
    .selectFrom('listing_images')
    .select(['id', 'position'])
    .where('listing_id', '=', listingId)
    .where('position', '=', image.position + offset)
    .executeTakeFirst();
  if (neighbour === undefined) return false;
  await trx.updateTable('listing_images').set({ position: neighbour.position }).where('id', '=', image.id).execute();
  await trx.updateTable('listing_images').set({ position: image.position }).where('id', '=', neighbour.id).execute();
  return true;
}
