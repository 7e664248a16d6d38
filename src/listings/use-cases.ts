// What a seller does with their listings. The form is checked first (./rules.ts); a listing that is
// not the seller's is the same as none.
import type { Kysely } from 'kysely';
import type { Database, Listing } from '../db/schema.ts';
import { DomainError, found } from '../errors.ts';
import { ensureSeller } from '../sellers/queries.ts';
import { listPublicPlans } from '../subscriptions/plan-queries.ts';
import type { CatalogueSource, CataloguePage } from './catalogue-cache.ts';
import { createListing, findPublicSeller, setListingActive, updateListing } from './queries.ts';
import type { CatalogueAsk } from './search.ts';
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

/** A page of the catalogue (searched, sorted, filtered by seller), with the filtering seller's name. */
export async function browseCatalogue(
  db: Kysely<Database>,
  catalogue: CatalogueSource,
  ask: CatalogueAsk,
): Promise<{ page: CataloguePage; sellerName: string | undefined }> {
  const page = await catalogue.page(ask);
  const sellerName = page.search.sellerId === undefined ? undefined : (await findPublicSeller(db, page.search.sellerId))?.name;
  return { page, sellerName };
}

/** A seller's public shop: who they are, their plans, and a page of their listings; not found if they cannot sell. */
export async function sellerShop(db: Kysely<Database>, catalogue: CatalogueSource, sellerId: string, ask: Omit<CatalogueAsk, 'seller'>) {
  const seller = found(await findPublicSeller(db, sellerId));
  const [page, plans] = await Promise.all([catalogue.page({ ...ask, seller: sellerId }), listPublicPlans(db, sellerId)]);
  return { seller, page, plans };
}
