// The inbox worker in a worker thread of `npm start` (role `all` with a DATABASE_URL): its own event
// loop, database pool and Stripe client, so processing events never delays a page or a webhook's
// 200 on the web's event loop (measured in the one-process lag bench: receipt → done p99 2.4 s
// with the worker on the web's loop). Started by ./thread-host.ts, which it answers through
// parentPort: 'ready' once running, each log line as { log }, 'stopped' after a 'stop'. New events
// reach it through PostgreSQL's NOTIFY (the web routes send one after each commit) and a 'wake'.
import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../config.ts';
import { connectPostgres } from '../db/connect.ts';
import { emailSenderFor } from '../email/setup.ts';
import { createLogging } from '../logging.ts';
import { createStripeClient, type StripeClientOptions } from '../stripe/client.ts';
import { expectedLivemode } from '../webhooks/inbox.ts';
import { startWorker } from './worker.ts';

export interface WorkerThreadData {
  config: Config;
  stripe: StripeClientOptions;
}

export type WorkerThreadMessage = { ready: string } | { log: string } | 'stopped';

const port = parentPort!;
const { config, stripe: stripeOptions } = workerData as WorkerThreadData;
// JSON lines to the main thread, which writes them with its own (readable on a terminal, in order with its lines).
const { logger } = await createLogging(config.logLevel, { write: (line) => port.postMessage({ log: line } satisfies WorkerThreadMessage) });
const database = connectPostgres(config.databaseUrl!);
const worker = startWorker(database.db, createStripeClient(stripeOptions), {
  livemode: expectedLivemode(config.stripe.mode),
  listen: database.listen,
  healthThresholds: config.webhookHealth,
  log: logger.child({ name: 'worker' }),
  email: emailSenderFor(config, logger.child({ name: 'email' })),
});

port.on('message', (message: 'wake' | 'stop') => {
  if (message === 'wake') worker.wake();
  if (message === 'stop') {
    void worker
      .stop()
      .then(() => database.close())
      .finally(() => {
        port.postMessage('stopped' satisfies WorkerThreadMessage);
        port.close();
      });
  }
});
port.postMessage({ ready: worker.workerId } satisfies WorkerThreadMessage);
