// A worker in its own process hears about new events at once through PostgreSQL's LISTEN/NOTIFY:
// an event committed by any connection (a web process, a backfill, an admin's replay) wakes it,
// with its poll set far beyond the test's timeout so only the notification can explain the work.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayEvent, storeEvent } from '../../src/webhooks/inbox.ts';
import { createStripeClient } from '../../src/stripe/client.ts';
import { startWorker, type RunningWorker } from '../../src/worker/worker.ts';
import { createTestDatabase, isPglite, type TestDatabase } from '../helpers/database.ts';
import { countingHandlers, createEffectsTable, effects, makeEvent, waitFor } from '../helpers/webhooks.ts';

describe.skipIf(isPglite())('a worker woken by NOTIFY', () => {
  let database: TestDatabase;
  let worker: RunningWorker | undefined;

  beforeAll(async () => {
    database = await createTestDatabase();
    await createEffectsTable(database.db);
  });
  afterAll(async () => {
    await worker?.stop();
    await database?.close();
  });

  const status = async (id: string) => (await database.db.selectFrom('stripe_events').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;

  it('processes an event stored by another connection, and an admin replay, without waiting for its poll', async () => {
    const stripe = createStripeClient({ secretKey: 'sk_test_unused', emulator: { host: '127.0.0.1', port: 9 }, maxNetworkRetries: 0 });
    worker = startWorker(database.db, stripe, {
      livemode: false,
      listen: database.listen,
      pollMs: 10 * 60_000,
      handlers: countingHandlers(['customer.created']),
      backfillEveryMs: null,
      totalsEveryMs: null,
    });
    // Listening before anything is stored: the listener's own wake-up at connect must not be what processes it.
    await waitFor(
      async () =>
        (
          await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
      where application_name = 'listen:stripe_events_pending' and datname = current_database() and query ilike 'listen%'`.execute(database.db)
        ).rows[0]!.n > 0,
    );

    const event = makeEvent('customer.created', { id: 'cus_notify', object: 'customer' });
    await storeEvent(database.db, event, { source: 'platform', livemode: false });
    await waitFor(async () => (await status(event.id)) === 'done');
    expect(await effects(database.db)).toEqual([{ event_id: event.id, worker: null }]);

    await database.db.updateTable('stripe_events').set({ status: 'dead' }).where('id', '=', event.id).execute();
    expect(await replayEvent(database.db, event.id)).toBe(true);
    await waitFor(async () => (await status(event.id)) === 'done');
    expect((await effects(database.db)).length).toBe(2);
  });
});
