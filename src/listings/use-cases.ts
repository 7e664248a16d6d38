// What a seller does with their listings. The form is checked first (./rules.ts); a listing that is
// not the seller's is the same as none.
import type { Kysely } from 'kysely';
import type { Database, Listing } from '../db/schema.ts';
import { DomainError, found } from '../errors.ts';
import { ensureSeller } from '../sellers/queries.ts';
import { createListing, setListingActive, updateListing } from './queries.ts';
import { validateListing, type ListingForm } from './rules.ts';

function checked(form: ListingForm) {
  const result = validateListing(form);
  if (!result.ok) throw new DomainError('listing_invalid', { fields: result.errors });
  return result.value;
}

/** A new listing; `sellerEnabled` says whether buyers see it now (only sellers who can take payments are sold for). */
export async function addListing(db: Kysely<Database>, sellerId: string, form: ListingForm): Promise<{ listing: Listing; sellerEnabled: boolean }> {
  const input = checked(form);
  const seller = await ensureSeller(db, sellerId);
  return { listing: await createListing(db, sellerId, input), sellerEnabled: seller.account_state === 'enabled' };
}

export async function editListing(db: Kysely<Database>, sellerId: string, listingId: string, form: ListingForm): Promise<Listing> {
  return found(await updateListing(db, sellerId, listingId, checked(form)));
}

export async function activateListing(db: Kysely<Database>, sellerId: string, listingId: string, active: boolean): Promise<Listing> {
  return found(await setListingActive(db, sellerId, listingId, active));
}
