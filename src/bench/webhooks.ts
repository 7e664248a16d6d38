// `npm run bench`: the webhook pipeline under load, on this machine, loopback only, bounded in time.
//
//  1. Ingest: events/s and p99 latency of POST /webhooks/stripe/connect (the real app: plugins,
//     hooks, raw body, constructEvent, the inbox INSERT) against a baseline measured in the same run —
//     a bare Fastify route that does only constructEvent + one INSERT into a table shaped like the
//     inbox in the same database. Goal: ours ≥ 0.8 × baseline. The worker is off here: this measures
//     the endpoint.
//  2. Lag: 500 signed events/s for 60 s into the app running as `npm start` does (web + worker in one
//     process, the worker woken by the route), then receipt → done per event (p50, p99; goal p99 ≤
//     250 ms) and zero lost (every 200 is in the inbox and done).
//
// The server runs in a child process (this file with --serve) so the load generator does not share
// its event loop. Every event has a fresh id and a valid signature. Uses DATABASE_URL (a throwaway
// database is created on that server and dropped afterwards); without it, in-memory PGlite.
// BENCH_INGEST_SECONDS / BENCH_LAG_SECONDS / BENCH_RATE shorten or change the phases.
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { sql } from 'kysely';
import pg from 'pg';
import Stripe from 'stripe';
import { buildApp } from '../app.ts';
import { loadConfig } from '../config.ts';
import { connectPglite, connectPostgres, type DatabaseHandle } from '../db/connect.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { createStripeClient } from '../stripe/client.ts';
import { startWorker } from '../worker/worker.ts';

const SECRET = `whsec_bench_${randomBytes(16).toString('hex')}`;
const INGEST_SECONDS = Number(process.env.BENCH_INGEST_SECONDS ?? 10);
const LAG_SECONDS = Number(process.env.BENCH_LAG_SECONDS ?? 60);
const RATE = Number(process.env.BENCH_RATE ?? 500);
const signer = new Stripe('sk_test_bench_signing_only');


// ---------------------------------------------------------------------------------------------
// The server side (child process)
// ---------------------------------------------------------------------------------------------

async function serve(withWorker: boolean): Promise<void> {
  const url = process.env.BENCH_DATABASE_URL;
  const database: DatabaseHandle = url !== undefined ? connectPostgres(url, { max: 20 }) : await connectPglite();
  await migrateToLatest(database.db);
  await sql`create table if not exists bench_baseline (like stripe_events including all)`.execute(database.db);
  await sql`truncate stripe_events, bench_baseline`.execute(database.db);

  const config = loadConfig({ DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-')), LOG_LEVEL: 'silent', ...(url !== undefined ? { DATABASE_URL: url } : {}) });
  config.stripe.platformWebhookSecret = SECRET_FROM_ENV();
  config.stripe.connectWebhookSecret = SECRET_FROM_ENV();
  // No Stripe calls are expected (account.updated for accounts that are not our sellers is a no-op);
  // a closed port makes any accidental one fail loudly.
  const stripe = createStripeClient({ secretKey: 'sk_test_bench', emulator: { host: '127.0.0.1', port: 9 }, maxNetworkRetries: 0 });
  const worker = withWorker ? startWorker(database.db, stripe, { livemode: false, backfillEveryMs: null }) : undefined;
  const app = await buildApp({ config, db: database.db, stripe, logger: false, ...(worker ? { onEventStored: () => worker.wake() } : {}) });
  app.get('/__bench/stats', async () => {
    const result = await sql<{ total: number; done: number; open: number; p50: number | null; p99: number | null; max: number | null }>`
      select count(*)::int as total,
             count(*) filter (where status = 'done')::int as done,
             count(*) filter (where status in ('pending', 'processing', 'failed'))::int as open,
             percentile_cont(0.5) within group (order by extract(epoch from processed_at - received_at) * 1000) as p50,
             percentile_cont(0.99) within group (order by extract(epoch from processed_at - received_at) * 1000) as p99,
             max(extract(epoch from processed_at - received_at) * 1000)::float8 as max
        from stripe_events`.execute(database.db);
    return result.rows[0];
  });
  const ours = await app.listen({ port: 0, host: '127.0.0.1' });

  // The baseline: nothing but the raw bytes, constructEvent and one INSERT.
  const baseline = Fastify({ logger: false });
  baseline.removeAllContentTypeParsers();
  baseline.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  baseline.post('/baseline', async (request, reply) => {
    const raw = request.body as Buffer;
    const event = stripe.webhooks.constructEvent(raw, String(request.headers['stripe-signature']), SECRET_FROM_ENV(), 300);
    await sql`insert into bench_baseline (id, type, account, created, livemode, source, payload)
              values (${event.id}, ${event.type}, ${event.account ?? null}, ${new Date(event.created * 1000)}, ${event.livemode}, 'connect', ${raw.toString('utf8')})
              on conflict (id) do nothing`.execute(database.db);
    return reply.send({ received: true });
  });
  const base = await baseline.listen({ port: 0, host: '127.0.0.1' });
  process.stdout.write(`${JSON.stringify({ ours, baseline: base })}\n`);

  // The parent holds our stdin: if it dies, so do we (no orphaned benchmark servers).
  process.stdin.on('close', () => process.exit(0));
  process.stdin.resume();
  process.on('SIGTERM', () => {
    void (async () => {
      await app.close();
      await baseline.close();
      await worker?.stop();
      await database.close();
      process.exit(0);
    })();
  });
}

function SECRET_FROM_ENV(): string {
  return process.env.BENCH_SECRET ?? SECRET;
}

// ---------------------------------------------------------------------------------------------
// The load generator (parent)
// ---------------------------------------------------------------------------------------------

interface Servers { ours: string; baseline: string; child: ChildProcess }

async function startServer(mode: 'ingest' | 'worker', databaseUrl: string | undefined): Promise<Servers> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve', mode], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, BENCH_SECRET: SECRET, ...(databaseUrl !== undefined ? { BENCH_DATABASE_URL: databaseUrl } : {}) },
  });
  const urls = await new Promise<{ ours: string; baseline: string }>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line !== undefined) resolve(JSON.parse(line) as { ours: string; baseline: string });
    });
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });
  return { ...urls, child };
}

async function stopServer(servers: Servers): Promise<void> {
  const exited = new Promise((resolve) => servers.child.once('exit', resolve));
  servers.child.kill('SIGTERM');
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
  if (servers.child.exitCode === null) servers.child.kill('SIGKILL');
}

let sequence = 0;
/** A fresh, signed account.updated for an account that is not one of our sellers (a real, cheap handler). */
function signedEvent(): { body: string; signature: string } {
  sequence += 1;
  const now = Math.floor(Date.now() / 1000);
  const account = `acct_bench${(sequence % 1000).toString().padStart(6, '0')}`;
  const event = {
    id: `evt_bench_${process.pid}_${sequence}_${randomBytes(4).toString('hex')}`,
    object: 'event',
    api_version: '2026-10-28.endive',
    created: now,
    account,
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: 'account.updated',
    data: { object: { id: account, object: 'account', charges_enabled: true, payouts_enabled: true, details_submitted: true, capabilities: { card_payments: 'active', transfers: 'active' }, requirements: { currently_due: [], past_due: [], eventually_due: [], pending_verification: [], errors: [], disabled_reason: null, current_deadline: null, alternatives: [] } } },
  };
  const body = JSON.stringify(event);
  return { body, signature: signer.webhooks.generateTestHeaderString({ payload: body, secret: SECRET, timestamp: now }) };
}

function load(url: string, path: string, options: { seconds: number; connections: number; rate?: number }) {
  return autocannon({
    url,
    connections: options.connections,
    duration: options.seconds,
    ...(options.rate !== undefined ? { overallRate: options.rate } : {}),
    timeout: 10,
    requests: [{
      method: 'POST',
      path,
      setupRequest: (request) => {
        const { body, signature } = signedEvent();
        return { ...request, body, headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': signature } };
      },
    }],
  });
}

async function main(): Promise<void> {
  const serverUrl = process.env.DATABASE_URL;
  let databaseUrl: string | undefined;
  let dropDatabase = async () => {};
  if (serverUrl !== undefined) {
    const name = `marketplace_bench_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    databaseUrl = url.toString();
    dropDatabase = async () => {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    };
  }
  const where = databaseUrl !== undefined ? `PostgreSQL at ${new URL(databaseUrl).host}` : 'in-memory PGlite (set DATABASE_URL for a real server)';
  console.log(`Webhook benchmark — ${where}; loopback; server in a child process; ${new Date().toISOString()}`);

  try {
    // Phase 1: ingest.
    let servers = await startServer('ingest', databaseUrl);
    const connections = 32;
    await load(servers.ours, '/webhooks/stripe/connect', { seconds: 2, connections });
    await load(servers.baseline, '/baseline', { seconds: 2, connections });
    const ours = await load(servers.ours, '/webhooks/stripe/connect', { seconds: INGEST_SECONDS, connections });
    const baseline = await load(servers.baseline, '/baseline', { seconds: INGEST_SECONDS, connections });
    await stopServer(servers);
    const ratio = ours.requests.average / baseline.requests.average;
    console.log(`\nIngest (${INGEST_SECONDS} s each, ${connections} connections, fresh signed event per request):`);
    console.log(`  ours      ${ours.requests.average.toFixed(0).padStart(6)} events/s   p50 ${ours.latency.p50} ms   p99 ${ours.latency.p99} ms   non-2xx ${ours.non2xx}, errors ${ours.errors}`);
    console.log(`  baseline  ${baseline.requests.average.toFixed(0).padStart(6)} events/s   p50 ${baseline.latency.p50} ms   p99 ${baseline.latency.p99} ms   non-2xx ${baseline.non2xx}, errors ${baseline.errors}`);
    console.log(`  ratio     ${ratio.toFixed(2)} of baseline throughput (goal ≥ 0.80: ${ratio >= 0.8 ? 'met' : 'NOT met'}); p99 ${(ours.latency.p99 / Math.max(1, baseline.latency.p99)).toFixed(2)}× baseline's`);

    // Phase 2: lag at a sustained rate, web + worker in one process as `npm start` runs them.
    servers = await startServer('worker', databaseUrl);
    const sustained = await load(servers.ours, '/webhooks/stripe/connect', { seconds: LAG_SECONDS, connections: 16, rate: RATE });
    type Stats = { total: number; done: number; open: number; p50: number | null; p99: number | null; max: number | null };
    const stats = async () => (await (await fetch(`${servers.ours}/__bench/stats`)).json()) as Stats;
    let final = await stats();
    const drainDeadline = Date.now() + 30_000;
    while (final.open > 0 && Date.now() < drainDeadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      final = await stats();
    }
    await stopServer(servers);
    const accepted = sustained['2xx'];
    // Acknowledged with 200 but not in the inbox would be a loss. The inbox may hold a few more than
    // autocannon counted: requests in flight when the load stopped (stored; their 200 not counted).
    const lost = Math.max(0, accepted - final.total);
    const achieved = accepted / sustained.duration;
    console.log(`\nLag at ${RATE} events/s for ${LAG_SECONDS} s (web + worker in one process; achieved ${achieved.toFixed(0)} events/s):`);
    console.log(`  accepted ${accepted}, non-2xx ${sustained.non2xx}, errors ${sustained.errors}; in the inbox ${final.total}, done ${final.done}, still open ${final.open}`);
    console.log(`  receipt → done   p50 ${fmt(final.p50)} ms   p99 ${fmt(final.p99)} ms   max ${fmt(final.max)} ms   (goal p99 ≤ 250 ms: ${final.p99 !== null && final.p99 <= 250 ? 'met' : 'NOT met'})`);
    console.log(`  endpoint latency under this load: p50 ${sustained.latency.p50} ms, p99 ${sustained.latency.p99} ms`);
    console.log(`  lost: ${lost} acknowledged but not stored, ${final.open} stored but not done after a 30 s drain (goal 0 and 0: ${lost === 0 && final.open === 0 && sustained.non2xx === 0 ? 'met' : 'NOT met'})`);
  } finally {
    await dropDatabase();
  }
}

function fmt(value: number | null): string {
  return value === null ? 'n/a' : value.toFixed(1);
}

// Last, so every module-level binding above is initialised before either side starts.
if (process.argv[2] === '--serve') await serve(process.argv[3] === 'worker');
else await main();
