// Every SQL statement of moderation: suspensions, takedowns, and what the seller and admin see of them.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema.ts';

export async function lockSellerForModeration(trx: Transaction<Database>, sellerId: string) {
  return trx.selectFrom('sellers').select('id').where('id', '=', sellerId).forUpdate().executeTakeFirst();
}

export async function findSuspension(db: Kysely<Database>, sellerId: string) {
  return db.selectFrom('seller_suspensions').selectAll().where('seller_id', '=', sellerId).executeTakeFirst();
}

export async function upsertSuspension(trx: Transaction<Database>, values: { sellerId: string; reason: string; by: string }): Promise<void> {
  await trx
    .insertInto('seller_suspensions')
    .values({ seller_id: values.sellerId, reason: values.reason, suspended_by: values.by })
    .onConflict((oc) => oc.column('seller_id').doUpdateSet({ reason: values.reason, suspended_by: values.by }))
    .execute();
}

export async function deleteSuspension(trx: Transaction<Database>, sellerId: string): Promise<boolean> {
  const result = await trx.deleteFrom('seller_suspensions').where('seller_id', '=', sellerId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function lockListingForModeration(trx: Transaction<Database>, listingId: string) {
  return trx.selectFrom('listings').select(['id', 'seller_id', 'title']).where('id', '=', listingId).forUpdate().executeTakeFirst();
}

export async function upsertTakedown(trx: Transaction<Database>, values: { listingId: string; reason: string; by: string }): Promise<void> {
  await trx
    .insertInto('listing_takedowns')
    .values({ listing_id: values.listingId, reason: values.reason, taken_down_by: values.by })
    .onConflict((oc) => oc.column('listing_id').doUpdateSet({ reason: values.reason, taken_down_by: values.by }))
    .execute();
}

export async function deleteTakedown(trx: Transaction<Database>, listingId: string): Promise<boolean> {
  const result = await trx.deleteFrom('listing_takedowns').where('listing_id', '=', listingId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** The seller's listings with any takedown (the seller's dashboard and the admin's moderation page). */
export async function listingsWithTakedowns(db: Kysely<Database>, sellerId: string) {
  return db
    .selectFrom('listings')
    .leftJoin('listing_takedowns', 'listing_takedowns.listing_id', 'listings.id')
    .select(['listings.id', 'listings.title', 'listings.active', 'listing_takedowns.reason as takedown_reason', 'listing_takedowns.taken_down_at'])
    .where('listings.seller_id', '=', sellerId)
    .orderBy('listings.created_at', 'desc')
    .execute();
}
