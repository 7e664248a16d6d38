// `npm run bench:startup` (and the last part of `npm run bench`): how long `npm start` takes offline
// on this machine, from nothing (cold: an empty data directory, so the embedded database is created
// and migrated and the demo is seeded) and again (warm: a restart on the same data directory).
//
// Each run spawns `npm start` as a developer would, in its own process group, and stops the clock
// when the server has printed its ready line and the home page has answered 200. The server logs
// each start-up step with its duration (`step`, `ms`); those are printed too, so a slow start says
// where the time went. Goals (#15): cold ≤ 20 s, warm ≤ 10 s on a 2-core machine.
//
// Env: BENCH_WARM_RUNS (3). BENCH_STARTUP_COMPARE=tsx also times `tsx src/server.ts` (how `npm start`
// ran before it bundled), warm, for comparison.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

const ROOT = resolve(import.meta.dirname, '../..');
const WARM_RUNS = Number(process.env.BENCH_WARM_RUNS ?? 3);
const GOALS = { cold: 20_000, warm: 10_000 };
/** A start that takes this long is reported as failed rather than waited for. */
const GIVE_UP_MS = 180_000;

interface Run {
  /** Spawn until the ready line and a 200 from the home page. */
  totalMs: number;
  /** Each step the server reported: `load` (process start to main), database, migrations, demo, stripe, web, ready. */
  steps: Record<string, number>;
  /** CPU time the server process had used when ready (less sensitive to other load than wall time). */
  cpuMs: number | undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (address !== null && typeof address === 'object' ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

async function startOnce(command: string[], dataDir: string): Promise<Run> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), EMULATOR_PORT: String(await freePort()), DATA_DIR: dataDir, LOG_LEVEL: 'info' };
  for (const name of [
    'DATABASE_URL',
    'STRIPE_SECRET_KEY',
    'STRIPE_PUBLISHABLE_KEY',
    'STRIPE_WEBHOOK_SECRET',
    'STRIPE_CONNECT_WEBHOOK_SECRET',
    'PUBLIC_URL',
    'HOST',
    'NODE_ENV',
    'DEMO',
    'DEMO_SEED',
  ])
    delete env[name];

  const began = performance.now();
  const child = spawn(command[0]!, command.slice(1), { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const steps: Record<string, number> = {};
  let cpuMs: number | undefined;
  let output = '';
  let pending = '';
  const ready = new Promise<void>((resolveReady, reject) => {
    const giveUp = setTimeout(() => reject(new Error(`not ready after ${GIVE_UP_MS / 1000} s:\n${output}`)), GIVE_UP_MS);
    child.once('exit', (code) => {
      clearTimeout(giveUp);
      reject(new Error(`exited with ${code} before it was ready:\n${output}`));
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as { step?: string; ms?: number; cpuMs?: number };
        if (entry.step === undefined || entry.ms === undefined) continue;
        steps[entry.step] = entry.ms;
        if (entry.step === 'ready') {
          cpuMs = entry.cpuMs;
          clearTimeout(giveUp);
          resolveReady();
        }
      }
    });
  });
  try {
    await ready;
    const home = await fetch(`http://127.0.0.1:${port}/`);
    await home.text();
    if (home.status !== 200) throw new Error(`home page answered ${home.status}`);
    return { totalMs: performance.now() - began, steps, cpuMs };
  } finally {
    const exited = new Promise((resolveExit) => {
      if (child.exitCode !== null) resolveExit(null);
      else child.once('exit', resolveExit);
    });
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      /* already gone */
    }
    await exited;
    // npm exits before the server it started has finished shutting down (the emulator saves its
    // state on the way out): the next run, or removing the data directory, waits for the group.
    await processGroupGone(child.pid!);
  }
}

async function processGroupGone(pgid: number): Promise<void> {
  const deadline = performance.now() + 30_000;
  for (;;) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return; // ESRCH: no process of the group is left
    }
    if (performance.now() > deadline) throw new Error(`process group ${pgid} still running 30 s after SIGTERM`);
    await new Promise((resolveTick) => setTimeout(resolveTick, 50));
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1).padStart(5)} s`;

function describe(label: string, run: Run, goalMs?: number): string {
  const steps = Object.entries(run.steps)
    .filter(([name]) => name !== 'ready')
    .map(([name, ms]) => `${name} ${(ms / 1000).toFixed(1)}`)
    .join(', ');
  const goal =
    goalMs === undefined ? '' : `  ${(run.totalMs / goalMs).toFixed(2)} of the ${goalMs / 1000} s goal (${run.totalMs <= goalMs ? 'met' : 'NOT met'})`;
  const cpu = run.cpuMs === undefined ? '' : `; the server used ${(run.cpuMs / 1000).toFixed(1)} s of CPU`;
  return `  ${label.padEnd(6)} ${seconds(run.totalMs)}${goal}\n         steps in s: ${steps}${cpu}`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-startup-'));
  const npmStart = ['npm', 'start', '--silent'];
  console.log(
    `Start-up benchmark — \`npm start\` offline (embedded database, local emulator); load average ${loadavg()
      .map((n) => n.toFixed(1))
      .join(' ')}; ${new Date().toISOString()}`,
  );
  try {
    const cold = await startOnce(npmStart, dataDir);
    console.log(describe('cold', cold, GOALS.cold));
    const warm: Run[] = [];
    for (let i = 0; i < WARM_RUNS; i++) {
      const run = await startOnce(npmStart, dataDir);
      warm.push(run);
      console.log(describe('warm', run, GOALS.warm));
    }
    const middle = median(warm.map((run) => run.totalMs));
    console.log(
      `  warm median ${seconds(middle).trim()}: ${(middle / GOALS.warm).toFixed(2)} of the ${GOALS.warm / 1000} s goal (${middle <= GOALS.warm ? 'met' : 'NOT met'})`,
    );
    if (process.env.BENCH_STARTUP_COMPARE === 'tsx') {
      const viaTsx = await startOnce([join(ROOT, 'node_modules/.bin/tsx'), 'src/server.ts'], dataDir);
      console.log(describe('tsx', viaTsx));
      console.log(`  warm through tsx / warm through the bundle: ${(viaTsx.totalMs / middle).toFixed(2)}`);
    }
    console.log(
      `  load average afterwards ${loadavg()
        .map((n) => n.toFixed(1))
        .join(' ')} (other work on the machine stretches every number)`,
    );
  } finally {
    // The last server may still be closing its embedded database files for a moment after it exits.
    rmSync(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  }
}

await main();
