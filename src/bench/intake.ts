// Intake: events per second through POST /webhooks/stripe of the production web process, against
// two yardsticks measured in the same run with the same signed events (charge.succeeded, a fresh
// id and signature each):
//   - bare: constructEvent + one INSERT (./servers/bare-intake.ts) — goal: ours ≥ 0.9 of it;
//   - @supabase/stripe-sync-engine's webhook endpoint (./servers/sync-engine.ts) — goal: ≥ 1.0.
// The three run at once, idle but for the one under load, and are loaded in turn: BENCH_ROUNDS
// rounds (default 15) of BENCH_INTAKE_SECONDS (default 2) each after a short warm-up, the order
// turning each round. A ratio is taken per round, between runs seconds apart, and the median
// reported. Many short rounds rather than a few long ones: this machine's speed drifts by more
// than the difference being measured over tens of seconds (PostgreSQL's checkpoints and
// autovacuum on the growing tables, other tenants), and a ratio between neighbours cancels that
// drift where one between runs half a minute apart does not.
// Beside the rate, the CPU each contender costs per event (its own process, and PostgreSQL's
// processes while it is loaded) says where a difference comes from.
// The worker is not running: this measures the endpoint.
import { sql } from 'kysely';
import { chargeSucceeded } from './support/events.ts';
import { createThrowawayDatabase } from './support/database.ts';
import { median, postEvents, seconds, type LoadResult } from './support/load.ts';
import { cpuMs, postgresCpuBetween, postgresCpuMs, type RunningProcess } from './support/processes.ts';
import { fmt, verdict, type Check } from './support/report.ts';
import { startBenchServer, startProductionWeb, WEBHOOK_SECRET } from './support/servers.ts';

const CONNECTIONS = 32;

interface Round extends LoadResult {
  /** CPU per acknowledged event in µs: the server's process, and all of PostgreSQL's (undefined where /proc is not readable). */
  serverCpuUs: number | undefined;
  postgresCpuUs: number | undefined;
}

export async function benchIntake(): Promise<Check[]> {
  const runSeconds = seconds('BENCH_INTAKE_SECONDS', 2);
  const rounds = seconds('BENCH_ROUNDS', 15);
  const database = await createThrowawayDatabase('bench_intake');
  const servers = await Promise.all([
    startProductionWeb(database.url),
    startBenchServer('bare-intake', database.url),
    startBenchServer('sync-engine', database.url),
  ]);
  const [ours, bare, syncEngine] = servers;
  const next = () => chargeSucceeded(WEBHOOK_SECRET);
  const path = '/webhooks/stripe';
  const load = async (server: RunningProcess): Promise<Round> => {
    const before = { server: cpuMs(server.pid), postgres: postgresCpuMs() };
    const result = await postEvents(server.url!, next, { seconds: runSeconds, connections: CONNECTIONS, path });
    const after = { server: cpuMs(server.pid), postgres: postgresCpuMs() };
    const perEvent = (ms: number | undefined) => (ms === undefined || result.ok === 0 ? undefined : (ms * 1000) / result.ok);
    return {
      ...result,
      serverCpuUs: perEvent(before.server === undefined || after.server === undefined ? undefined : after.server - before.server),
      postgresCpuUs: perEvent(postgresCpuBetween(before.postgres, after.postgres)),
    };
  };
  try {
    console.log(`\nIntake — ${CONNECTIONS} connections, ${rounds} round(s) of ${runSeconds} s per server in turn, a fresh signed charge.succeeded per request`);
    for (const server of servers) await postEvents(server.url!, next, { seconds: 3, connections: CONNECTIONS, path });
    const results: Record<'ours' | 'bare' | 'sync', Round[]> = { ours: [], bare: [], sync: [] };
    // Who goes first turns round by round: what one contender leaves behind (PostgreSQL writing out
    // its rows, autovacuum on a grown table) falls on each of the others in turn, not always on the same one.
    const contenders = [
      ['ours', ours],
      ['bare', bare],
      ['sync', syncEngine],
    ] as const;
    for (let round = 0; round < rounds; round++) {
      for (let turn = 0; turn < contenders.length; turn++) {
        const [name, server] = contenders[(round + turn) % contenders.length]!;
        results[name].push(await load(server));
      }
    }
    const medianOf = (values: (number | undefined)[]) => {
      const known = values.filter((v): v is number => v !== undefined);
      return known.length === values.length ? median(known) : undefined;
    };
    const line = (name: string, runs: Round[]) => {
      const failed = runs.reduce((n, r) => n + r.non2xx + r.errors, 0);
      const rates = runs.map((r) => r.rps);
      console.log(
        `  ${name.padEnd(12)} ${fmt(median(rates), 0).padStart(6)} events/s (median; rounds ${fmt(Math.min(...rates), 0)}–${fmt(Math.max(...rates), 0)})   p50 ${fmt(median(runs.map((r) => r.p50)))} ms   p99 ${fmt(median(runs.map((r) => r.p99)))} ms   CPU per event: process ${fmt(medianOf(runs.map((r) => r.serverCpuUs)), 0)} µs, PostgreSQL ${fmt(medianOf(runs.map((r) => r.postgresCpuUs)), 0)} µs   failed ${failed}`,
      );
    };
    line('ours', results.ours);
    line('bare', results.bare);
    line('sync engine', results.sync);
    const ratiosToBare = results.ours.map((r, i) => r.rps / results.bare[i]!.rps);
    const ratiosToSync = results.ours.map((r, i) => r.rps / results.sync[i]!.rps);
    const vsBare = median(ratiosToBare);
    const vsSync = median(ratiosToSync);
    const spread = (ratios: number[]) => `rounds ${fmt(Math.min(...ratios), 2)}–${fmt(Math.max(...ratios), 2)}`;
    console.log(`  ours / bare        ${fmt(vsBare, 2)} (median of ${rounds}; ${spread(ratiosToBare)}) (goal ≥ 0.90: ${verdict(vsBare >= 0.9)})`);
    console.log(`  ours / sync engine ${fmt(vsSync, 2)} (median of ${rounds}; ${spread(ratiosToSync)}) (goal ≥ 1.00: ${verdict(vsSync >= 1)})`);

    // Every contender really stored what it acknowledged (warm-up requests included in the counts).
    const count = async (table: string) => (await sql<{ n: number }>`select count(*)::int as n from ${sql.raw(table)}`.execute(database.handle.db)).rows[0]!.n;
    const stored = { ours: await count('stripe_events'), bare: await count('bench_baseline'), sync: await count('stripe.charges') };
    const acknowledged = (runs: LoadResult[]) => runs.reduce((n, r) => n + r.ok, 0);
    console.log(
      `  stored (warm-ups included): ours ${stored.ours} of ${acknowledged(results.ours)} measured, bare ${stored.bare} of ${acknowledged(results.bare)}, sync engine ${stored.sync} of ${acknowledged(results.sync)}`,
    );
    const lost = Math.max(0, acknowledged(results.ours) - stored.ours);
    if (lost > 0) console.log(`  LOST: ${lost} events acknowledged with 200 are not in the inbox`);
    const failures = results.ours.reduce((n, r) => n + r.non2xx + r.errors, 0);
    return [
      { name: 'Intake vs bare verify+insert', value: fmt(vsBare, 2), goal: '≥ 0.90', met: vsBare >= 0.9 && lost === 0 && failures === 0 },
      { name: 'Intake vs stripe-sync-engine', value: fmt(vsSync, 2), goal: '≥ 1.00', met: vsSync >= 1 && lost === 0 && failures === 0 },
    ];
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await database.drop();
  }
}
