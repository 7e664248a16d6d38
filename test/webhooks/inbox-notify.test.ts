// A worker in its own process hears about new events at once through PostgreSQL's LISTEN/NOTIFY:
// an event delivered to a w.app process's webhook endpoint (which NOTIFYs after its INSERT commits)
// or sent back to the queue by an admin's replay (a trigger) wakes it, with its poll set far beyond
// the test's timeout so only the notification can explain the work.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayEvent } from '../../src/webhooks/inbox.ts';
import { createStripeClient } from '../../src/stripe/client.ts';
import { startWorker, type RunningWorker } from '../../src/worker/worker.ts';
import { isPglite } from '../helpers/database.ts';
import { useWorld } from '../helpers/fixture.ts';
import { countingHandlers, createEffectsTable, effects, makeEvent, postSigned, signature, waitFor } from '../helpers/webhooks.ts';

describe.skipIf(isPglite())('a worker woken by NOTIFY', () => {
  // The world's app is the w.app side, with no worker of its own to wake directly.
  const w = useWorld();
  let worker: RunningWorker | undefined;

  beforeAll(async () => {
    await createEffectsTable(w.db);
  });
  afterAll(async () => {
    await worker?.stop();
  });

  const status = async (id: string) => (await w.db.selectFrom('stripe_events').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;

  it('processes an event delivered to the webhook endpoint, and an admin replay, without waiting for its poll', async () => {
    const stripe = createStripeClient({ secretKey: 'sk_test_unused', emulator: { host: '127.0.0.1', port: 9 }, maxNetworkRetries: 0 });
    worker = startWorker(w.db, stripe, {
      livemode: false,
      listen: w.database.listen,
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
      where application_name = 'listen:stripe_events_pending' and datname = current_database() and query ilike 'listen%'`.execute(w.db)
        ).rows[0]!.n > 0,
    );

    const event = makeEvent('customer.created', { id: 'cus_notify', object: 'customer' });
    const payload = JSON.stringify(event);
    const delivered = await postSigned(w.app, '/webhooks/stripe', payload, signature(payload, w.app.config.stripe.platformWebhookSecret!));
    expect(delivered.statusCode).toBe(200);
    await waitFor(async () => (await status(event.id)) === 'done');
    expect(await effects(w.db)).toEqual([{ event_id: event.id, worker: null }]);

    await w.db.updateTable('stripe_events').set({ status: 'dead' }).where('id', '=', event.id).execute();
    expect(await replayEvent(w.db, event.id)).toBe(true);
    await waitFor(async () => (await status(event.id)) === 'done');
    expect((await effects(w.db)).length).toBe(2);
  });

  it('hears of every one of many deliveries at once (one NOTIFY may stand for several)', async () => {
    const events = Array.from({ length: 30 }, (_, i) => makeEvent('customer.created', { id: `cus_burst${i}`, object: 'customer' }));
    const responses = await Promise.all(
      events.map((event) => {
        const payload = JSON.stringify(event);
        return postSigned(w.app, '/webhooks/stripe', payload, signature(payload, w.app.config.stripe.platformWebhookSecret!));
      }),
    );
    expect(responses.map((r) => r.statusCode)).toEqual(events.map(() => 200));
    await waitFor(async () => (await Promise.all(events.map((event) => status(event.id)))).every((s) => s === 'done'));
  });
});
