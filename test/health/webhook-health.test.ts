// Webhook health for operators: the warnings (Connect endpoint silent while sellers exist, an old
// backlog, repeated signature failures) on /admin/health, the admin home and /admin/health.json,
// who may read the JSON, and the worker logging the same warnings as structured lines.
import { sql } from 'kysely';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/schema.ts';
import { storeEvent } from '../../src/webhooks/inbox.ts';
import { startWorker } from '../../src/worker/worker.ts';
import { createStripeClient } from '../../src/stripe/client.ts';
import { createTestUser, testConfig } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';
import { makeEvent, postSigned, signature, waitFor } from '../helpers/webhooks.ts';
import type { Kysely } from 'kysely';

const MONITOR_TOKEN = 'monitor-token-0123456789abcdef0123456789';
const w = useWorld({
  admin: true,
  config: testConfig({
    WEBHOOK_CONNECT_SILENCE_HOURS: '24',
    WEBHOOK_BACKLOG_MAX_AGE_MINUTES: '5',
    WEBHOOK_SIGNATURE_FAILURES_PER_HOUR: '3',
    HEALTH_MONITOR_TOKEN: MONITOR_TOKEN,
  }),
});
beforeEach(async () => {
  await w.db.deleteFrom('stripe_events').execute();
  await w.db.deleteFrom('webhook_signature_failures').execute();
  await w.db.deleteFrom('sellers').execute();
});

interface HealthJson {
  status: 'ok' | 'warning';
  warnings: { code: string; endpoint?: string; message: string; details: Record<string, unknown> }[];
  backlog: { pending: number; oldestWaitingSeconds: number | null };
  endpoints: { source: string; lastReceivedAt: string | null; signatureFailuresLastHour: number }[];
}

async function healthJson(): Promise<{ statusCode: number; body: HealthJson }> {
  const response = await w.app.inject({ method: 'GET', url: '/admin/health.json', headers: { authorization: `Bearer ${MONITOR_TOKEN}` } });
  return { statusCode: response.statusCode, body: response.json() as HealthJson };
}
const codes = (body: HealthJson) => body.warnings.map((warning) => warning.code).sort();

/** A seller whose Stripe account was requested `hoursAgo` hours ago. */
async function sellerWithAccount(db: Kysely<Database>, hoursAgo: number): Promise<void> {
  const user = await createTestUser(db, 'seller');
  await db
    .insertInto('sellers')
    .values({
      id: user.id,
      stripe_account_id: `acct_health${user.id.slice(0, 8)}`,
      account_requested_at: sql<Date>`now() - ${`${hoursAgo} hours`}::interval`,
    })
    .execute();
}

/** An event in the inbox as if received `minutesAgo` minutes ago through `source`. */
async function receivedEvent(source: 'platform' | 'connect', minutesAgo: number, status: 'pending' | 'done' = 'done'): Promise<string> {
  const event = makeEvent(
    source === 'connect' ? 'account.updated' : 'charge.succeeded',
    { id: 'obj_health' },
    source === 'connect' ? { account: 'acct_health' } : {},
  );
  await storeEvent(w.db, event, { source, livemode: false });
  // A waiting event is not yet due, so a running worker leaves it where the test put it.
  await sql`update stripe_events
               set status = ${status},
                   received_at = now() - ${`${minutesAgo} minutes`}::interval,
                   processed_at = case when ${status} = 'done' then now() - ${`${minutesAgo} minutes`}::interval + interval '50 milliseconds' end,
                   next_attempt_at = case when ${status} = 'pending' then now() + interval '1 hour' else now() end
             where id = ${event.id}`.execute(w.db);
  return event.id;
}

describe('no Connect events while sellers have Stripe accounts', () => {
  it('warns once the Connect endpoint has been silent for the configured hours, counted from the first seller account', async () => {
    expect((await healthJson()).body.status).toBe('ok'); // no sellers: nothing to hear about

    await sellerWithAccount(w.db, 2);
    expect(codes((await healthJson()).body)).toEqual([]); // the first account is only 2 hours old

    await w.db
      .updateTable('sellers')
      .set({ account_requested_at: sql<Date>`now() - interval '30 hours'` })
      .execute();
    const silent = await healthJson();
    expect(silent.statusCode).toBe(503);
    expect(codes(silent.body)).toEqual(['connect_silent']);
    expect(silent.body.warnings[0]).toMatchObject({ endpoint: 'connect', details: { sellers: 1, quietHours: 30, thresholdHours: 24, lastReceivedAt: null } });
    expect(silent.body.warnings[0]!.message).toMatch(/No event has ever arrived at the Connect endpoint/);

    // Platform events do not count: the Connect endpoint is the one that is silent.
    await receivedEvent('platform', 1);
    expect(codes((await healthJson()).body)).toEqual(['connect_silent']);

    const connectEvent = await receivedEvent('connect', 120);
    const heard = await healthJson();
    expect(heard.statusCode).toBe(200);
    expect(heard.body.status).toBe('ok');

    await sql`update stripe_events set received_at = now() - interval '25 hours' where id = ${connectEvent}`.execute(w.db);
    const again = await healthJson();
    expect(codes(again.body)).toEqual(['connect_silent']);
    expect(again.body.warnings[0]!.message).toMatch(/No event from the Connect endpoint for 25 hours while 1 seller/);
  });
});

describe('an old backlog', () => {
  it('warns when the oldest waiting event is older than the threshold, on the health page, the admin home and the JSON', async () => {
    await receivedEvent('platform', 2, 'pending');
    const young = await healthJson();
    expect(young.body.status).toBe('ok');
    expect(young.body.backlog.pending).toBe(1);

    await receivedEvent('platform', 12, 'pending');
    const old = await healthJson();
    expect(old.statusCode).toBe(503);
    expect(codes(old.body)).toEqual(['backlog_old']);
    expect(old.body.warnings[0]!.details).toMatchObject({ ageMinutes: 12, thresholdMinutes: 5, pending: 2 });
    expect(old.body.backlog.oldestWaitingSeconds).toBeGreaterThanOrEqual(12 * 60);

    const page = await w.admin.get('/admin/health');
    expect(page.statusCode).toBe(200);
    expect(page.body).toMatch(/data-testid="health-status" data-status="warning"/);
    expect(page.body).toMatch(/<li data-warning="backlog_old">The oldest unprocessed event has waited 12 minutes/);
    expect((await w.admin.get('/admin')).body).toMatch(/<li data-warning="backlog_old">/);

    await w.db
      .updateTable('stripe_events')
      .set({ status: 'done', processed_at: sql<Date>`now()` })
      .execute();
    expect((await healthJson()).body.status).toBe('ok');
    expect((await w.admin.get('/admin/health')).body).toMatch(/data-status="ok"/);
  });
});

describe('repeated signature failures', () => {
  it('are counted per endpoint (nothing stored in the inbox) and warn at the threshold', async () => {
    const payload = JSON.stringify(makeEvent('account.updated', { id: 'acct_forged' }, { account: 'acct_forged' }));
    for (let i = 0; i < 2; i++) {
      const response = await postSigned(w.app, '/webhooks/stripe/connect', payload, signature(payload, 'whsec_not_the_connect_secret'));
      expect(response.statusCode).toBe(400);
    }
    const below = await healthJson();
    expect(below.body.status).toBe('ok');
    expect(below.body.endpoints.find((e) => e.source === 'connect')!.signatureFailuresLastHour).toBe(2);

    expect((await postSigned(w.app, '/webhooks/stripe/connect', payload, undefined)).statusCode).toBe(400);
    const at = await healthJson();
    expect(codes(at.body)).toEqual(['signature_failures']);
    expect(at.body.warnings[0]).toMatchObject({ endpoint: 'connect', details: { failures: 3, threshold: 3, lastReason: 'Missing Stripe-Signature header' } });
    expect(at.body.warnings[0]!.message).toMatch(/STRIPE_CONNECT_WEBHOOK_SECRET/);
    expect(at.body.endpoints.find((e) => e.source === 'platform')!.signatureFailuresLastHour).toBe(0);
    expect(await w.db.selectFrom('stripe_events').select('id').execute()).toEqual([]);

    // A well-signed event is not a failure.
    const good = JSON.stringify(makeEvent('account.updated', { id: 'acct_fine' }, { account: 'acct_fine' }));
    expect((await postSigned(w.app, '/webhooks/stripe/connect', good, signature(good, w.config.stripe.connectWebhookSecret!))).statusCode).toBe(200);
    expect((await healthJson()).body.endpoints.find((e) => e.source === 'connect')!.signatureFailuresLastHour).toBe(3);

    // Failures older than an hour no longer count.
    await w.db
      .updateTable('webhook_signature_failures')
      .set({ minute: sql<Date>`minute - interval '61 minutes'` })
      .execute();
    expect((await healthJson()).body.status).toBe('ok');
  });
});

describe('/admin/health.json', () => {
  it('answers an admin session or the monitor token, and nobody else', async () => {
    const anonymous = await w.app.inject({ method: 'GET', url: '/admin/health.json' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['www-authenticate']).toBe('Bearer');
    const wrongToken = await w.app.inject({ method: 'GET', url: '/admin/health.json', headers: { authorization: `Bearer ${MONITOR_TOKEN}x` } });
    expect(wrongToken.statusCode).toBe(401);
    const { client: buyer } = await w.signIn('buyer');
    expect((await buyer.get('/admin/health.json')).statusCode).toBe(401);
    const asAdmin = await w.admin.get('/admin/health.json');
    expect(asAdmin.statusCode).toBe(200);
    expect(JSON.parse(asAdmin.body)).toMatchObject({ status: 'ok', warnings: [] });
    expect((await buyer.get('/admin/health')).statusCode).toBe(403);
  });
});

describe('the worker', () => {
  it('logs each warning as a structured line with its code', async () => {
    await sellerWithAccount(w.db, 48);
    await receivedEvent('platform', 30, 'pending');
    const lines: { obj: Record<string, unknown>; msg: string }[] = [];
    const log = {
      info() {},
      error() {},
      warn: (obj: object, msg: string) => {
        lines.push({ obj: obj as Record<string, unknown>, msg });
      },
    };
    const stripe = createStripeClient({ secretKey: 'sk_test_unused', emulator: { host: '127.0.0.1', port: 9 }, maxNetworkRetries: 0 });
    const worker = startWorker(w.db, stripe, {
      livemode: false,
      handlers: {},
      backfillEveryMs: null,
      totalsEveryMs: null,
      healthThresholds: w.config.webhookHealth,
      healthEveryMs: 20,
      log,
    });
    try {
      await waitFor(() => lines.some((l) => l.obj.warning === 'backlog_old') && lines.some((l) => l.obj.warning === 'connect_silent'));
    } finally {
      await worker.stop();
    }
    expect(lines.find((l) => l.obj.warning === 'backlog_old')).toMatchObject({
      obj: { ageMinutes: 30, thresholdMinutes: 5 },
      msg: expect.stringMatching(/waited 30 minutes/),
    });
    expect(lines.find((l) => l.obj.warning === 'connect_silent')).toMatchObject({ obj: { endpoint: 'connect', sellers: 1, quietHours: 48 } });
  });
});
