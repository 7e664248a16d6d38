// `npm start` with a PostgreSQL server runs the inbox worker in a thread of its own (src/worker/
// thread.ts), off the web's event loop: a signed event posted to the webhook endpoint is processed
// by it, its log lines come out through the process's output, and SIGTERM stops web and thread and
// exits 0.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, isPglite, type TestDatabase } from '../helpers/database.ts';
import { startEntryPoint, type RunningEntryPoint } from '../helpers/entry-point.ts';
import { makeEvent, signature, waitFor } from '../helpers/webhooks.ts';

const SECRET = 'whsec_worker_thread_test';

describe.skipIf(isPglite())('npm start with DATABASE_URL', () => {
  let database: TestDatabase;
  let server: RunningEntryPoint | undefined;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await server?.stop();
    await database?.close();
  });

  it('processes webhooks in its worker thread and stops cleanly on SIGTERM', async () => {
    server = await startEntryPoint({
      env: {
        DATABASE_URL: database.url!,
        LOG_LEVEL: 'info',
        STRIPE_SECRET_KEY: 'sk_test_worker_thread',
        STRIPE_PUBLISHABLE_KEY: 'pk_test_worker_thread',
        STRIPE_WEBHOOK_SECRET: SECRET,
        STRIPE_CONNECT_WEBHOOK_SECRET: SECRET,
      },
    });
    await server.waitForOutput('"step":"ready"');
    expect(server.output()).toContain('Worker: in its own thread');

    // A type with no handler: the worker marks it ignored without calling Stripe.
    const event = makeEvent('balance.available', { object: 'balance', available: [], pending: [] });
    const payload = JSON.stringify(event);
    const response = await fetch(`http://127.0.0.1:${server.port}/webhooks/stripe`, {
      method: 'POST',
      body: payload,
      headers: { 'content-type': 'application/json', 'stripe-signature': signature(payload, SECRET) },
    });
    expect(response.status).toBe(200);
    const status = async () => await database.db.selectFrom('stripe_events').select(['status', 'locked_by']).where('id', '=', event.id).executeTakeFirst();
    await waitFor(async () => (await status())?.status === 'ignored');

    const code = await server.stop('SIGTERM');
    server = undefined;
    expect(code).toBe(0);
  });
});
