// What the catalogue and a seller's shop print from a page of listings: the search form's values,
// the cards, the result count and the page links, which keep the words, order and seller.
import type { CataloguePage } from '../listings/catalogue-cache.ts';
import { CATALOGUE_SORTS, searchHref, type CatalogueSort } from '../listings/search.ts';

const SORT_LABELS: Record<CatalogueSort, string> = {
  relevance: 'Best match',
  newest: 'Newest',
  price_asc: 'Price: low to high',
  price_desc: 'Price: high to low',
};

/** `path`: where the form and links go (`/` or the shop's `/sellers/<id>`, whose path names the seller). */
export function catalogueView(path: string, page: CataloguePage, isFirstPage: boolean) {
  const { search } = page;
  const withSeller = path === '/';
  return {
    action: path,
    searchWords: search.words ?? '',
    searching: search.words !== undefined,
    sellerId: withSeller ? search.sellerId : undefined,
    sorts: CATALOGUE_SORTS.map((value) => ({ value, label: SORT_LABELS[value], selected: value === search.sort })),
    listings: page.listings,
    matches: page.matches,
    isFirstPage,
    firstHref: searchHref(path, search, undefined, { withSeller }),
    nextHref: page.nextCursor === null ? undefined : searchHref(path, search, page.nextCursor, { withSeller }),
  };
}
