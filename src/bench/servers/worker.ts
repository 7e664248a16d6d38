// The worker process of the production layout (fly.toml's `worker`: `server.js worker`), as the
// benchmark runs it: the same startWorker, minus the scheduled backfill (it lists events from
// Stripe, and a benchmark must not reach the network). Its Stripe client points at a closed local
// port, so any unexpected call fails instead of leaving the machine. /healthz tells the benchmark
// it has started.
import { createServer } from 'node:http';
import { connectPostgres } from '../../db/connect.ts';
import { createStripeClient } from '../../stripe/client.ts';
import { startWorker } from '../../worker/worker.ts';
import { onShutdown } from './shutdown.ts';

const database = connectPostgres(process.env.DATABASE_URL!);
const stripe = createStripeClient({ secretKey: 'sk_test_bench_no_calls_expected', emulator: { host: '127.0.0.1', port: 9 }, maxNetworkRetries: 0 });
const worker = startWorker(database.db, stripe, { livemode: false, backfillEveryMs: null, listen: database.listen });
const health = createServer((_request, response) => response.end('{"status":"ok"}'));
health.listen(Number(process.env.PORT), '127.0.0.1');
onShutdown(async () => {
  health.close();
  await worker.stop();
  await database.close();
});
