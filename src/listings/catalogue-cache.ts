// The catalogue's pages, kept for a few seconds: the page every visitor hits rarely changes, and its
// queries were a third of its cost. Correct across any number of web processes: a trigger NOTIFYs
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
import type { Kysely } from 'kysely';
import type { Listen, Unlisten } from '../db/notifications.ts';
import type { Database } from '../db/schema.ts';
import { withCovers } from '../images/use-cases.ts';
import { catalogue } from './queries.ts';

/** The channel the catalogue trigger NOTIFYs. */
export const CATALOGUE_CHANNEL = 'catalogue_changed';

export type CataloguePage = { listings: Awaited<ReturnType<typeof withCovers>>; nextCursor: string | null };

export interface CatalogueSource {
  /** The page after listing `after` (undefined: the first page). */
  page(after: string | undefined): Promise<CataloguePage>;
  stop(): Promise<void>;
}

/** Reads the catalogue every time (no LISTEN available: tests, tools). */
export function uncachedCatalogue(db: Kysely<Database>): CatalogueSource {
  return { page: (after) => readPage(db, after), stop: async () => {} };
}

async function readPage(db: Kysely<Database>, after: string | undefined): Promise<CataloguePage> {
  const page = await catalogue(db, after);
  return { listings: await withCovers(db, page.listings), nextCursor: page.nextCursor };
}

export interface CatalogueCacheOptions {
  ttlMs?: number;
  /** Pages kept at most (deep pages are rare; this bounds memory). */
  maxPages?: number;
  onError?: (error: unknown) => void;
}

export async function cachedCatalogue(db: Kysely<Database>, listen: Listen, options: CatalogueCacheOptions = {}): Promise<CatalogueSource> {
  const ttlMs = options.ttlMs ?? 2000;
  const maxPages = options.maxPages ?? 50;
  const kept = new Map<string, { page: CataloguePage; until: number }>();
  /** Reads in flight, shared by the requests that arrive meanwhile. */
  const reading = new Map<string, Promise<CataloguePage>>();
  let generation = 0;
  let listening = false;

  const changed = () => {
    generation += 1;
    kept.clear();
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
    async page(after) {
      if (!listening) return readPage(db, after);
      const key = after ?? '';
      const hit = kept.get(key);
      if (hit !== undefined && hit.until > Date.now()) return hit.page;
      const shared = reading.get(key);
      if (shared !== undefined) return shared;
      const startedIn = generation;
      const read = readPage(db, after).then(
        (page) => {
          if (reading.get(key) === read) reading.delete(key);
          if (generation === startedIn && listening) {
            if (kept.size >= maxPages) kept.delete(kept.keys().next().value!);
            kept.set(key, { page, until: Date.now() + ttlMs });
          }
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
