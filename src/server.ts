// Starts the process. `npm start` runs everything in one process (web + background work, the
// worker in a thread of its own when the database is a PostgreSQL server); in production fly.toml
// runs `web` and `worker` as separate processes from the same image.
// With no STRIPE_SECRET_KEY the local Stripe emulator starts in-process (offline mode).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { buildApp } from './app.ts';
import { describeDemoShop, seedDemoShop } from './cli/demo-seed.ts';
import { DEMO_PASSWORD, DEMO_SELLER_EMAIL, ensureDemoUsers } from './cli/demo-users.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { connectDatabase } from './db/connect.ts';
import { migrateToLatest } from './db/migrate.ts';
import { createLogging } from './logging.ts';
import { createStripeClient, type StripeClientOptions } from './stripe/client.ts';
import { expectedLivemode } from './webhooks/inbox.ts';
import type { Kysely } from 'kysely';
import type Stripe from 'stripe';
import type { Database } from './db/schema.ts';
import type { WorkerThreadState } from './worker/thread-host.ts';
import type { RunningWorker, WorkerOptions } from './worker/worker.ts';

type ProcessRole = 'all' | 'web' | 'worker';

async function main(): Promise<void> {
  const role = (process.argv[2] ?? 'all') as ProcessRole;
  if (!['all', 'web', 'worker'].includes(role)) throw new Error('usage: server.ts [all|web|worker]');

  // A local .env (see .env.example) is read if present; the real environment wins over it.
  if (existsSync('.env')) process.loadEnvFile('.env');
  const config = loadConfig();
  const logging = await createLogging(config.logLevel);
  const { logger } = logging;
  const step = progressReporter(logger);
  const stopHooks: (() => Promise<void>)[] = [];
  stopOnSignals(logger, stopHooks);
  // `load`: from process start to here (bundling in `npm start`, loading modules): see src/cli/start.mjs.
  logger.info(
    { role, mode: config.stripe.mode, step: 'load', ms: Math.round(performance.now()) },
    config.stripe.mode === 'offline'
      ? 'Starting in offline mode: embedded database and local Stripe emulator, no Stripe account needed'
      : `Starting (Stripe ${config.stripe.mode} mode)`,
  );
  if (config.demoExposure.length > 0) {
    logger.warn(
      { exposure: config.demoExposure },
      `DEMO=1: the offline demo runs although ${config.demoExposure.join(' and ')}; anyone who reaches it can sign in with the published demo logins`,
    );
  }

  const database = await step(
    'database',
    async () => {
      const creating = config.databaseUrl === undefined && !existsSync(join(pgliteDir(config), 'PG_VERSION'));
      if (creating) logger.info(`Creating the embedded database in ${pgliteDir(config)} (first start only: a few seconds more)`);
      const handle = await connectDatabase(config);
      return { handle, creating };
    },
    ({ creating }) =>
      config.databaseUrl === undefined
        ? `Database: embedded PostgreSQL (PGlite) in ${pgliteDir(config)}${creating ? ', created' : ''}`
        : `Database: PostgreSQL at ${databaseLocation(config.databaseUrl)}`,
  );
  const { db } = database.handle;
  stopHooks.unshift(() => database.handle.close());
  await step(
    'migrations',
    () => migrateToLatest(db),
    (applied) => (applied.length === 0 ? 'Migrations: up to date' : `Migrations: ${applied.length} applied`),
  );

  // Demo logins exist before the first page is served, so the printed ones always work.
  const demoUsers = config.stripe.mode === 'offline' ? await ensureDemoUsers(db) : [];
  const stripeSetup = await step(
    'stripe',
    () => connectStripe(config),
    (setup) => setup.describe,
  );
  stopHooks.unshift(stripeSetup.stop);

  // The inbox worker runs in `all` and `worker`; in `all` the webhook routes wake it directly.
  // `all` with a PostgreSQL server: the worker in a thread of its own, off the web's event loop
  // (src/worker/thread.ts). With the embedded PGlite it stays on this loop: PGlite is one
  // WebAssembly instance inside this thread, which no other thread (or process) can open, and the
  // worker needs the same database. Imported only where it runs: a `web` process does not carry
  // the handlers and the mail transport.
  const inThread = role === 'all' && config.databaseUrl !== undefined;
  const workerOptions: WorkerOptions = {
    livemode: expectedLivemode(config.stripe.mode),
    listen: database.handle.listen,
    healthThresholds: config.webhookHealth,
    log: logger.child({ name: 'worker' }),
  };
  // A worker thread that dies is replaced (thread-host.ts); /readyz says when it is being replaced.
  let workerState: (() => WorkerThreadState) | undefined;
  const worker: RunningWorker | undefined =
    role === 'web'
      ? undefined
      : inThread
        ? await step(
            'worker',
            async () => {
              const { startWorkerThread } = await import('./worker/thread-host.ts');
              const thread = await startWorkerThread(config, stripeSetup.clientOptions, (line) => logging.stream.write(line));
              workerState = () => thread.state();
              return thread;
            },
            () => 'Worker: in its own thread',
          ).catch(async (error: unknown) => {
            // E.g. started through tsx's fallback in src/cli/start.mjs, whose loader a thread does not inherit.
            logger.warn({ err: error }, "Worker: could not start its thread; running it on the web's event loop");
            return startWorkerHere(db, stripeSetup.stripe, workerOptions, config, logger);
          })
        : await startWorkerHere(db, stripeSetup.stripe, workerOptions, config, logger);
  if (worker !== undefined) stopHooks.unshift(() => worker.stop());

  if (role !== 'worker') {
    await step(
      'web',
      async () => {
        const app = await buildApp({
          config,
          db,
          stripe: stripeSetup.stripe,
          stripeOrigins: stripeSetup.origins,
          logStream: logging.stream,
          listen: database.handle.listen,
          ...(worker ? { onEventStored: () => worker.wake() } : {}),
          ...(workerState !== undefined ? { workerState } : {}),
        });
        stopHooks.unshift(() => app.close());
        await app.listen({ port: config.port, host: config.host });
      },
      () => 'Web server: plugins, routes and views loaded',
    );
  }

  if (config.stripe.mode === 'offline' && role !== 'worker') {
    // After listening: the emulator sends the onboarding's account events to our webhooks.
    if (!config.demoSeed) logger.info('Demo shop: not set up (DEMO_SEED=false)');
    else {
      await step(
        'demo',
        () => seedDemoShop(db, stripeSetup.stripe, { emulatorUrl: stripeSetup.emulatorUrl!, sellerEmail: DEMO_SELLER_EMAIL }),
        describeDemoShop,
      ).catch((error: unknown) => {
        // The marketplace works without it; say why the catalogue may be empty.
        logger.warn({ err: error }, 'Demo shop: could not be set up; the marketplace runs without it');
      });
    }
  }

  // Printed last, below the log lines of start-up (the emulator's webhooks to us), so the URL and
  // the logins are what the terminal shows when it goes quiet.
  await stripeSetup.settle();
  const cpu = process.cpuUsage();
  logger.info(
    { step: 'ready', ms: Math.round(performance.now()), cpuMs: Math.round((cpu.user + cpu.system) / 1000) },
    role === 'worker' ? `Worker ready (started in ${seconds(performance.now())})` : `Ready at ${config.publicUrl} (started in ${seconds(performance.now())})`,
  );
  if (config.stripe.mode === 'offline') {
    process.stdout.write(
      [
        '',
        `Marketplace running at ${config.publicUrl} (offline mode: payments go to the local Stripe emulator at ${stripeSetup.origins?.[0] ?? 'unknown'})`,
        `Demo logins (password "${DEMO_PASSWORD}"):`,
        ...demoUsers.map((user) => `  ${user.role.padEnd(6)} ${user.email}`),
        '',
        '',
      ].join('\n'),
    );
  }
}

/** The inbox worker (and the mail sender) on this event loop, loaded only in the roles that run it. */
async function startWorkerHere(db: Kysely<Database>, stripe: Stripe, options: WorkerOptions, config: Config, logger: Logger): Promise<RunningWorker> {
  const [{ startWorker }, { emailSenderFor }] = await Promise.all([import('./worker/worker.ts'), import('./email/setup.ts')]);
  return startWorker(db, stripe, { ...options, email: emailSenderFor(config, logger.child({ name: 'email' })) });
}

/** Where PGlite keeps its files (as connectDatabase decides). */
function pgliteDir(config: Config): string {
  return join(config.dataDir, 'pglite');
}

/** Host and database name only: a DATABASE_URL carries a password. */
function databaseLocation(url: string): string {
  const parsed = new URL(url);
  return `${parsed.host}${parsed.pathname}`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/**
 * Runs one step of start-up and logs what it did and how long it took (`step` and `ms` in JSON), so
 * a slow start says where the time went (src/bench/startup.ts reads these).
 */
function progressReporter(logger: Logger) {
  return async function step<T>(name: string, run: () => Promise<T>, describe: (result: T) => string): Promise<T> {
    const began = performance.now();
    const result = await run();
    const ms = performance.now() - began;
    logger.info({ step: name, ms: Math.round(ms) }, `${describe(result)} (${seconds(ms)})`);
    return result;
  };
}

/** Ctrl-C or a SIGTERM at any point closes what has been opened, newest first. */
function stopOnSignals(logger: Logger, stopHooks: (() => Promise<void>)[]): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    for (const hook of stopHooks) await hook().catch(() => {});
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

interface StripeSetup {
  stripe: ReturnType<typeof createStripeClient>;
  /** How `stripe` was made: a worker thread makes its own client from them. */
  clientOptions: StripeClientOptions;
  /** Origins of Stripe's pages and Stripe.js, for the content security policy. */
  origins: string[] | undefined;
  /** Offline: where the emulator (and its control API) listens. */
  emulatorUrl: string | undefined;
  /** What start-up reports about Stripe. */
  describe: string;
  /** Resolves once the webhooks Stripe has to send us so far were delivered (the emulator only). */
  settle: () => Promise<void>;
  stop: () => Promise<void>;
}

async function connectStripe(config: Config): Promise<StripeSetup> {
  if (config.stripe.mode !== 'offline') {
    const clientOptions = { secretKey: config.stripe.secretKey! };
    return {
      stripe: createStripeClient(clientOptions),
      clientOptions,
      origins: undefined,
      emulatorUrl: undefined,
      describe: `Stripe: ${config.stripe.mode} mode`,
      settle: async () => {},
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
  const clientOptions = { secretKey: 'sk_test_offline_emulator', emulator: { host: url.hostname, port: Number(url.port) } };
  return {
    stripe: createStripeClient(clientOptions),
    clientOptions,
    // The address its pages are served from, printed as is: links in those pages and the address
    // we print must agree.
    origins: [emulator.url],
    emulatorUrl: emulator.url,
    describe: `Stripe emulator at ${emulator.url}`,
    settle: () => emulator.core.flushDeliveries(),
    stop: () => emulator.stop(),
  };
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) console.error(error.message);
  else console.error(`Failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
