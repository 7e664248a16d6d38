// Lag: BENCH_RATE signed events per second (default 500, Stripe's pace in a busy hour) for
// BENCH_LAG_SECONDS (default 60), alternating account.updated to the Connect endpoint and
// charge.succeeded to the platform endpoint, then receipt → done per event (processed_at −
// received_at, both stamped by PostgreSQL), what was lost (acknowledged but not stored) and what is
// still open after a drain of up to BENCH_DRAIN_SECONDS. The events are evenly spaced (see
// postEventsPaced). Before the measured run, BENCH_LAG_WARMUP_SECONDS (default 10) at the same rate
// warm the processes up (JIT, pool connections, prepared statements) and are drained; only events
// received after that count, and the warm-up's own figures are printed beside them. Two layouts,
// each on an empty inbox:
//   - production (fly.toml): the compiled web process and a worker process — goal p99 ≤ 250 ms,
//     nothing lost or left open, and the web process's RSS ≤ 180 MB under this load;
//   - one process (`npm start` with a DATABASE_URL): the web on the main thread, the worker in a thread.
// RSS of every process is sampled twice a second while the load runs.
import { sql } from 'kysely';
import { accountUpdated, chargeSucceeded } from './support/events.ts';
import { createThrowawayDatabase, type ThrowawayDatabase } from './support/database.ts';
import { postEventsPaced, seconds } from './support/load.ts';
import { sampleRss, type RunningProcess } from './support/processes.ts';
import { fmt, type Check } from './support/report.ts';
import { startBenchServer, startProductionWeb, WEBHOOK_SECRET } from './support/servers.ts';

interface LagStats {
  total: number;
  done: number;
  open: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
}

/** Inbox figures for the events received since `since` (a database timestamp; null: all). */
async function inboxStats(database: ThrowawayDatabase, since: Date | null): Promise<LagStats> {
  const result = await sql<LagStats>`
    select count(*)::int as total,
           count(*) filter (where status = 'done')::int as done,
           count(*) filter (where status in ('pending', 'processing', 'failed'))::int as open,
           percentile_cont(0.5) within group (order by extract(epoch from processed_at - received_at) * 1000) as p50,
           percentile_cont(0.99) within group (order by extract(epoch from processed_at - received_at) * 1000) as p99,
           max(extract(epoch from processed_at - received_at) * 1000)::float8 as max
      from stripe_events
     where ${since}::timestamptz is null or received_at >= ${since}::timestamptz`.execute(database.handle.db);
  return result.rows[0]!;
}

async function drain(database: ThrowawayDatabase, since: Date | null, drainSeconds: number): Promise<LagStats> {
  let stats = await inboxStats(database, since);
  const deadline = Date.now() + drainSeconds * 1000;
  while (stats.open > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    stats = await inboxStats(database, since);
  }
  return stats;
}

async function runLayout(
  label: string,
  database: ThrowawayDatabase,
  processes: Record<string, RunningProcess>,
  web: RunningProcess,
): Promise<{ stats: LagStats; lost: number; failed: number; rss: ReturnType<ReturnType<typeof sampleRss>> }> {
  const rate = seconds('BENCH_RATE', 500);
  const loadSeconds = seconds('BENCH_LAG_SECONDS', 60);
  const drainSeconds = seconds('BENCH_DRAIN_SECONDS', 30);
  const warmupSeconds = seconds('BENCH_LAG_WARMUP_SECONDS', 10);
  let alternate = 0;
  const next = () => (alternate++ % 2 === 0 ? accountUpdated(WEBHOOK_SECRET) : chargeSucceeded(WEBHOOK_SECRET));

  await postEventsPaced(web.url!, next, { seconds: warmupSeconds, connections: 16, rate });
  const warmup = await drain(database, null, drainSeconds);
  const since = (await sql<{ now: Date }>`select clock_timestamp() as now`.execute(database.handle.db)).rows[0]!.now;

  const stopSampling = sampleRss(Object.fromEntries(Object.entries(processes).map(([name, p]) => [name, p.pid])));
  const load = await postEventsPaced(web.url!, next, { seconds: loadSeconds, connections: 16, rate });
  const rss = stopSampling();
  const stats = await drain(database, since, drainSeconds);
  // The inbox may hold a few more than autocannon counted (requests in flight when it stopped).
  const lost = Math.max(0, load.ok - stats.total);
  const failed = load.non2xx + load.errors;
  console.log(
    `\n  ${label}: achieved ${fmt(load.ok / load.seconds, 0)} events/s; accepted ${load.ok}, refused ${load.non2xx}, errors ${load.errors}; stored ${stats.total}, done ${stats.done}, open ${stats.open}`,
  );
  console.log(`    receipt → done   p50 ${fmt(stats.p50)} ms   p99 ${fmt(stats.p99)} ms   max ${fmt(stats.max)} ms`);
  console.log(
    `    (warm-up, ${warmupSeconds} s before, not counted: ${warmup.total} events, p50 ${fmt(warmup.p50)} ms, p99 ${fmt(warmup.p99)} ms, max ${fmt(warmup.max)} ms, open ${warmup.open})`,
  );
  console.log(`    endpoint latency p50 ${load.p50} ms   p99 ${load.p99} ms`);
  console.log(`    lost ${lost}; still open after a ${drainSeconds} s drain: ${stats.open}`);
  for (const [name, sample] of Object.entries(rss))
    console.log(`    RSS ${name.padEnd(7)} max ${fmt(sample?.max, 0)} MB   median ${fmt(sample?.median, 0)} MB`);
  return { stats, lost, failed, rss };
}

export async function benchLag(): Promise<Check[]> {
  const rate = seconds('BENCH_RATE', 500);
  const loadSeconds = seconds('BENCH_LAG_SECONDS', 60);
  console.log(`\nLag — ${rate} events/s for ${loadSeconds} s, half account.updated (Connect endpoint), half charge.succeeded (platform endpoint)`);
  const checks: Check[] = [];

  let database = await createThrowawayDatabase('bench_lag');
  try {
    const web = await startProductionWeb(database.url);
    const worker = await startBenchServer('worker', database.url);
    try {
      const result = await runLayout('production layout (web process + worker process)', database, { web, worker }, web);
      const p99 = result.stats.p99 ?? Infinity;
      const webRss = result.rss.web?.max;
      checks.push(
        { name: `Receipt → done p99 at ${rate}/s, ${loadSeconds} s (production layout)`, value: `${fmt(p99)} ms`, goal: '≤ 250 ms', met: p99 <= 250 },
        {
          name: 'Lost / left open (production layout)',
          value: `${result.lost} / ${result.stats.open} (${result.failed} refused or errors)`,
          goal: '0 / 0',
          met: result.lost === 0 && result.stats.open === 0 && result.failed === 0,
        },
        {
          name: 'Web RSS under the lag load (production layout)',
          value: `${fmt(webRss, 0)} MB max`,
          goal: '≤ 180 MB',
          met: webRss === undefined ? undefined : webRss <= 180,
        },
      );
    } finally {
      await web.stop();
      await worker.stop();
    }
  } finally {
    await database.drop();
  }

  database = await createThrowawayDatabase('bench_lag');
  try {
    const all = await startBenchServer('all-in-one', database.url);
    try {
      const result = await runLayout('one process (npm start: web + worker)', database, { process: all }, all);
      const p99 = result.stats.p99 ?? Infinity;
      checks.push({
        name: `Receipt → done p99 at ${rate}/s (one process)`,
        value: `${fmt(p99)} ms; lost ${result.lost}, open ${result.stats.open}`,
        goal: '(for comparison)',
        met: undefined,
      });
    } finally {
      await all.stop();
    }
  } finally {
    await database.drop();
  }
  return checks;
}
