// The one-process layout of `npm start` (role `all` with a DATABASE_URL): the web app on the main
// thread and the inbox worker in a worker thread (src/worker/thread-host.ts, as src/server.ts starts
// it), the webhook routes waking it. Both Stripe clients point at a closed local port, so nothing
// can leave the machine; the thread's scheduled backfill fails at once against it and retries only
// after the run.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../app.ts';
import { loadConfig } from '../../config.ts';
import { connectPostgres } from '../../db/connect.ts';
import { createStripeClient } from '../../stripe/client.ts';
import { startWorkerThread } from '../../worker/thread-host.ts';
import { onShutdown } from './shutdown.ts';

const secret = process.env.BENCH_WEBHOOK_SECRET!;
const config = loadConfig({
  DATABASE_URL: process.env.DATABASE_URL,
  DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-all-')),
  LOG_LEVEL: process.env.LOG_LEVEL,
  STRIPE_SECRET_KEY: 'sk_test_bench_no_calls_expected',
  STRIPE_PUBLISHABLE_KEY: 'pk_test_bench',
  STRIPE_WEBHOOK_SECRET: secret,
  STRIPE_CONNECT_WEBHOOK_SECRET: secret,
});
const database = connectPostgres(config.databaseUrl!);
const stripeOptions = { secretKey: 'sk_test_bench_no_calls_expected', emulator: { host: '127.0.0.1', port: 9 }, maxNetworkRetries: 0 };
const stripe = createStripeClient(stripeOptions);
const worker = await startWorkerThread(config, stripeOptions, (line) => process.stdout.write(line));
const app = await buildApp({ config, db: database.db, stripe, onEventStored: () => worker.wake() });
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
onShutdown(async () => {
  await app.close();
  await worker.stop();
  await database.close();
});
