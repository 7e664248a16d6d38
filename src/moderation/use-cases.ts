// An admin suspends a seller or takes a listing down, each with a reason the seller is shown, and
// lifts either again. Each is one transaction with its audit entry. A suspension touches nothing
// that money depends on: orders and subscriptions already placed, refunds, disputes and payouts go
// on as before. Nothing new is sold: the suspension is part of the one "can sell" rule
// (`sellerCanSell` in src/sellers/queries.ts) that the catalogue, orders, public plans, subscribing
// and the seller's plan changes all use, and the takedown is read by the catalogue and placeOrder.
import type { Kysely } from 'kysely';
import { recordAudit, type Actor } from '../admin/audit.ts';
import type { Database } from '../db/schema.ts';
import { found } from '../errors.ts';
import {
  deleteSuspension,
  deleteTakedown,
  findSuspension,
  listingsWithTakedowns,
  lockListingForModeration,
  lockSellerForModeration,
  upsertSuspension,
  upsertTakedown,
} from './queries.ts';

export async function suspendSeller(db: Kysely<Database>, actor: Actor, input: { sellerId: string; reason: string }): Promise<void> {
  await db.transaction().execute(async (trx) => {
    found(await lockSellerForModeration(trx, input.sellerId));
    const before = await findSuspension(trx, input.sellerId);
    await upsertSuspension(trx, { sellerId: input.sellerId, reason: input.reason.trim(), by: actor.id });
    await recordAudit(trx, actor, {
      action: 'seller.suspend',
      targetType: 'seller',
      targetId: input.sellerId,
      before: { suspended: before !== undefined, reason: before?.reason ?? null },
      after: { suspended: true, reason: input.reason.trim() },
    });
  });
}

export async function reinstateSeller(db: Kysely<Database>, actor: Actor, sellerId: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    found(await lockSellerForModeration(trx, sellerId));
    const before = await findSuspension(trx, sellerId);
    if (!(await deleteSuspension(trx, sellerId))) return;
    await recordAudit(trx, actor, {
      action: 'seller.reinstate',
      targetType: 'seller',
      targetId: sellerId,
      before: { suspended: true, reason: before?.reason ?? null },
      after: { suspended: false },
    });
  });
}

/** Takes one listing down; returns its seller (the admin goes back to the seller's moderation page). */
export async function takeDownListing(db: Kysely<Database>, actor: Actor, input: { listingId: string; reason: string }): Promise<string> {
  return db.transaction().execute(async (trx) => {
    const listing = found(await lockListingForModeration(trx, input.listingId));
    await upsertTakedown(trx, { listingId: listing.id, reason: input.reason.trim(), by: actor.id });
    await recordAudit(trx, actor, {
      action: 'listing.take_down',
      targetType: 'listing',
      targetId: listing.id,
      before: { title: listing.title },
      after: { taken_down: true, reason: input.reason.trim(), seller_id: listing.seller_id },
    });
    return listing.seller_id;
  });
}

export async function restoreListing(db: Kysely<Database>, actor: Actor, listingId: string): Promise<string> {
  return db.transaction().execute(async (trx) => {
    const listing = found(await lockListingForModeration(trx, listingId));
    if (await deleteTakedown(trx, listing.id)) {
      await recordAudit(trx, actor, {
        action: 'listing.restore',
        targetType: 'listing',
        targetId: listing.id,
        before: { taken_down: true },
        after: { taken_down: false },
      });
    }
    return listing.seller_id;
  });
}

/** What the seller (dashboard) and the admin (moderation page) see: the suspension and each listing's takedown. */
export async function moderationOf(db: Kysely<Database>, sellerId: string) {
  const [suspension, listings] = await Promise.all([findSuspension(db, sellerId), listingsWithTakedowns(db, sellerId)]);
  return { suspension: suspension ?? null, listings, takedowns: listings.filter((l) => l.takedown_reason !== null) };
}
