// Group commit for the webhook endpoints. Every delivery is answered 200 only after its event is
// committed to the inbox, but deliveries that arrive together need not be committed one by one:
// while earlier inserts are in flight, newer events wait and then go in together, one INSERT and
// one commit for many (PostgreSQL's cost per statement and per commit, not per row, is most of
// what storing a webhook costs it). Nothing waits on a timer: when the database keeps up, each
// event goes in alone at once, as before; batches form only under load, as large as the backlog.
//
// One bad event must not cost the others their place: if a batch's INSERT fails, each of its
// events is tried again alone, and only the one that fails again is refused (its delivery gets a
// 503 and Stripe retries it).
import type { Kysely } from 'kysely';
import type Stripe from 'stripe';
import type { Database } from '../db/schema.ts';
import { inboxRow, insertEvents, MAX_INSERT_ROWS, type InboxRow, type StoreOptions, type StoreResult } from './inbox.ts';

export interface InboxWriter {
  /** Resolves once the event is committed (or was already in the inbox). */
  store(verified: Stripe.Event, options: StoreOptions): Promise<StoreResult>;
  /** Resolves when nothing is queued or in flight (for shutting down). */
  settled(): Promise<void>;
}

interface Waiting {
  row: InboxRow;
  resolve: (result: StoreResult) => void;
  reject: (error: unknown) => void;
}

/**
 * `inFlight`: how many INSERTs may run at once (each holds a pool connection; the rest of the pool
 * stays for pages and the worker). Two keep PostgreSQL busy while the next batch gathers.
 */
export function groupCommittingInboxWriter(db: Kysely<Database>, options: { inFlight?: number; maxRows?: number } = {}): InboxWriter {
  const limit = options.inFlight ?? 2;
  const maxRows = Math.min(options.maxRows ?? MAX_INSERT_ROWS, MAX_INSERT_ROWS);
  const queue: Waiting[] = [];
  const running = new Set<Promise<void>>();

  const pump = (): void => {
    while (running.size < limit && queue.length > 0) {
      const batch = queue.splice(0, maxRows);
      const run = insertBatch(db, batch).finally(() => {
        running.delete(run);
        pump();
      });
      running.add(run);
    }
  };

  return {
    store(verified, storeOptions) {
      // Built here, in the request: a malformed event fails its own delivery, not a batch.
      const row = inboxRow(verified, storeOptions);
      return new Promise<StoreResult>((resolve, reject) => {
        queue.push({ row, resolve, reject });
        pump();
      });
    },
    settled: async () => {
      while (running.size > 0) await Promise.all(running);
    },
  };
}

async function insertBatch(db: Kysely<Database>, batch: Waiting[]): Promise<void> {
  let inserted: Set<string>;
  try {
    inserted = await insertEvents(
      db,
      batch.map((waiting) => waiting.row),
    );
  } catch (error) {
    if (batch.length === 1) {
      batch[0]!.reject(error);
      return;
    }
    // Which event was it? Each alone, one after the other (within this writer's share of the
    // pool): the others are stored, the bad one is refused. If the database itself is away, each
    // fails again quickly and is refused with its own error.
    for (const waiting of batch) await insertBatch(db, [waiting]);
    return;
  }
  // The same event twice in one batch (Stripe delivering it again before the first was answered):
  // the first is the one inserted, the other a duplicate, as if they had come one after the other.
  const claimed = new Set<string>();
  for (const { row, resolve } of batch) {
    const first = inserted.has(row.id) && !claimed.has(row.id);
    if (first) claimed.add(row.id);
    resolve({ inserted: first, status: row.status });
  }
}
