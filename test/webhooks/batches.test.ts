// The worker runs claimed events several to a transaction (src/webhooks/batch.ts): every read before
// the transaction, one status UPDATE inside it, every after once it committed; a failing event sends
// the batch back to one-by-one so the others still commit, each effect exactly once; and a worker
// killed in the middle of a batch leaves nothing behind that another worker does not repair.
import { sql, type Kysely } from 'kysely';
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/schema.ts';
import { IgnoreEvent } from '../../src/webhooks/handler.ts';
import { storeEvent } from '../../src/webhooks/inbox.ts';
import { newWorkerId } from '../../src/jobs/polling-loop.ts';
import { claimDueEvents, drainInbox } from '../../src/webhooks/processor.ts';
import type { HandlerRegistry } from '../../src/webhooks/registry.ts';
import { isPglite } from '../helpers/database.ts';
import { useDatabase } from '../helpers/fixture.ts';
import { countingHandlers, effects, makeEvent, startHangingWorker, useEffectsTable, waitFor } from '../helpers/webhooks.ts';

const w = useDatabase();

useEffectsTable(w);

const noStripe = null as unknown as Stripe;

async function store(ids: string[]): Promise<void> {
  for (const [i, id] of ids.entries()) {
    // Distinct `created` seconds are not needed: claims go by next_attempt_at, stored in this order.
    await storeEvent(w.db, makeEvent('customer.created', { id: `cus_${i}`, object: 'customer' }, { id }), { source: 'platform', livemode: false });
  }
}

/** The transaction that last wrote each event row: equal ids mean one transaction. */
async function writers(): Promise<Map<string, string>> {
  const rows = await sql<{ id: string; xmin: string }>`select id, xmin::text as xmin from stripe_events`.execute(w.db);
  return new Map(rows.rows.map((r) => [r.id, r.xmin]));
}

/** Transactions left open between statements in this test's database (concurrent single statements don't count). */
async function openTransactions(db: Kysely<Database>): Promise<number> {
  if (isPglite()) return 0; // one connection: nothing else can be open while this query runs
  const result = await sql<{ n: number }>`
    select count(*)::int as n from pg_stat_activity
     where datname = current_database() and state like 'idle in transaction%'`.execute(db);
  return result.rows[0]!.n;
}

/** Handlers whose read step throws `error` for the event `refused`, and whose apply records one effect per event. */
function readRefusing(refused: string, error: Error): HandlerRegistry {
  return {
    'customer.created': {
      read: async (event: Stripe.Event) => {
        if (event.id === refused) throw error;
        return undefined;
      },
      apply: async (event: Stripe.Event, ctx: { db: Kysely<Database> }) => {
        await sql`insert into test_effects (event_id) values (${event.id})`.execute(ctx.db);
      },
    },
  } as unknown as HandlerRegistry;
}

/** A three-step handler that logs its phases and checks what is open during read and after. */
function phasedHandlers(options: { failApplyOf?: string } = {}) {
  const log: string[] = [];
  const openDuringStripeSteps: number[] = [];
  const handlers = {
    'customer.created': {
      async read(event: Stripe.Event, ctx: { db: Kysely<Database> }) {
        log.push(`read ${event.id}`);
        openDuringStripeSteps.push(await openTransactions(ctx.db));
        return { seen: event.id };
      },
      async apply(event: Stripe.Event, ctx: { db: Kysely<Database>; facts: { seen: string } }) {
        log.push(`apply ${event.id}`);
        expect(ctx.facts.seen).toBe(event.id);
        await sql`insert into test_effects (event_id, worker) values (${event.id}, 'apply')`.execute(ctx.db);
        if (event.id === options.failApplyOf) throw new Error('this event is bad');
      },
      async after(event: Stripe.Event, ctx: { db: Kysely<Database> }) {
        log.push(`after ${event.id}`);
        openDuringStripeSteps.push(await openTransactions(ctx.db));
        // The apply step's write is committed: visible from any other connection.
        const seen = await sql<{ n: number }>`select count(*)::int as n from test_effects where event_id = ${event.id}`.execute(ctx.db);
        expect(seen.rows[0]!.n).toBe(1);
        await sql`insert into test_effects (event_id, worker) values (${event.id}, 'after')`.execute(ctx.db);
      },
    },
  } as unknown as HandlerRegistry;
  return { log, openDuringStripeSteps, handlers };
}

describe('a batch of events', () => {
  it('is one transaction with one status update: reads all before it, afters all after its commit', async () => {
    const ids = ['evt_b_1', 'evt_b_2', 'evt_b_3', 'evt_b_4', 'evt_b_5'];
    await store(ids);
    const { log, openDuringStripeSteps, handlers } = phasedHandlers();

    const outcomes = await drainInbox(w.db, noStripe, { handlers, eventsPerTransaction: 25 });

    expect(outcomes).toMatchObject({ done: 5, failed: 0, lost: 0 });
    const phases = log.map((line) => line.split(' ')[0]);
    expect(phases).toEqual([...Array(5).fill('read'), ...Array(5).fill('apply'), ...Array(5).fill('after')]);
    expect(log.filter((l) => l.startsWith('apply'))).toEqual(ids.map((id) => `apply ${id}`)); // claim order
    expect(openDuringStripeSteps).toEqual(Array(10).fill(0));
    const rows = await w.db.selectFrom('stripe_events').select(['status', 'locked_by', 'processed_at']).execute();
    expect(rows.every((r) => r.status === 'done' && r.locked_by === null && r.processed_at !== null)).toBe(true);
    // Exactly once: one apply effect and one after effect per event.
    const applied = await effects(w.db);
    for (const id of ids) expect(applied.filter((e) => e.event_id === id).map((e) => e.worker)).toEqual(['apply', 'after']);
  });

  it('of apply-only events is committed by one transaction (the rows share their writer)', async () => {
    const ids = ['evt_one_1', 'evt_one_2', 'evt_one_3', 'evt_one_4'];
    await store(ids);
    await drainInbox(w.db, noStripe, { handlers: countingHandlers(['customer.created']), eventsPerTransaction: 25 });
    expect(new Set((await writers()).values()).size).toBe(1);

    // The control: one event to a transaction gives each row its own writer.
    await w.db.deleteFrom('stripe_events').execute();
    await store(ids);
    await drainInbox(w.db, noStripe, { handlers: countingHandlers(['customer.created']), eventsPerTransaction: 1 });
    expect(new Set((await writers()).values()).size).toBe(4);
  });

  it('with one failing event commits the others, each effect exactly once, and records the bad one failed', async () => {
    const ids = ['evt_f_1', 'evt_f_2', 'evt_f_3', 'evt_f_4', 'evt_f_5'];
    await store(ids);
    const bad = 'evt_f_3';
    const { handlers } = phasedHandlers({ failApplyOf: bad });

    const outcomes = await drainInbox(w.db, noStripe, { handlers, eventsPerTransaction: 25, backoffBaseMs: 60_000, jitter: 0 });

    expect(outcomes).toMatchObject({ done: 4, failed: 1, lost: 0 });
    const rows = await w.db.selectFrom('stripe_events').select(['id', 'status', 'attempts', 'last_error']).orderBy('id').execute();
    for (const row of rows) {
      if (row.id === bad) expect(row).toMatchObject({ status: 'failed', attempts: 1, last_error: 'Error: this event is bad' });
      else expect(row).toMatchObject({ status: 'done', attempts: 1, last_error: null });
    }
    // The batch's rolled-back writes left nothing; the one-by-one run applied each good event once,
    // and no after step ran for the bad one (afters only follow a commit).
    const applied = await effects(w.db);
    for (const id of ids) expect(applied.filter((e) => e.event_id === id).map((e) => e.worker)).toEqual(id === bad ? [] : ['apply', 'after']);
  });

  it('with one failing read applies the others in the batch and records the bad one failed', async () => {
    const ids = ['evt_r_1', 'evt_r_2', 'evt_r_3'];
    await store(ids);
    const handlers = readRefusing('evt_r_2', new Error('Stripe said no'));
    const outcomes = await drainInbox(w.db, noStripe, { handlers, eventsPerTransaction: 25, backoffBaseMs: 60_000 });
    expect(outcomes).toMatchObject({ done: 2, failed: 1 });
    expect((await effects(w.db)).map((e) => e.event_id).sort()).toEqual(['evt_r_1', 'evt_r_3']);
    const written = await writers();
    expect(written.get('evt_r_1')).toBe(written.get('evt_r_3'));
  });
  it('settles events nobody may act on as ignored, with their reasons, in the same transaction as the rest', async () => {
    await store(['evt_i_1', 'evt_i_2', 'evt_i_3']);
    await storeEvent(w.db, makeEvent('product.created', { id: 'prod_1', object: 'product' }, { id: 'evt_i_4' }), {
      source: 'platform',
      livemode: false,
    });
    const handlers = readRefusing('evt_i_2', new IgnoreEvent('not one of ours'));
    const outcomes = await drainInbox(w.db, noStripe, { handlers, eventsPerTransaction: 25 });
    expect(outcomes).toMatchObject({ done: 2, ignored: 2, failed: 0 });
    const rows = await w.db.selectFrom('stripe_events').select(['id', 'status', 'last_error']).orderBy('id').execute();
    expect(rows).toEqual([
      { id: 'evt_i_1', status: 'done', last_error: null },
      { id: 'evt_i_2', status: 'ignored', last_error: 'not one of ours' },
      { id: 'evt_i_3', status: 'done', last_error: null },
      { id: 'evt_i_4', status: 'ignored', last_error: 'no handler for product.created' },
    ]);
    expect(new Set((await writers()).values()).size).toBe(1);
    expect((await effects(w.db)).map((e) => e.event_id).sort()).toEqual(['evt_i_1', 'evt_i_3']);
  });
});

describe.skipIf(isPglite())('a worker killed in the middle of a batch (real PostgreSQL: a second process)', () => {
  it('wrote nothing; once its lease runs out another worker completes every event once', async () => {
    const ids = ['evt_k_1', 'evt_k_2', 'evt_k_3', 'evt_k_4'];
    await store(ids);
    const leaseMs = 5000;
    // The child applies two events of its batch, then hangs inside the third apply.
    const child = await startHangingWorker(w.database.url!, leaseMs, 3);
    const childWorker = child.workerId;
    // Two effects are written but uncommitted, in the open batch transaction.
    const uncommitted = await sql<{
      n: number;
    }>`select count(*)::int as n from pg_stat_activity where datname = current_database() and state = 'idle in transaction'`.execute(w.db);
    expect(uncommitted.rows[0]!.n).toBe(1);
    await child.kill();

    const rows = await w.db.selectFrom('stripe_events').select(['status', 'locked_by', 'attempts']).execute();
    expect(rows).toEqual(Array(4).fill({ status: 'processing', locked_by: childWorker, attempts: 1 }));
    expect(await effects(w.db)).toHaveLength(0);
    expect(await claimDueEvents(w.db, { workerId: newWorkerId(), batchSize: 10, leaseMs })).toEqual([]);

    const handlers = countingHandlers(['customer.created'], { worker: 'survivor' });
    await waitFor(async () => {
      await drainInbox(w.db, noStripe, { handlers });
      const left = await w.db.selectFrom('stripe_events').select('id').where('status', '!=', 'done').execute();
      return left.length === 0;
    }, 200);
    const after = await w.db.selectFrom('stripe_events').select(['attempts']).execute();
    expect(after).toEqual(Array(4).fill({ attempts: 2 }));
    const applied = await effects(w.db);
    expect(applied.map((e) => e.event_id).sort()).toEqual(ids);
    expect(applied.every((e) => e.worker === 'survivor')).toBe(true);
  }, 120_000);
});
