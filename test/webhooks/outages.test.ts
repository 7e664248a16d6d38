// Outages: the database going away under the webhook endpoint (503, and Stripe's retry lands the
// event once it is back), and our endpoint being down while events happen (backfill brings them in).
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPostgres, type DatabaseHandle } from '../../src/db/connect.ts';
import { ensureConnectedAccount } from '../../src/sellers/use-cases.ts';
import { backfillEvents, describeBackfill } from '../../src/webhooks/backfill.ts';
import { drainInbox } from '../../src/webhooks/processor.ts';
import { buildTestApp, createTestUser, testConfig } from '../helpers/app.ts';
import { isPglite } from '../helpers/database.ts';
import { useWorld } from '../helpers/fixture.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';
import { connectEmulatorTo, createExpressAccount, waitFor } from '../helpers/webhooks.ts';

interface DeliveryView {
  event: string;
  event_type: string;
  account: string | null;
  status: string;
  attempts: { status: number | null }[];
}

// The first part builds a second app on the file's database, its pool through a TCP proxy the test
// cuts; the second part lets the emulator deliver to the world's own app.
const w = useWorld({ emulator: true });

const deliveriesFor = async (account: string) =>
  (await w.emu.control<{ data: DeliveryView[] }>('GET', '/_emulator/deliveries?endpoint=connect')).data.filter((d) => d.account === account);

describe.skipIf(isPglite())('the database is unreachable during delivery (real PostgreSQL behind a TCP proxy the test cuts)', () => {
  let proxy: TcpProxy;
  let appDatabase: DatabaseHandle;
  let app: FastifyInstance;

  beforeAll(async () => {
    const target = new URL(w.database.url!);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    appDatabase = connectPostgres(proxy.urlFor(w.database.url!), { max: 3 });
    app = await buildTestApp({ db: appDatabase.db, stripe: w.stripe, config: testConfig() });
    await connectEmulatorTo(app, w.emu);
  });
  afterAll(async () => {
    await app?.close();
    await appDatabase?.close();
    await proxy?.close();
  });

  it('answers 503 so the emulator retries; once the database is back the retry lands and nothing is lost', async () => {
    const account = await createExpressAccount(w.emu);
    await w.emu.control('POST', '/_emulator/delivery/flush');
    proxy.cut();
    await w.stripe.accounts.update(account.id, { metadata: { during: 'outage-1' } });
    await w.stripe.accounts.update(account.id, { metadata: { during: 'outage-2' } });
    // The emulator tried, and was told to come back later.
    await waitFor(async () => {
      const updates = (await deliveriesFor(account.id)).filter((d) => d.event_type === 'account.updated');
      return updates.length === 2 && updates.every((d) => d.attempts.some((a) => a.status === 503));
    });
    const during = (await deliveriesFor(account.id)).filter((d) => d.event_type === 'account.updated');
    expect(during.every((d) => d.status === 'queued')).toBe(true);
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);

    proxy.restore();
    await w.emu.control('POST', '/_emulator/delivery/flush');
    const after = await deliveriesFor(account.id);
    const eventIds = [...new Set(after.map((d) => d.event))];
    for (const delivery of after.filter((d) => during.some((x) => x.event === d.event))) {
      expect(delivery.status).toBe('succeeded');
      expect(delivery.attempts.at(-1)!.status).toBe(200);
      expect(delivery.attempts.slice(0, -1).every((a) => a.status === 503)).toBe(true);
    }
    const stored = await w.db.selectFrom('stripe_events').select(['id', 'status']).where('account', '=', account.id).execute();
    expect(stored.map((r) => r.id).sort()).toEqual(eventIds.sort());
    await drainInbox(w.db, w.stripe);
    const processed = await w.db.selectFrom('stripe_events').select('status').where('account', '=', account.id).execute();
    expect(processed.every((r) => r.status === 'done' || r.status === 'ignored')).toBe(true);
  });
});

describe('our endpoint is down while events happen (the emulator drops deliveries)', () => {
  beforeAll(async () => {
    await connectEmulatorTo(w.app, w.emu);
  });

  it('stripe:backfill lists every missed event into the inbox, the worker processes them, and a second run adds nothing', async () => {
    const user = await createTestUser(w.db, 'seller');
    const { accountId } = await ensureConnectedAccount(w.db, w.stripe, { sellerId: user.id, country: 'US', email: user.email });
    await w.emu.control('POST', '/_emulator/delivery/flush');
    await drainInbox(w.db, w.stripe);

    await w.emu.control('POST', '/_emulator/delivery', { mode: 'drop' });
    await w.emu.advanceClock(5);
    await w.emu.control('POST', `/_emulator/accounts/${accountId}/onboarding`, { outcome: 'verified' });
    await w.stripe.accounts.update(accountId, { metadata: { missed: 'yes' } });
    await w.emu.control('POST', '/_emulator/delivery', { mode: 'normal' });

    const dropped = (await deliveriesFor(accountId)).filter((d) => d.status === 'dropped').map((d) => d.event);
    expect(dropped.length).toBeGreaterThanOrEqual(3);
    const before = await w.db.selectFrom('stripe_events').select('id').where('id', 'in', dropped).execute();
    expect(before).toEqual([]);
    expect((await w.db.selectFrom('sellers').select('account_state').where('id', '=', user.id).executeTakeFirstOrThrow()).account_state).not.toBe('enabled');

    const report = await backfillEvents(w.db, w.stripe, { livemode: false });
    expect(report.errors).toEqual([]);
    const scope = report.scopes.find((s) => s.scope === accountId)!;
    expect(scope.inserted).toBe(dropped.length);
    const after = await w.db.selectFrom('stripe_events').select(['id', 'source']).where('id', 'in', dropped).execute();
    expect(after.map((r) => r.id).sort()).toEqual([...dropped].sort());
    expect(after.every((r) => r.source === 'backfill')).toBe(true);

    await drainInbox(w.db, w.stripe);
    const statuses = await w.db.selectFrom('stripe_events').select('status').where('id', 'in', dropped).execute();
    expect(statuses.every((r) => r.status === 'done' || r.status === 'ignored')).toBe(true);
    expect((await w.db.selectFrom('sellers').select('account_state').where('id', '=', user.id).executeTakeFirstOrThrow()).account_state).toBe('enabled');

    const again = await backfillEvents(w.db, w.stripe, { livemode: false });
    expect(again.scopes.reduce((n, s) => n + s.inserted, 0)).toBe(0);
  });

  it('a backfill since before what Stripe keeps starts at 30 days ago and says so', async () => {
    const now = new Date();
    const report = await backfillEvents(w.db, w.stripe, { livemode: false, since: new Date(now.getTime() - 40 * 86_400_000), now });
    expect(report.clamped?.from.getTime()).toBe(now.getTime() - 30 * 86_400_000);
    expect(describeBackfill(report)[0]).toMatch(/Stripe keeps events for 30 days/);
  });
});

if (isPglite())
  console.log('[outage tests] skipped the database-outage test: it needs a real PostgreSQL server behind a TCP proxy. Set DATABASE_URL to run it.');
