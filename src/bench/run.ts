// `npm run bench`: the performance goals of issue 17, measured on this machine in one run, each
// against a yardstick measured in the same run (ratios, not absolute numbers, are what compare
// across machines). Loopback only; every phase is bounded in time. Needs DATABASE_URL (a
// PostgreSQL server: each part creates and drops its own database) and the compiled build (the
// npm script runs `npm run build` first). `npm run bench -- intake lag` runs only those parts.
//
// Knobs (environment) to shorten phases while developing — the defaults are the issue's:
//   BENCH_ROUNDS (intake 15, catalogue and search 3)  BENCH_INTAKE_SECONDS=2  BENCH_CATALOGUE_SECONDS=10
//   BENCH_SEARCH_SECONDS=10  BENCH_SEARCH_DEEPEST=100 (deep pages: half of it to it)
//   BENCH_RATE=500  BENCH_LAG_SECONDS=60  BENCH_LAG_WARMUP_SECONDS=10  BENCH_DRAIN_SECONDS=30
//   BENCH_LIST_ROWS=1000000  BENCH_LIST_ROWS_SMALL=1000  BENCH_LIST_REQUESTS=20
//   BENCH_CHECKOUTS=300  BENCH_LOG_LEVEL=info (the web process's, as in fly.toml)  BENCH_VERBOSE=1
//   BENCH_CPU_PROF_DIR=<dir> (every server started writes a V8 CPU profile there when it stops)
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { benchCatalogue } from './catalogue.ts';
import { benchCheckout } from './checkout.ts';
import { benchIntake } from './intake.ts';
import { benchLag } from './lag.ts';
import { benchLists } from './lists.ts';
import { benchSearch } from './search.ts';
import { serverUrl } from './support/database.ts';
import { verdict, type Check } from './support/report.ts';
import { LOG_LEVEL } from './support/servers.ts';

const PARTS: Record<string, () => Promise<Check[] | void>> = {
  intake: benchIntake,
  lag: benchLag,
  catalogue: benchCatalogue,
  search: benchSearch,
  lists: benchLists,
  checkout: benchCheckout,
  startup: benchStartup,
};

/**
 * `npm start`'s cold and warm start, in a process of its own: it starts and stops whole `npm start`
 * process groups and must not share this one's event loop or imports.
 */
async function benchStartup(): Promise<void> {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(new URL('./startup.ts', import.meta.url))], { stdio: 'inherit' });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`the start-up benchmark exited with ${code}`);
}

const requested = process.argv.slice(2);
const unknown = requested.filter((name) => !(name in PARTS));
if (unknown.length > 0) throw new Error(`unknown part(s) ${unknown.join(', ')}; choose from ${Object.keys(PARTS).join(', ')}`);
const parts = requested.length > 0 ? requested : Object.keys(PARTS);

const server = new URL(serverUrl());
console.log(
  `Benchmarks (${parts.join(', ')}) — PostgreSQL at ${server.host}; ${cpus().length} CPUs, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}; web LOG_LEVEL=${LOG_LEVEL}; ${new Date().toISOString()}`,
);
const checks: Check[] = [];
for (const part of parts) checks.push(...((await PARTS[part]!()) ?? []));

if (checks.length > 0) {
  console.log(
    `\nSummary (one run; load average now ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')})`,
  );
  const width = Math.max(...checks.map((c) => c.name.length));
  for (const check of checks) console.log(`  ${check.name.padEnd(width)}  ${check.value.padEnd(28)} goal ${check.goal.padEnd(16)} ${verdict(check.met)}`);
}
