// "Buy now" in a process of its own, for the crash test: it buys with hosted Checkout against the
// emulator and is killed by the parent while Stripe holds the session create, so Stripe makes the
// session and our process never writes it down.
// Usage: node --import tsx test/structure/buy-child.ts <database url> <emulator port> <input json>
import { connectPostgres } from '../../src/db/connect.ts';
import { buyWithCheckout } from '../../src/orders/use-cases.ts';
import { createStripeClient } from '../../src/stripe/client.ts';

const [url, port, input] = process.argv.slice(2);
const database = connectPostgres(url!, { max: 2 });
const stripe = createStripeClient({
  secretKey: 'sk_test_emulator',
  emulator: { host: '127.0.0.1', port: Number(port) },
  maxNetworkRetries: 0,
  timeoutMs: 60_000,
});
await buyWithCheckout(database.db, stripe, JSON.parse(input!) as Parameters<typeof buyWithCheckout>[2]);
process.stdout.write('DONE\n'); // never reached when the parent kills us in time
await database.close();
