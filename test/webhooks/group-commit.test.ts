// Group commit on the webhook endpoints (src/webhooks/inbox-writer.ts): deliveries that arrive
// together are committed with one INSERT, each answered only with its own event's outcome; the
// same event twice is stored once; one event PostgreSQL refuses costs only its own delivery.
import type { KyselyPlugin, QueryResult, UnknownRow } from 'kysely';
import { describe, expect, it } from 'vitest';
import { groupCommittingInboxWriter } from '../../src/webhooks/inbox-writer.ts';
import { useDatabase } from '../helpers/fixture.ts';
import { makeEvent } from '../helpers/webhooks.ts';

const w = useDatabase();

/** The database as the writer sees it, counting the statements that succeed. */
function countingStatements() {
  const counter = { statements: 0 };
  const plugin: KyselyPlugin = {
    transformQuery: (args) => args.node,
    transformResult: async (args): Promise<QueryResult<UnknownRow>> => {
      counter.statements += 1;
      return args.result;
    },
  };
  return { db: w.db.withPlugin(plugin), counter };
}

const platform = { source: 'platform' as const, livemode: false };
const rawOf = (event: object) => Buffer.from(JSON.stringify(event));

async function storedIds(prefix: string): Promise<string[]> {
  const rows = await w.db.selectFrom('stripe_events').select('id').where('id', 'like', `${prefix}%`).orderBy('id').execute();
  return rows.map((row) => row.id);
}

describe('the group-committing inbox writer', () => {
  it('commits events that arrive together with a few INSERTs, and answers each as stored', async () => {
    const { db, counter } = countingStatements();
    const writer = groupCommittingInboxWriter(db, { inFlight: 1 });
    const events = Array.from({ length: 40 }, (_, i) =>
      makeEvent('customer.created', { id: `cus_g${i}`, object: 'customer' }, { id: `evt_group_${String(i).padStart(2, '0')}` }),
    );
    const results = await Promise.all(events.map((event) => writer.store(event, { ...platform, rawBody: rawOf(event) })));

    expect(results).toEqual(events.map(() => ({ inserted: true, status: 'pending' })));
    expect(await storedIds('evt_group_')).toEqual(events.map((event) => event.id));
    // The first goes in alone at once; the 39 that arrived meanwhile go in together.
    expect(counter.statements).toBe(2);
    await writer.settled();
  });

  it('stores an event delivered twice at once once, and answers the second as a duplicate', async () => {
    const writer = groupCommittingInboxWriter(w.db, { inFlight: 1 });
    const first = makeEvent('customer.created', { id: 'cus_twice', object: 'customer' }, { id: 'evt_twice_1' });
    const other = makeEvent('customer.created', { id: 'cus_other', object: 'customer' }, { id: 'evt_twice_2' });
    // The first store goes in alone; the four behind it form one batch holding `first` three times.
    const lead = makeEvent('customer.created', { id: 'cus_lead', object: 'customer' }, { id: 'evt_twice_0' });
    const results = await Promise.all([lead, first, other, first, first].map((event) => writer.store(event, { ...platform, rawBody: rawOf(event) })));
    expect(results.map((result) => result.inserted)).toEqual([true, true, true, false, false]);
    expect(await storedIds('evt_twice_')).toEqual(['evt_twice_0', 'evt_twice_1', 'evt_twice_2']);
  });

  it('refuses only the event PostgreSQL refuses, and stores the rest of its batch', async () => {
    const { db, counter } = countingStatements();
    const writer = groupCommittingInboxWriter(db, { inFlight: 1 });
    const good = Array.from({ length: 6 }, (_, i) => makeEvent('customer.created', { id: `cus_b${i}`, object: 'customer' }, { id: `evt_batchbad_${i}` }));
    // Signed and well-formed JSON, but its `created` is beyond any timestamp PostgreSQL can hold.
    const bad = makeEvent('customer.created', { id: 'cus_bad', object: 'customer' }, { id: 'evt_batchbad_x', created: 1e15 });
    const all = [good[0]!, good[1]!, bad, ...good.slice(2)];
    const outcomes = await Promise.allSettled(all.map((event) => writer.store(event, { ...platform, rawBody: rawOf(event) })));

    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(await storedIds('evt_batchbad_')).toEqual(good.map((event) => event.id));
    // Statements that succeeded (a failed one is not counted): the first alone; the six behind it
    // went in together and failed; then each of those alone, of which the five good ones succeeded.
    expect(counter.statements).toBe(1 + 5);
  });

  it('settles once every queued event is committed', async () => {
    const writer = groupCommittingInboxWriter(w.db, { inFlight: 1 });
    const events = Array.from({ length: 5 }, (_, i) => makeEvent('customer.created', { id: `cus_s${i}`, object: 'customer' }, { id: `evt_settle_${i}` }));
    for (const event of events) void writer.store(event, { ...platform, rawBody: rawOf(event) });
    await writer.settled();
    expect(await storedIds('evt_settle_')).toHaveLength(5);
  });
});
