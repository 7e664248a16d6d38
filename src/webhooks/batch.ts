// Several claimed events in one transaction. Per event the worker's cost is mostly round trips and
// commits (BEGIN, the handler's writes, the status UPDATE, COMMIT); a batch pays BEGIN, one status
// UPDATE and COMMIT once for up to `eventsPerTransaction` events. The handler's three steps keep
// their places (./handler.ts), stretched over the batch:
//
//   1. read   — every event's read, with no transaction open (a few at a time: they wait on Stripe);
//               an event whose read fails is recorded failed at once and leaves the batch; one no
//               handler may act on (none for its type, the wrong origin, IgnoreEvent) is settled
//               `ignored`, with its reason, in step 2's UPDATE;
//   2. apply  — ONE transaction: each event's apply in claim order, then one UPDATE marking them
//               all done/ignored (or, for a handler with `after`, just checking the lease), which
//               must match every event — a lease lost to another worker aborts the batch;
//   3. after  — once that committed: each `after`, then one UPDATE marking those events done.
//
// If anything in step 2 throws (a handler's error, ReadAgain, a lost lease, a deadlock), the whole
// transaction rolls back — nothing of the batch is written — and its events are run again one by
// one through processClaimedEvent, each in its own transaction, so one bad event is recorded failed
// without undoing the others. A crash anywhere in step 2 likewise writes nothing: the events stay
// `processing` under our lease and are claimed again when it runs out.
import { sql, type Kysely } from 'kysely';
import type Stripe from 'stripe';
import type { Database } from '../db/schema.ts';
import { IgnoreEvent, type EventHandler, type EventType } from './handler.ts';
import { handlerFor } from './registry.ts';
import { originProblem, processClaimedEvent, recordFailure, type ClaimedEvent, type Outcome, type ResolvedProcessorOptions } from './processor.ts';

/** Reads (and afters) of one batch in flight at once: they wait on Stripe, not on the database. */
const STRIPE_CALLS_AT_ONCE = 4;

interface Planned {
  event: ClaimedEvent;
  payload: Stripe.Event;
  /** Undefined when the event is not acted on (`ignored` with `ignoredBecause`). */
  handler: EventHandler<EventType, unknown> | undefined;
  ignoredBecause?: string;
  facts: unknown;
}

/** Runs claimed events as one batch (see the file header); returns one outcome per event. */
export async function processBatch(db: Kysely<Database>, stripe: Stripe, events: ClaimedEvent[], options: ResolvedProcessorOptions): Promise<Outcome[]> {
  if (events.length === 1) return [await processClaimedEvent(db, stripe, events[0]!, options)];
  const outcomes: Outcome[] = [];

  // 1. read, nothing open. Events no handler may act on are settled `ignored` with the others.
  const planned: Planned[] = [];
  await eachLimited(events, STRIPE_CALLS_AT_ONCE, async (event) => {
    const payload = event.payload as Stripe.Event;
    const handler = handlerFor(options.handlers, event.type);
    const ignored = (reason: string) => planned.push({ event, payload, handler: undefined, ignoredBecause: reason, facts: undefined });
    if (handler === undefined) return void ignored(`no handler for ${event.type}`);
    const misplaced = originProblem(handler.origin, event.source, payload.account);
    if (misplaced !== undefined) return void ignored(misplaced);
    try {
      const facts = handler.read === undefined ? undefined : await handler.read(payload, { db, stripe });
      planned.push({ event, payload, handler, facts });
    } catch (error) {
      if (error instanceof IgnoreEvent) ignored(error.message);
      else outcomes.push(await recordFailure(db, event, error, options));
    }
  });
  // Apply in claim order, whatever order the reads finished in.
  const order = new Map(events.map((event, index) => [event.id, index]));
  planned.sort((a, b) => order.get(a.event.id)! - order.get(b.event.id)!);
  if (planned.length === 0) return outcomes;

  // 2. apply, one transaction, one status UPDATE.
  try {
    await db.transaction().execute(async (trx) => {
      for (const { payload, handler, facts } of planned) await handler?.apply(payload, { db: trx, facts });
      const settled = planned.map(
        ({ event, handler, ignoredBecause }) =>
          ({
            event,
            status: handler === undefined ? 'ignored' : handler.after === undefined ? 'done' : 'processing',
            reason: ignoredBecause ?? null,
          }) as const,
      );
      const matched = await settle(trx, settled, options.workerId);
      if (matched.size < planned.length) throw new Error('a lease in the batch passed to another worker');
    });
  } catch {
    // Nothing of the batch was written; each event on its own says which one failed, and why.
    for (const { event } of planned) outcomes.push(await processClaimedEvent(db, stripe, event, options));
    return outcomes;
  }
  for (const { handler } of planned) if (handler?.after === undefined) outcomes.push(handler === undefined ? 'ignored' : 'done');

  // 3. after, committed; then one UPDATE for those whose after succeeded (or said IgnoreEvent).
  const withAfter = planned.filter((p) => p.handler?.after !== undefined);
  const finished: SettledRow[] = [];
  await eachLimited(withAfter, STRIPE_CALLS_AT_ONCE, async ({ event, payload, handler }) => {
    try {
      await handler!.after!(payload, { db, stripe });
      finished.push({ event, status: 'done', reason: null });
    } catch (error) {
      if (error instanceof IgnoreEvent) finished.push({ event, status: 'ignored', reason: error.message });
      else outcomes.push(await recordFailure(db, event, error, options));
    }
  });
  if (finished.length > 0) {
    const matched = await settle(db, finished, options.workerId);
    for (const { event, status } of finished) outcomes.push(matched.has(event.id) ? (status as Outcome) : 'lost');
  }
  return outcomes;
}

/**
 * One UPDATE for many events, each only while its lease is ours (same worker, same attempt):
 * `done`/`ignored` release the lease; `processing` only proves it (the handler's after step is
 * still to run). Returns the ids that matched.
 */
interface SettledRow {
  event: ClaimedEvent;
  status: 'done' | 'ignored' | 'processing';
  /** `last_error` of an ignored event: why. */
  reason: string | null;
}

async function settle(db: Kysely<Database>, rows: SettledRow[], workerId: string): Promise<Set<string>> {
  const result = await sql<{ id: string }>`/* prepared:inbox_settle_batch */
    update stripe_events e
       set status = v.status,
           locked_by = case when v.status = 'processing' then e.locked_by end,
           locked_until = case when v.status = 'processing' then e.locked_until end,
           processed_at = case when v.status = 'processing' then e.processed_at else clock_timestamp() end,
           last_error = case v.status when 'processing' then e.last_error when 'ignored' then v.reason end,
           updated_at = now()
      from unnest(${rows.map((r) => r.event.id)}::text[], ${rows.map((r) => r.event.attempts)}::int[], ${rows.map((r) => r.status)}::text[], ${rows.map((r) => r.reason)}::text[]) as v(id, attempts, status, reason)
     where e.id = v.id and e.attempts = v.attempts and e.status = 'processing' and e.locked_by = ${workerId}
    returning e.id`.execute(db);
  return new Set(result.rows.map((row) => row.id));
}

async function eachLimited<T>(items: T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await run(items[next++]!);
    }),
  );
}
