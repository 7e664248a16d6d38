// What sellers and buyers do with listing pictures. Each function is one action, owns its
// transaction, and checks that the listing is the seller's own (a stranger's listing and a missing
// one get the same answer).
//
// Adding a picture: the upload is checked and resized first (CPU, no locks held), its renditions
// are written to storage under fresh names, and only then, in one short transaction with the
// listing row locked, is the row added — if the listing is full by then, or already has this
// picture, the row is not added and the files just written are removed again. A crash between the
// two leaves unreferenced files, never a row pointing at missing ones.
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { ObjectStorage } from '../storage/storage.ts';
import { processPicture, type PictureRefusal } from './processing.ts';
import {
  appendListingImage,
  countListingImages,
  deleteListingImage,
  findOwnListingTitle,
  hasImageWithHash,
  listCovers,
  listListingImages,
  lockOwnListing,
  swapWithNeighbour,
} from './queries.ts';
import { MAX_PICTURES_PER_LISTING } from './rules.ts';
import { fileNameOf, pictureView, storageKeyOf, type PictureView } from './urls.ts';

export type PictureActionRefusal =
  PictureRefusal | { ok: false; reason: 'not_found' | 'full' | 'duplicate' | 'storage_unavailable'; message: string; cause?: unknown };

const notFound = { ok: false, reason: 'not_found', message: 'No such listing.' } as const;
const full = {
  ok: false,
  reason: 'full',
  message: `A listing can have at most ${MAX_PICTURES_PER_LISTING} pictures. Remove one to add another.`,
} as const;

/** Before reading an upload: is this the seller's listing, and is there room for one more? */
export async function checkRoomForPicture(db: Kysely<Database>, sellerId: string, listingId: string): Promise<{ ok: true } | PictureActionRefusal> {
  const listing = await findOwnListingTitle(db, sellerId, listingId);
  if (listing === undefined) return notFound;
  if ((await countListingImages(db, listingId)) >= MAX_PICTURES_PER_LISTING) return full;
  return { ok: true };
}

export async function addListingPicture(
  db: Kysely<Database>,
  storage: ObjectStorage,
  input: { sellerId: string; listingId: string; upload: Buffer },
): Promise<{ ok: true; picture: PictureView } | PictureActionRefusal> {
  const processed = await processPicture(input.upload);
  if (!processed.ok) return processed;
  const { picture } = processed;

  const imageId = randomUUID();
  const thumbKey = storageKeyOf(imageId, fileNameOf('thumb', picture.thumb.hash));
  const largeKey = storageKeyOf(imageId, fileNameOf('large', picture.large.hash));
  const removeFiles = () => Promise.all([storage.delete(thumbKey), storage.delete(largeKey)]).catch(() => undefined);
  try {
    await storage.put(thumbKey, picture.thumb.bytes, 'image/webp');
    await storage.put(largeKey, picture.large.bytes, 'image/webp');
  } catch (cause) {
    await removeFiles();
    return { ok: false, reason: 'storage_unavailable', message: 'We could not save the picture just now. Please try again in a moment.', cause };
  }

  const outcome = await db
    .transaction()
    .execute(async (trx) => {
      if ((await lockOwnListing(trx, input.sellerId, input.listingId)) === undefined) return notFound;
      if ((await countListingImages(trx, input.listingId)) >= MAX_PICTURES_PER_LISTING) return full;
      if (await hasImageWithHash(trx, input.listingId, picture.contentHash)) {
        return { ok: false, reason: 'duplicate', message: 'This picture is already on the listing.' } as const;
      }
      const row = await appendListingImage(trx, {
        id: imageId,
        listing_id: input.listingId,
        content_hash: picture.contentHash,
        bytes: picture.bytes,
        thumb_key: thumbKey,
        thumb_width: picture.thumb.width,
        thumb_height: picture.thumb.height,
        large_key: largeKey,
        large_width: picture.large.width,
        large_height: picture.large.height,
      });
      return { ok: true, picture: pictureView(row) } as const;
    })
    .catch(async (error: unknown) => {
      await removeFiles();
      throw error;
    });
  if (!outcome.ok) await removeFiles();
  return outcome;
}

/** Removes a picture; its files go after the row has gone (a failure there leaves only unreferenced files). */
export async function removeListingPicture(
  db: Kysely<Database>,
  storage: ObjectStorage,
  input: { sellerId: string; listingId: string; imageId: string },
): Promise<{ ok: true; filesRemoved: boolean } | PictureActionRefusal> {
  const removed = await db.transaction().execute(async (trx) => {
    if ((await lockOwnListing(trx, input.sellerId, input.listingId)) === undefined) return undefined;
    return deleteListingImage(trx, input.listingId, input.imageId);
  });
  if (removed === undefined) return { ok: false, reason: 'not_found', message: 'No such picture.' };
  const filesRemoved = await Promise.all([storage.delete(removed.thumb_key), storage.delete(removed.large_key)]).then(
    () => true,
    () => false,
  );
  return { ok: true, filesRemoved };
}

export async function moveListingPicture(
  db: Kysely<Database>,
  input: { sellerId: string; listingId: string; imageId: string; direction: 'earlier' | 'later' },
): Promise<{ ok: true; moved: boolean } | PictureActionRefusal> {
  return db.transaction().execute(async (trx) => {
    if ((await lockOwnListing(trx, input.sellerId, input.listingId)) === undefined) return notFound;
    return { ok: true, moved: await swapWithNeighbour(trx, input.listingId, input.imageId, input.direction === 'earlier' ? -1 : 1) } as const;
  });
}

export type DescribedPicture = PictureView & { number: number; alt: string };

/** The listing's pictures in order, each with alt text made from the listing's title. */
export async function picturesOfListing(db: Kysely<Database>, listing: { id: string; title: string }): Promise<DescribedPicture[]> {
  const rows = await listListingImages(db, listing.id);
  return rows.map((row, i) => ({ ...pictureView(row), number: i + 1, alt: altText(listing.title, i + 1, rows.length) }));
}

/** The title says what the picture shows; a second picture says which one it is. */
export function altText(title: string, number: number, count: number): string {
  return count <= 1 || number === 1 ? title : `${title}, picture ${number} of ${count}`;
}

/** The listing page: the cover large, the rest as thumbnails linking to their large size. */
export async function galleryOf(
  db: Kysely<Database>,
  listing: { id: string; title: string },
): Promise<{ cover: DescribedPicture | null; others: DescribedPicture[] }> {
  const [cover, ...others] = await picturesOfListing(db, listing);
  return { cover: cover ?? null, others };
}

/** The seller's edit page: the pictures with what each can still do, and whether one more fits. */
export async function picturesForEditing(
  db: Kysely<Database>,
  listing: { id: string; title: string },
): Promise<{
  listingId: string;
  pictures: (DescribedPicture & { first: boolean; last: boolean })[];
  count: number;
  max: number;
  room: boolean;
}> {
  const pictures = await picturesOfListing(db, listing);
  return {
    listingId: listing.id,
    pictures: pictures.map((p, i) => ({ ...p, first: i === 0, last: i === pictures.length - 1 })),
    count: pictures.length,
    max: MAX_PICTURES_PER_LISTING,
    room: pictures.length < MAX_PICTURES_PER_LISTING,
  };
}

/** Each listing with its cover picture (or cover: null), for catalogue cards and seller pages. */
export async function withCovers<T extends { id: string }>(db: Kysely<Database>, listings: T[]): Promise<(T & { cover: PictureView | null })[]> {
  const covers = new Map(
    (
      await listCovers(
        db,
        listings.map((l) => l.id),
      )
    ).map((row) => [row.listing_id, pictureView(row)]),
  );
  return listings.map((listing) => ({ ...listing, cover: covers.get(listing.id) ?? null }));
}
