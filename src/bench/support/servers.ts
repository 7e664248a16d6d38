// Starting what a benchmark measures. The marketplace's web process is the production one: the
// compiled `dist/src/server.js web`, configured as fly.toml configures it (NODE_ENV=production,
// LOG_LEVEL from BENCH_LOG_LEVEL, default fly.toml's `info`, output discarded), in Stripe test mode
// with the benchmark's webhook secret. It makes no Stripe call for the pages and webhooks measured.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answersHealthz, freePort, startProcess, type RunningProcess } from './processes.ts';

export const WEBHOOK_SECRET = `whsec_bench${randomBytes(16).toString('hex')}`;
export const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'info';

export async function startProductionWeb(databaseUrl: string, env: Record<string, string> = {}): Promise<RunningProcess> {
  const port = await freePort();
  return startProcess(
    'src/server.js',
    ['web'],
    {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-web-')),
      LOG_LEVEL,
      STRIPE_SECRET_KEY: 'sk_test_bench_no_calls_expected',
      STRIPE_PUBLISHABLE_KEY: 'pk_test_bench',
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      STRIPE_CONNECT_WEBHOOK_SECRET: WEBHOOK_SECRET,
      ...env,
    },
    answersHealthz,
    `http://127.0.0.1:${port}`,
  );
}

/** One of the benchmark's own servers in dist/src/bench/servers/ (each answers /healthz). */
export async function startBenchServer(
  name: 'bare-intake' | 'sync-engine' | 'bare-page' | 'worker' | 'all-in-one',
  databaseUrl: string,
  env: Record<string, string> = {},
): Promise<RunningProcess> {
  const port = await freePort();
  return startProcess(
    `src/bench/servers/${name}.js`,
    [],
    {
      NODE_ENV: 'production',
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      BENCH_WEBHOOK_SECRET: WEBHOOK_SECRET,
      LOG_LEVEL,
      ...env,
    },
    answersHealthz,
    `http://127.0.0.1:${port}`,
  );
}
