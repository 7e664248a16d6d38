// Several claimed events in one transaction. Per event the worker's cost is mostly round trips and
// commits (BEGIN, the handler's writes, the status UPDATE, COMMIT); a batch pays BEGIN, one status
// UPDATE and COMMIT once for up to `eventsPerTransaction` events. The handler's three steps keep
// their places (./handler.ts), stretched over the batch:
//
//   1. read   — every event's read, with no transaction open (a few at a time: they wait on Stripe);
//               an event whose read fails is recorded failed at once and leaves the batch;
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
import type { EventHandler, EventType } from './handler.ts';
import { handlerFor } from './registry.ts';
import { processClaimedEvent, recordFailure, type ClaimedEvent, type Outcome, type ResolvedProcessorOptions } from './processor.ts';

/** Reads (and afters) of one batch in flight at once: they wait on Stripe, not on the database. */
const STRIPE_CALLS_AT_ONCE = 4;

interface Planned {
  event: ClaimedEvent;
  payload: Stripe.Event;
  handler: EventHandler<EventType, unknown> | undefined;
  facts: unknown;
}

/** Runs claimed events as one batch (see the file header); returns one outcome per event. */
export async function processBatch(db: Kysely<Database>, stripe: Stripe, events: ClaimedEvent[], options: ResolvedProcessorOptions): Promise<Outcome[]> {
  if (events.length === 1) return [await processClaimedEvent(db, stripe, events[0]!, options)];
  const outcomes: Outcome[] = [];

  // 1. read, nothing open.
  const planned: Planned[] = [];
  await eachLimited(events, STRIPE_CALLS_AT_ONCE, async (event) => {
    const payload = event.payload as Stripe.Event;
    const handler = handlerFor(options.handlers, event.type);
    try {
      const facts = handler?.read === undefined ? undefined : await handler.read(payload, { db, stripe });
      planned.push({ event, payload, handler, facts });
    } catch (error) {
      outcomes.push(await recordFailure(db, event, error, options));
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
      const settled = planned.map(({ event, handler }) => ({ event, status: handler === undefined ? 'ignored' : handler.after === undefined ? 'done' : 'processing' }) as const);
      const matched = await settle(trx, settled, options.workerId);
      if (matched < planned.length) throw new Error('a lease in the batch passed to another worker');
    });
  } catch {
    // Nothing of the batch was written; each event on its own says which one failed, and why.
    for (const { event } of planned) outcomes.push(await processClaimedEvent(db, stripe, event, options));
    return outcomes;
  }
  for (const { handler } of planned) if (handler?.after === undefined) outcomes.push(handler === undefined ? 'ignored' : 'done');

  // 3. after, committed; then one UPDATE for those whose after succeeded.
  const withAfter = planned.filter((p) => p.handler?.after !== undefined);
  const succeeded: ClaimedEvent[] = [];
  await eachLimited(withAfter, STRIPE_CALLS_AT_ONCE, async ({ event, payload, handler }) => {
    try {
      await handler!.after!(payload, { db, stripe });
      succeeded.push(event);
    } catch (error) {
      outcomes.push(await recordFailure(db, event, error, options));
    }
  });
  if (succeeded.length > 0) {
    const matched = await settle(db, succeeded.map((event) => ({ event, status: 'done' as const })), options.workerId);
    outcomes.push(...Array<Outcome>(matched).fill('done'), ...Array<Outcome>(succeeded.length - matched).fill('lost'));
  }
  return outcomes;
}

/**
 * One UPDATE for many events, each only while its lease is ours (same worker, same attempt):
 * `done`/`ignored` release the lease; `processing` only proves it (the handler's after step is
 * still to run). Returns how many rows matched.
 */
async function settle(db: Kysely<Database>, rows: { event: ClaimedEvent; status: 'done' | 'ignored' | 'processing' }[], workerId: string): Promise<number> {
  const result = await sql<{ id: string }>`/* prepared:inbox_settle_batch */
    update stripe_events e
       set status = v.status,
           locked_by = case when v.status = 'processing' then e.locked_by end,
           locked_until = case when v.status = 'processing' then e.locked_until end,
           processed_at = case when v.status = 'processing' then e.processed_at else clock_timestamp() end,
           last_error = case v.status when 'processing' then e.last_error when 'ignored' then 'no handler for ' || e.type end,
           updated_at = now()
      from unnest(${rows.map((r) => r.event.id)}::text[], ${rows.map((r) => r.event.attempts)}::int[], ${rows.map((r) => r.status)}::text[]) as v(id, attempts, status)
     where e.id = v.id and e.attempts = v.attempts and e.status = 'processing' and e.locked_by = ${workerId}
    returning e.id`.execute(db);
  return result.rows.length;
}

async function eachLimited<T>(items: T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await run(items[next++]!);
  }));
}
