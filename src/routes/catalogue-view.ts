// What the catalogue and a seller's shop print from a page of listings: the search form's values,
// the cards, the result count and the page links, which keep the words, order and seller.
import type { CataloguePage } from '../listings/catalogue-cache.ts';
import { searchHref, type CatalogueSort } from '../listings/search.ts';

const SORT_LABELS: Record<CatalogueSort, string> = {
  relevance: 'Best match',
  newest: 'Newest',
  price_asc: 'Price: low to high',
  price_desc: 'Price: high to low',
};

/**
 * The order's choices. The first, blank, is the default order: "Best match" for a search and
 * "Newest" when browsing, so typing words on a browsing page and pressing Search ranks by
 * relevance rather than keeping "newest" as if the buyer had chosen it.
 */
function sortChoices(current: CatalogueSort, searching: boolean) {
  const defaultSort: CatalogueSort = searching ? 'relevance' : 'newest';
  const others = (['newest', 'price_asc', 'price_desc'] as const).filter((value) => value !== defaultSort);
  return [
    { value: '', label: SORT_LABELS[defaultSort], selected: current === defaultSort },
    ...others.map((value) => ({ value, label: SORT_LABELS[value], selected: value === current })),
  ];
}

/** `path`: where the form and links go (`/` or the shop's `/sellers/<id>`, whose path names the seller). */
export function catalogueView(path: string, page: CataloguePage, isFirstPage: boolean) {
  const { search } = page;
  const withSeller = path === '/';
  return {
    action: path,
    searchWords: search.words ?? '',
    searching: search.words !== undefined,
    sellerId: withSeller ? search.sellerId : undefined,
    sorts: sortChoices(search.sort, search.words !== undefined),
    listings: page.listings,
    matches: page.matches,
    isFirstPage,
    firstHref: searchHref(path, search, undefined, { withSeller }),
    nextHref: page.nextCursor === null ? undefined : searchHref(path, search, page.nextCursor, { withSeller }),
  };
}
