// The processes a benchmark measures: the production web server (`node dist/src/server.js web`,
// compiled as the Docker image runs it) and the benchmark's own small servers (dist/src/bench/
// servers/*), each in its own process so the load generator never shares their event loop.
// `npm run bench` builds dist/ first.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const children = new Set<ChildProcess>();

export interface RunningProcess {
  pid: number;
  /** http://127.0.0.1:<port> for servers; undefined for the worker. */
  url: string | undefined;
  stop(): Promise<void>;
}

/** A compiled entry under dist/ (e.g. 'src/server.js'), relative to the repository root. */
export function compiled(entry: string): string {
  const path = `${ROOT}dist/${entry}`;
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run build\` first (\`npm run bench\` does).`);
  return path;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `node <entry> ...args` with `env` (added to this process's environment) and waits until
 * `ready` says so. Output goes to the parent's stderr only if BENCH_VERBOSE is set.
 */
export async function startProcess(
  entry: string,
  args: string[],
  env: Record<string, string>,
  ready: (url: string | undefined) => Promise<boolean>,
  url?: string,
): Promise<RunningProcess> {
  // BENCH_CPU_PROF_DIR: every process started writes a V8 CPU profile there when it stops.
  const profile = process.env.BENCH_CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`] : [];
  const child = spawn(process.execPath, [...profile, compiled(entry), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', process.env.BENCH_VERBOSE ? 'inherit' : 'ignore', 'inherit'],
  });
  children.add(child);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      children.delete(child);
      resolve();
    }),
  );
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${entry} ${args.join(' ')} exited with ${child.exitCode} before it was ready`);
    if (await ready(url).catch(() => false)) break;
    if (Date.now() > deadline) throw new Error(`${entry} ${args.join(' ')} was not ready after 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    pid: child.pid!,
    url,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Ready once GET <url>/healthz answers 200. */
export async function answersHealthz(url: string | undefined): Promise<boolean> {
  const response = await fetch(`${url}/healthz`);
  return response.ok;
}

/** Resident set size of a process in MB (Linux /proc), or undefined where that is not available. */
export function rssMb(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux the benchmark runs on

/** CPU time (user + system) a process has used so far in ms (Linux /proc), or undefined where that is not available. */
export function cpuMs(pid: number): number | undefined {
  try {
    // The fields after the command name (which may hold spaces), from `state`: utime is the 12th, stime the 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/**
 * CPU time used so far by each PostgreSQL process on this machine (server, backends, checkpointer,
 * autovacuum), in ms by pid; undefined when none is visible (a database elsewhere, or no /proc).
 */
export function postgresCpuMs(): Map<number, number> | undefined {
  const byPid = new Map<number, number>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let command: string;
    try {
      command = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
    } catch {
      continue; // gone meanwhile
    }
    if (command !== 'postgres') continue;
    const ms = cpuMs(Number(entry));
    if (ms !== undefined) byPid.set(Number(entry), ms);
  }
  return byPid.size > 0 ? byPid : undefined;
}

/**
 * The CPU PostgreSQL used between two postgresCpuMs() readings, process by process: a backend that
 * started meanwhile counts whole, and one that ended meanwhile (an idle pool connection closing)
 * is left out rather than taking its whole life's CPU off the total.
 */
export function postgresCpuBetween(before: Map<number, number> | undefined, after: Map<number, number> | undefined): number | undefined {
  if (before === undefined || after === undefined) return undefined;
  let total = 0;
  for (const [pid, ms] of after) {
    const was = before.get(pid);
    total += was !== undefined && ms >= was ? ms - was : ms; // less than before: the pid was reused by a new backend
  }
  return total;
}

/** Samples the RSS of some processes every `everyMs` until stopped; returns max and median per name. */
export function sampleRss(processes: Record<string, number>, everyMs = 500): () => Record<string, { max: number; median: number } | undefined> {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(processes).map((name) => [name, []]));
  const take = () => {
    for (const [name, pid] of Object.entries(processes)) {
      const mb = rssMb(pid);
      if (mb !== undefined) samples[name]!.push(mb);
    }
  };
  take();
  const timer = setInterval(take, everyMs);
  return () => {
    clearInterval(timer);
    take();
    return Object.fromEntries(
      Object.entries(samples).map(([name, values]) => {
        if (values.length === 0) return [name, undefined];
        const sorted = [...values].sort((a, b) => a - b);
        return [name, { max: sorted.at(-1)!, median: sorted[Math.floor(sorted.length / 2)]! }];
      }),
    );
  };
}

// No orphaned servers: whatever is still running when the benchmark ends (or is interrupted) stops.
function killAll(): void {
  for (const child of children) child.kill('SIGKILL');
}
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}
