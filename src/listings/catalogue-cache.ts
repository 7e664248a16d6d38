// The catalogue's pages (browsing, searches, sellers' shops), kept for a few seconds: the page every
// visitor hits rarely changes, and its queries were a third of its cost. Correct across any number of web processes: a trigger NOTIFYs
// `catalogue_changed` when a transaction that touched listings, sellers, their pictures or a
// display name commits (migrations/20261130_1717_catalogue_notify.ts), and every process LISTENs
// and drops what it kept. So a change is seen as soon as the notification arrives; the short TTL
// only bounds how long a page could live if one were ever missed.
//
// Two details keep it honest:
// - A page read while a change commits could be older than the change: each change bumps a
//   generation, and a page is kept only if no change arrived while it was read.
// - While the LISTEN connection is down (or before it is up) nothing is served from the cache:
//   a change could go unheard. The listener calls back once it listens again.
//
// Browsing pages (no words) and searches are kept in separate bounded sets, keyed by the whole
// normalised request (words, order, seller, cursor: ./search.ts): a stream of one-off searches
// can push out other searches, never the home page.
import type { Kysely } from 'kysely';
import type { Listen, Unlisten } from '../db/notifications.ts';
import type { Database } from '../db/schema.ts';
import { withCovers } from '../images/use-cases.ts';
import { countMatches, searchCatalogue, type CatalogueCard } from './queries.ts';
import { encodeCursor, normaliseSearch, searchKey, type CatalogueAsk, type CatalogueSearch } from './search.ts';

/** The channel the catalogue trigger NOTIFYs. */
export const CATALOGUE_CHANNEL = 'catalogue_changed';

export interface CataloguePage {
  search: CatalogueSearch;
  listings: Awaited<ReturnType<typeof withCovers<CatalogueCard>>>;
  /** The next page's cursor (opaque), or null on the last page. */
  nextCursor: string | null;
  /** How many listings match the words; undefined when browsing (no words). */
  matches: number | undefined;
  /**
   * Pages rendered from this page for plain visits (src/http/render.ts isPlainVisit), by template:
   * they live exactly as long as this page stays in the cache, so the same NOTIFY and generation
   * rule drop them; a page read outside the cache is never read twice, nor its HTML.
   */
  visitorHtml: Map<string, Buffer>;
}

export interface CatalogueSource {
  /** The page a buyer asks for; a request we did not make (bad cursor, unknown order) is a DomainError. */
  page(ask: CatalogueAsk): Promise<CataloguePage>;
  stop(): Promise<void>;
}

/** Reads the catalogue every time (no LISTEN available: tests, tools). */
export function uncachedCatalogue(db: Kysely<Database>): CatalogueSource {
  return { page: (ask) => readPage(db, normaliseSearch(ask)), stop: async () => {} };
}

async function readPage(db: Kysely<Database>, search: CatalogueSearch): Promise<CataloguePage> {
  const [page, matches] = await Promise.all([searchCatalogue(db, search), search.words === undefined ? undefined : countMatches(db, search)]);
  return {
    search,
    listings: await withCovers(db, page.listings),
    nextCursor: page.next === null ? null : encodeCursor(page.next),
    matches,
    visitorHtml: new Map(),
  };
}

export interface CatalogueCacheOptions {
  ttlMs?: number;
  /** Browsing pages kept at most (deep pages are rare; this bounds memory). */
  maxPages?: number;
  /** Search pages kept at most, apart from browsing pages. */
  maxSearches?: number;
  onError?: (error: unknown) => void;
}

/** At most `limit` entries; the oldest goes first. */
class Bounded<V> {
  private readonly entries = new Map<string, V>();
  constructor(private readonly limit: number) {}
  get(key: string): V | undefined {
    return this.entries.get(key);
  }
  set(key: string, value: V): void {
    this.entries.delete(key);
    if (this.entries.size >= this.limit) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, value);
  }
  clear(): void {
    this.entries.clear();
  }
}

export async function cachedCatalogue(db: Kysely<Database>, listen: Listen, options: CatalogueCacheOptions = {}): Promise<CatalogueSource> {
  const ttlMs = options.ttlMs ?? 2000;
  type Kept = { page: CataloguePage; until: number };
  const browsing = new Bounded<Kept>(options.maxPages ?? 50);
  const searches = new Bounded<Kept>(options.maxSearches ?? 200);
  const keptFor = (search: CatalogueSearch) => (search.words === undefined ? browsing : searches);
  /** Reads in flight, shared by the requests that arrive meanwhile. */
  const reading = new Map<string, Promise<CataloguePage>>();
  let generation = 0;
  let listening = false;

  const changed = () => {
    generation += 1;
    browsing.clear();
    searches.clear();
    reading.clear();
  };
  const unlisten: Unlisten = await listen(
    CATALOGUE_CHANNEL,
    () => {
      changed();
      listening = true; // a notification (or the listener's hello after connecting) comes only over a listening connection
    },
    (error) => {
      listening = false;
      changed();
      options.onError?.(error);
    },
  );

  return {
    async page(ask) {
      const search = normaliseSearch(ask);
      if (!listening) return readPage(db, search);
      const key = searchKey(search);
      const kept = keptFor(search);
      const hit = kept.get(key);
      if (hit !== undefined && hit.until > Date.now()) return hit.page;
      const shared = reading.get(key);
      if (shared !== undefined) return shared;
      const startedIn = generation;
      const read = readPage(db, search).then(
        (page) => {
          if (reading.get(key) === read) reading.delete(key);
          if (generation === startedIn && listening) kept.set(key, { page, until: Date.now() + ttlMs });
          return page;
        },
        (error: unknown) => {
          if (reading.get(key) === read) reading.delete(key);
          throw error;
        },
      );
      reading.set(key, read);
      return read;
    },
    stop: unlisten,
  };
}
