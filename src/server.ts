// Starts the process. `npm start` runs everything in one process (web + background work); in
// production fly.toml runs `web` and `worker` as separate processes from the same image.
// With no STRIPE_SECRET_KEY the local Stripe emulator starts in-process (offline mode).
import type { FastifyInstance } from 'fastify';
import { existsSync } from 'node:fs';
import { buildApp } from './app.ts';
import { ensureDemoUsers, DEMO_PASSWORD } from './cli/demo-users.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { connectDatabase } from './db/connect.ts';
import { migrateToLatest } from './db/migrate.ts';
import { createStripeClient } from './stripe/client.ts';
import { expectedLivemode } from './webhooks/inbox.ts';
import { startWorker, type RunningWorker, type WorkerLogger } from './worker/worker.ts';
import { emailSenderFor } from './email/setup.ts';

type ProcessRole = 'all' | 'web' | 'worker';

async function main(): Promise<void> {
  const role = (process.argv[2] ?? 'all') as ProcessRole;
  if (!['all', 'web', 'worker'].includes(role)) throw new Error('usage: server.ts [all|web|worker]');

  // A local .env (see .env.example) is read if present; the real environment wins over it.
  if (existsSync('.env')) process.loadEnvFile('.env');
  const config = loadConfig();
  const database = await connectDatabase(config);
  await migrateToLatest(database.db);

  // Demo logins exist before the first page is served, so the printed ones always work.
  const demoUsers = config.stripe.mode === 'offline' ? await ensureDemoUsers(database.db) : [];
  const stripeSetup = await connectStripe(config);
  const stopHooks: (() => Promise<void>)[] = [];
  let app: FastifyInstance | undefined;

  // The inbox worker runs in `all` and `worker`; in `all` the webhook routes wake it directly.
  const worker: RunningWorker | undefined = role === 'web'
    ? undefined
    : startWorker(database.db, stripeSetup.stripe, { livemode: expectedLivemode(config.stripe.mode), log: consoleLogger(config.logLevel), email: emailSenderFor(config, consoleLogger(config.logLevel)) });

  if (role !== 'worker') {
    app = await buildApp({ config, db: database.db, stripe: stripeSetup.stripe, stripeOrigins: stripeSetup.origins, ...(worker ? { onEventStored: () => worker.wake() } : {}) });
    await app.listen({ port: config.port, host: config.host });
    stopHooks.push(() => app!.close());
  }
  if (worker !== undefined) stopHooks.push(() => worker.stop());
  stopHooks.push(stripeSetup.stop, () => database.close());

  if (config.stripe.mode === 'offline') {
    console.log(`\nMarketplace running at ${config.publicUrl} (offline mode: payments go to the local Stripe emulator at ${stripeSetup.origins?.[0] ?? 'unknown'})`);
    console.log(`Demo logins (password "${DEMO_PASSWORD}"):`);
    for (const user of demoUsers) console.log(`  ${user.role.padEnd(6)} ${user.email}`);
    console.log('');
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app?.log.info({ signal }, 'shutting down');
    for (const hook of stopHooks) await hook().catch(() => {});
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/** The worker's log lines, as JSON like Fastify's (no stack traces, as in app.ts). */
function consoleLogger(level: Config['logLevel']): WorkerLogger {
  const quiet = level === 'silent' || level === 'fatal';
  const line = (lvl: string, obj: object, msg: string) => {
    const { err, ...rest } = obj as { err?: unknown };
    const error = err instanceof Error ? { type: err.name, message: err.message } : err;
    console.log(JSON.stringify({ level: lvl, time: Date.now(), name: 'worker', msg, ...rest, ...(error !== undefined ? { err: error } : {}) }));
  };
  return {
    info: (obj, msg) => { if (!quiet && level !== 'error' && level !== 'warn') line('info', obj, msg); },
    warn: (obj, msg) => { if (!quiet && level !== 'error') line('warn', obj, msg); },
    error: (obj, msg) => { if (!quiet) line('error', obj, msg); },
  };
}

interface StripeSetup {
  stripe: ReturnType<typeof createStripeClient>;
  /** Origins of Stripe's pages and Stripe.js, for the content security policy. */
  origins: string[] | undefined;
  stop: () => Promise<void>;
}

async function connectStripe(config: Config): Promise<StripeSetup> {
  if (config.stripe.mode !== 'offline') {
    return {
      stripe: createStripeClient({ secretKey: config.stripe.secretKey! }),
      origins: undefined,
      stop: async () => {},
    };
  }
  // Imported only here: the app never depends on the emulator otherwise.
  const { startEmulator } = await import('./emulator/index.ts');
  const emulator = await startEmulator({
    port: config.emulatorPort,
    host: '127.0.0.1',
    stateFile: `${config.dataDir}/emulator-state.json`,
    webhooks: {
      platform: { url: `http://127.0.0.1:${config.port}/webhooks/stripe`, secret: config.stripe.platformWebhookSecret! },
      connect: { url: `http://127.0.0.1:${config.port}/webhooks/stripe/connect`, secret: config.stripe.connectWebhookSecret! },
    },
  });
  const url = new URL(emulator.url);
  return {
    stripe: createStripeClient({ secretKey: 'sk_test_offline_emulator', emulator: { host: url.hostname, port: Number(url.port) } }),
    origins: [emulator.url.replace('127.0.0.1', 'localhost'), emulator.url],
    stop: () => emulator.stop(),
  };
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) console.error(error.message);
  else console.error(`Failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
