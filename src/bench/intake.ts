// Intake: events per second through POST /webhooks/stripe of the production web process, against
// two yardsticks measured in the same run with the same signed events (charge.succeeded, a fresh
// id and signature each):
//   - bare: constructEvent + one INSERT (./servers/bare-intake.ts) — goal: ours ≥ 0.9 of it;
//   - @supabase/stripe-sync-engine's webhook endpoint (./servers/sync-engine.ts) — goal: ≥ 1.0.
// The three run at once, idle but for the one under load, and are loaded in turn, BENCH_ROUNDS
// rounds (default 5) of BENCH_INTAKE_SECONDS (default 6) each after a short warm-up, the order
// turning each round; a ratio is taken per round and the
// median reported, so a burst of load from elsewhere on the machine skews one round, not the result.
// The worker is not running: this measures the endpoint.
import { sql } from 'kysely';
import { chargeSucceeded } from './support/events.ts';
import { createThrowawayDatabase } from './support/database.ts';
import { median, postEvents, seconds, type LoadResult } from './support/load.ts';
import { fmt, verdict, type Check } from './support/report.ts';
import { startBenchServer, startProductionWeb, WEBHOOK_SECRET } from './support/servers.ts';

const CONNECTIONS = 32;

export async function benchIntake(): Promise<Check[]> {
  // Five short rounds rather than three long ones, in the same time: a steadier median.
  const runSeconds = seconds('BENCH_INTAKE_SECONDS', 6);
  const rounds = seconds('BENCH_ROUNDS', 5);
  const database = await createThrowawayDatabase('bench_intake');
  const servers = await Promise.all([
    startProductionWeb(database.url),
    startBenchServer('bare-intake', database.url),
    startBenchServer('sync-engine', database.url),
  ]);
  const [ours, bare, syncEngine] = servers;
  const next = () => chargeSucceeded(WEBHOOK_SECRET);
  const path = '/webhooks/stripe';
  try {
    console.log(`\nIntake — ${CONNECTIONS} connections, ${rounds} round(s) of ${runSeconds} s per server, a fresh signed charge.succeeded per request`);
    for (const server of servers) await postEvents(server.url!, next, { seconds: 2, connections: CONNECTIONS, path });
    const results: Record<'ours' | 'bare' | 'sync', LoadResult[]> = { ours: [], bare: [], sync: [] };
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
        results[name].push(await postEvents(server.url!, next, { seconds: runSeconds, connections: CONNECTIONS, path }));
      }
    }
    const line = (name: string, runs: LoadResult[]) => {
      const failed = runs.reduce((n, r) => n + r.non2xx + r.errors, 0);
      console.log(
        `  ${name.padEnd(12)} ${fmt(median(runs.map((r) => r.rps)), 0).padStart(6)} events/s (median; rounds ${runs.map((r) => r.rps.toFixed(0)).join(', ')})   p50 ${fmt(median(runs.map((r) => r.p50)))} ms   p99 ${fmt(median(runs.map((r) => r.p99)))} ms   failed ${failed}`,
      );
    };
    line('ours', results.ours);
    line('bare', results.bare);
    line('sync engine', results.sync);
    const vsBare = median(results.ours.map((r, i) => r.rps / results.bare[i]!.rps));
    const vsSync = median(results.ours.map((r, i) => r.rps / results.sync[i]!.rps));
    console.log(`  ours / bare        ${fmt(vsBare, 2)} (goal ≥ 0.90: ${verdict(vsBare >= 0.9)})`);
    console.log(`  ours / sync engine ${fmt(vsSync, 2)} (goal ≥ 1.00: ${verdict(vsSync >= 1)})`);

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
