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
import { createLogging } from './logging.ts';
import { createStripeClient } from './stripe/client.ts';
import { expectedLivemode } from './webhooks/inbox.ts';
import { startWorker, type RunningWorker } from './worker/worker.ts';

type ProcessRole = 'all' | 'web' | 'worker';

async function main(): Promise<void> {
  const role = (process.argv[2] ?? 'all') as ProcessRole;
  if (!['all', 'web', 'worker'].includes(role)) throw new Error('usage: server.ts [all|web|worker]');

  // A local .env (see .env.example) is read if present; the real environment wins over it.
  if (existsSync('.env')) process.loadEnvFile('.env');
  const config = loadConfig();
  const logging = await createLogging(config.logLevel);
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
    : startWorker(database.db, stripeSetup.stripe, { livemode: expectedLivemode(config.stripe.mode), log: logging.logger.child({ name: 'worker' }) });

  if (role !== 'worker') {
    app = await buildApp({ config, db: database.db, stripe: stripeSetup.stripe, stripeOrigins: stripeSetup.origins, logStream: logging.stream, ...(worker ? { onEventStored: () => worker.wake() } : {}) });
    await app.listen({ port: config.port, host: config.host });
    stopHooks.push(() => app!.close());
  }
  if (worker !== undefined) stopHooks.push(() => worker.stop());
  stopHooks.push(stripeSetup.stop, () => database.close());

  if (config.stripe.mode === 'offline') {
    // Printed last, below the log lines of start-up (the emulator's webhooks to us), so the logins
    // are what the terminal shows when it goes quiet.
    await stripeSetup.settle();
    process.stdout.write([
      '',
      `Marketplace running at ${config.publicUrl} (offline mode: payments go to the local Stripe emulator at ${stripeSetup.origins?.[0] ?? 'unknown'})`,
      `Demo logins (password "${DEMO_PASSWORD}"):`,
      ...demoUsers.map((user) => `  ${user.role.padEnd(6)} ${user.email}`),
      '',
      '',
    ].join('\n'));
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logging.logger.info({ signal }, 'shutting down');
    for (const hook of stopHooks) await hook().catch(() => {});
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

interface StripeSetup {
  stripe: ReturnType<typeof createStripeClient>;
  /** Origins of Stripe's pages and Stripe.js, for the content security policy. */
  origins: string[] | undefined;
  /** Resolves once the webhooks Stripe has to send us so far were delivered (the emulator only). */
  settle: () => Promise<void>;
  stop: () => Promise<void>;
}

async function connectStripe(config: Config): Promise<StripeSetup> {
  if (config.stripe.mode !== 'offline') {
    return {
      stripe: createStripeClient({ secretKey: config.stripe.secretKey! }),
      origins: undefined,
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
  return {
    stripe: createStripeClient({ secretKey: 'sk_test_offline_emulator', emulator: { host: url.hostname, port: Number(url.port) } }),
    origins: [emulator.url.replace('127.0.0.1', 'localhost'), emulator.url],
    settle: () => emulator.core.flushDeliveries(),
    stop: () => emulator.stop(),
  };
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) console.error(error.message);
  else console.error(`Failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
