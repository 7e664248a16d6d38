// Claims due events and runs their handlers. Any number of processes may do this at once:
//
// - A claim is one statement: `FOR UPDATE SKIP LOCKED` picks rows nobody else is claiming, and the
//   same UPDATE marks them `processing` with a lease (`locked_until`, mirrored in `next_attempt_at`
//   so the "due" index also finds events whose lease ran out — a worker that died holding them).
// - Claimed events run several to a transaction (./batch.ts: reads before it, afters after it, one
//   status UPDATE for all; any failure rolls the batch back and its events run one by one, below).
// - Each event then runs in three steps (see ./registry.ts): the handler reads Stripe with no
//   transaction open; then ONE transaction holds the handler's writes and `done` — set only if the
//   lease is still ours (same worker, same attempt), else the whole transaction rolls back. A crash
//   anywhere rolls the handler's writes back with the status change, and a worker whose lease
//   passed to another cannot commit, so an effect is committed exactly once. A handler with an
//   `after` step (Stripe writes, with keys) commits its writes with the lease checked but the event
//   still `processing`, runs `after`, and only then marks the event done; a crash in between leaves
//   the lease to expire, and the retry runs every step again with the same keys.
// - A failure is recorded outside the rolled-back transaction: `failed` with exponential backoff,
//   or `dead` once the attempts are spent. Admins replay dead events from /admin/events.
import { sql, type Kysely } from 'kysely';
import type Stripe from 'stripe';
import type { Database, StripeEventRow } from '../db/schema.ts';
import { backoffMs, newWorkerId } from '../jobs/polling-loop.ts';
import { processBatch } from './batch.ts';
import { IgnoreEvent, ReadAgain, type EventOrigin, type HandlerRegistry } from './handler.ts';
import { handlerFor, handlers as defaultHandlers } from './registry.ts';

/** How many times a handler may read again because its tables moved under it (see ReadAgain). */
const MAX_READS = 3;

export interface ProcessorOptions {
  /** Identifies this worker in `locked_by` (host/pid + random); generated when omitted. */
  workerId?: string;
  /** Events claimed at once. */
  batchSize?: number;
  /** Claimed events run this many to a transaction (./batch.ts); 1 gives each event its own. */
  eventsPerTransaction?: number;
  /** How long a claim is ours before another worker may take the event over. */
  leaseMs?: number;
  /** Attempts before an event is `dead` (a claim is an attempt, so a crash-looping event dies too). */
  maxAttempts?: number;
  /** Retry n waits backoffBaseMs · 2^(n-1), capped at backoffMaxMs, plus up to `jitter` of it. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  jitter?: number;
  handlers?: HandlerRegistry;
}

export type ResolvedProcessorOptions = Required<ProcessorOptions>;

export function resolveProcessorOptions(options: ProcessorOptions = {}): ResolvedProcessorOptions {
  return {
    workerId: options.workerId ?? newWorkerId(),
    batchSize: options.batchSize ?? 50,
    eventsPerTransaction: options.eventsPerTransaction ?? 25,
    leaseMs: options.leaseMs ?? 60_000,
    maxAttempts: options.maxAttempts ?? 10,
    backoffBaseMs: options.backoffBaseMs ?? 30_000,
    backoffMaxMs: options.backoffMaxMs ?? 6 * 3600_000,
    jitter: options.jitter ?? 0.1,
    handlers: options.handlers ?? defaultHandlers,
  };
}

export type ClaimedEvent = Pick<StripeEventRow, 'id' | 'type' | 'attempts' | 'payload' | 'source'>;

/** Claims up to `batchSize` due events for this worker. */
export async function claimDueEvents(
  db: Kysely<Database>,
  options: Pick<ResolvedProcessorOptions, 'workerId' | 'batchSize' | 'leaseMs'>,
): Promise<ClaimedEvent[]> {
  const lease = `${options.leaseMs} milliseconds`;
  const result = await sql<ClaimedEvent>`/* prepared:inbox_claim */
    with due as (
      select id from stripe_events
      where status in ('pending', 'failed', 'processing') and next_attempt_at <= now()
      order by next_attempt_at
      limit ${options.batchSize}
      for update skip locked
    )
    update stripe_events e
       set status = 'processing',
           attempts = e.attempts + 1,
           locked_by = ${options.workerId},
           locked_until = now() + ${lease}::interval,
           next_attempt_at = now() + ${lease}::interval,
           updated_at = now()
      from due
     where e.id = due.id
    returning e.id, e.type, e.attempts, e.payload, e.source`.execute(db);
  return result.rows;
}

export type Outcome = 'done' | 'ignored' | 'failed' | 'dead' | 'lost';

/**
 * Runs one claimed event. 'lost' means the lease was no longer ours (another worker took the
 * event over after our lease expired): nothing was written.
 */
export async function processClaimedEvent(db: Kysely<Database>, stripe: Stripe, event: ClaimedEvent, options: ResolvedProcessorOptions): Promise<Outcome> {
  const handler = handlerFor(options.handlers, event.type);
  const payload = event.payload as Stripe.Event;
  try {
    if (handler === undefined) {
      await db.transaction().execute((trx) => finish(trx, event, options, 'ignored', `no handler for ${event.type}`));
      return 'ignored';
    }
    const misplaced = originProblem(handler.origin, event.source, payload.account);
    if (misplaced !== undefined) {
      await finish(db, event, options, 'ignored', misplaced);
      return 'ignored';
    }
    for (let reads = 1; ; reads++) {
      const facts = handler.read === undefined ? undefined : await handler.read(payload, { db, stripe });
      try {
        await db.transaction().execute(async (trx) => {
          await handler.apply(payload, { db: trx, facts });
          if (handler.after === undefined) await finish(trx, event, options, 'done');
          else await holdLease(trx, event, options);
        });
        break;
      } catch (error) {
        if (!(error instanceof ReadAgain) || reads >= MAX_READS) throw error;
      }
    }
    if (handler.after !== undefined) {
      await handler.after(payload, { db, stripe });
      await finish(db, event, options, 'done');
    }
    return 'done';
  } catch (error) {
    if (error instanceof LeaseLost) return 'lost';
    if (error instanceof IgnoreEvent) {
      await finish(db, event, options, 'ignored', error.message);
      return 'ignored';
    }
    return recordFailure(db, event, error, options);
  }
}

/** Why an event may not be acted on by a handler that expects `origin`; undefined when it may. */
export function originProblem(origin: EventOrigin | undefined, source: StripeEventRow['source'], account: string | null | undefined): string | undefined {
  if (origin !== 'platform') return undefined;
  if (source === 'connect') return "came through the Connect endpoint: only the platform account's own events may act on this";
  if (account != null) return `came from connected account ${account}, not the platform account`;
  return undefined;
}

/** Marks the event done (or ignored, saying why) if the lease is still ours: same worker, same attempt. */
async function finish(
  db: Kysely<Database>,
  event: ClaimedEvent,
  options: ResolvedProcessorOptions,
  status: 'done' | 'ignored',
  reason?: string,
): Promise<void> {
  const owned = await db
    .updateTable('stripe_events')
    .set({
      status,
      locked_by: null,
      locked_until: null,
      processed_at: sql<Date>`clock_timestamp()`, // not now(): that is when the transaction began
      updated_at: sql<Date>`now()`,
      last_error: status === 'ignored' ? (reason ?? 'ignored') : null,
    })
    .where((eb) => eb.and(leaseHeld(event, options)))
    .returning('id')
    .executeTakeFirst();
  // If another worker took the event over, this matches nothing and everything the handler wrote
  // in this transaction is rolled back.
  if (owned === undefined) throw new LeaseLost();
}

/** Commits the handler's writes only while the lease is ours; the event stays `processing`. */
async function holdLease(trx: Kysely<Database>, event: ClaimedEvent, options: ResolvedProcessorOptions): Promise<void> {
  const owned = await trx
    .updateTable('stripe_events')
    .set({ updated_at: sql<Date>`now()` })
    .where((eb) => eb.and(leaseHeld(event, options)))
    .returning('id')
    .executeTakeFirst();
  if (owned === undefined) throw new LeaseLost();
}

/** The event is still ours: `processing` under this worker's claim of this attempt (no later claim took it over). */
function leaseHeld(event: ClaimedEvent, options: Pick<ResolvedProcessorOptions, 'workerId'>) {
  return { id: event.id, status: 'processing', locked_by: options.workerId, attempts: event.attempts } as const;
}

class LeaseLost extends Error {
  constructor() {
    super('the lease on this event passed to another worker');
  }
}

export async function recordFailure(db: Kysely<Database>, event: ClaimedEvent, error: unknown, options: ResolvedProcessorOptions): Promise<Outcome> {
  const dead = event.attempts >= options.maxAttempts;
  const delay = dead ? 0 : backoffMs(event.attempts, options);
  const message = describeError(error);
  const updated = await db
    .updateTable('stripe_events')
    .set({
      status: dead ? 'dead' : 'failed',
      last_error: message,
      next_attempt_at: sql<Date>`now() + ${`${delay} milliseconds`}::interval`,
      locked_by: null,
      locked_until: null,
      updated_at: sql<Date>`now()`,
    })
    .where((eb) => eb.and(leaseHeld(event, options)))
    .returning('id')
    .executeTakeFirst();
  return updated === undefined ? 'lost' : dead ? 'dead' : 'failed';
}

function describeError(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
}

export interface BatchResult {
  claimed: number;
  outcomes: Record<Outcome, number>;
}

/**
 * Claims due events and processes them `eventsPerTransaction` to a transaction (./batch.ts), with
 * up to `concurrency` such transactions in flight.
 */
export async function processDueEvents(db: Kysely<Database>, stripe: Stripe, options: ResolvedProcessorOptions, concurrency = 4): Promise<BatchResult> {
  const claimed = await claimDueEvents(db, options);
  const outcomes: Record<Outcome, number> = { done: 0, ignored: 0, failed: 0, dead: 0, lost: 0 };
  const size = Math.max(1, options.eventsPerTransaction);
  const batches: ClaimedEvent[][] = [];
  for (let i = 0; i < claimed.length; i += size) batches.push(claimed.slice(i, i + size));
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, batches.length) }, async () => {
    while (next < batches.length) {
      for (const outcome of await processBatch(db, stripe, batches[next++]!, options)) outcomes[outcome] += 1;
    }
  });
  await Promise.all(lanes);
  return { claimed: claimed.length, outcomes };
}

/** Processes until nothing is due (for the CLI and tests; the worker loop runs forever instead). */
export async function drainInbox(
  db: Kysely<Database>,
  stripe: Stripe,
  options: ProcessorOptions & { concurrency?: number } = {},
): Promise<Record<Outcome, number>> {
  const resolved = resolveProcessorOptions(options);
  const total: Record<Outcome, number> = { done: 0, ignored: 0, failed: 0, dead: 0, lost: 0 };
  for (;;) {
    const batch = await processDueEvents(db, stripe, resolved, options.concurrency);
    for (const [key, value] of Object.entries(batch.outcomes)) total[key as Outcome] += value;
    if (batch.claimed === 0) return total;
  }
}
