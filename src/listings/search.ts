// What a buyer asks the catalogue for (words, an order, one seller, a page), in the one normal form
// that the queries read and the page cache keys by. Pure: no database, no HTTP.
//
// Pages are keyset pages: the cursor is the last shown listing's sort key and id, so the next page
// starts strictly after it (a row comparison an index can serve) whatever was added meanwhile, and
// deep pages cost what the first does (no OFFSET). It is opaque to the buyer (base64url of JSON)
// but checked strictly, since it comes back in the address bar: anything that is not a cursor we
// made for this order is a 400 with a plain message, never a 500 from a bad SQL cast.
import { DomainError } from '../errors.ts';
import { isUuid } from '../ids.ts';

export const CATALOGUE_SORTS = ['relevance', 'newest', 'price_asc', 'price_desc'] as const;
export type CatalogueSort = (typeof CATALOGUE_SORTS)[number];
/** The orders a buyer may pick from the form (relevance only means something with words). */
export const CHOSEN_SORTS = ['newest', 'price_asc', 'price_desc'] as const;

/** Longest search a buyer may type (the schema refuses more); plenty for a few words. */
export const SEARCH_MAX_LENGTH = 200;
/** A cursor is a few dozen characters; anything far longer is not ours. */
export const CURSOR_MAX_LENGTH = 200;

/** Where the next page starts: after this listing's sort key (rank, timestamp or price) and id. */
export type CatalogueCursor =
  | { sort: 'relevance'; rank: number; id: string }
  | { sort: 'newest'; createdAt: string; id: string }
  | { sort: 'price_asc' | 'price_desc'; price: number; id: string };

export interface CatalogueSearch {
  /** The buyer's words, trimmed with runs of spaces folded; undefined: browse everything. */
  words: string | undefined;
  sort: CatalogueSort;
  /** Only this seller's listings (their shop, or the filter). */
  sellerId: string | undefined;
  after: CatalogueCursor | undefined;
}

export interface CatalogueAsk {
  q?: string | undefined;
  sort?: string | undefined;
  seller?: string | undefined;
  after?: string | undefined;
}

/**
 * The normal form of a request: blank words are no words; the default order is relevance with
 * words and newest without (so is relevance once the words are cleared: the form keeps the choice);
 * a cursor made for another order is refused.
 */
export function normaliseSearch(ask: CatalogueAsk): CatalogueSearch {
  const words = ask.q?.trim().replace(/\s+/g, ' ') || undefined;
  const sort = parseSort(ask.sort, words);
  const sellerId = ask.seller === undefined || ask.seller === '' ? undefined : ask.seller;
  if (sellerId !== undefined && !isUuid(sellerId)) throw invalid('The seller filter is not a seller id.');
  const after = ask.after === undefined || ask.after === '' ? undefined : decodeCursor(ask.after, sort);
  return { words, sort, sellerId, after };
}

function parseSort(sort: string | undefined, words: string | undefined): CatalogueSort {
  if (sort === undefined || sort === '') return words === undefined ? 'newest' : 'relevance';
  if (!(CATALOGUE_SORTS as readonly string[]).includes(sort)) throw invalid(`Sort by one of: ${CHOSEN_SORTS.join(', ')}.`);
  if (sort === 'relevance' && words === undefined) return 'newest';
  return sort as CatalogueSort;
}

/** The cache's key: two requests with the same key show the same page. */
export function searchKey(search: CatalogueSearch): string {
  return JSON.stringify([search.words ?? '', search.sort, search.sellerId ?? '', search.after === undefined ? '' : encodeCursor(search.after)]);
}

/**
 * The address of a page of this search: its words, order and (on the catalogue, not a shop, whose
 * path names the seller) seller, and the cursor to start after; the default order is left out.
 */
export function searchHref(path: string, search: CatalogueSearch, after: string | undefined, options: { withSeller: boolean }): string {
  const params = new URLSearchParams();
  if (search.words !== undefined) params.set('q', search.words);
  const defaultSort = search.words === undefined ? 'newest' : 'relevance';
  if (search.sort !== defaultSort) params.set('sort', search.sort);
  if (options.withSeller && search.sellerId !== undefined) params.set('seller', search.sellerId);
  if (after !== undefined) params.set('after', after);
  const query = params.toString();
  return query === '' ? path : `${path}?${query}`;
}

export function encodeCursor(cursor: CatalogueCursor): string {
  const key = cursor.sort === 'relevance' ? cursor.rank : cursor.sort === 'newest' ? cursor.createdAt : cursor.price;
  return Buffer.from(JSON.stringify([cursor.sort, key, cursor.id])).toString('base64url');
}

// The database's timestamps at full microsecond precision, in UTC, as the catalogue query writes them.
const CURSOR_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

export function decodeCursor(text: string, sort: CatalogueSort): CatalogueCursor {
  const bad = invalid('This page link is broken or out of date: start again from the first page.');
  if (text.length > CURSOR_MAX_LENGTH || !/^[A-Za-z0-9_-]+$/.test(text)) throw bad;
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw bad;
  }
  if (!Array.isArray(parts) || parts.length !== 3) throw bad;
  const [cursorSort, key, id] = parts as [unknown, unknown, unknown];
  if (cursorSort !== sort || !isUuid(id)) throw bad;
  switch (sort) {
    case 'relevance':
      if (typeof key !== 'number' || !Number.isFinite(key) || key < 0) throw bad;
      return { sort, rank: key, id };
    case 'newest':
      if (typeof key !== 'string' || !CURSOR_TIMESTAMP.test(key) || Number.isNaN(Date.parse(key))) throw bad;
      return { sort, createdAt: key, id };
    case 'price_asc':
    case 'price_desc':
      if (typeof key !== 'number' || !Number.isSafeInteger(key) || key < 0) throw bad;
      return { sort, price: key, id };
  }
}

function invalid(message: string): DomainError<'catalogue_request_invalid'> {
  return new DomainError('catalogue_request_invalid', { message });
}
