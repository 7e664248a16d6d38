// A worker in its own process, for the crash tests: it claims due events, applies each one's effect
// inside the (batch's) transaction, and on the <hang at>-th apply (default 1) announces
// IN_HANDLER <event id> <worker id> and hangs until killed.
// Usage: node --import tsx test/helpers/worker-child.ts <database url> <lease ms> [<hang at>]
import { sql } from 'kysely';
import { connectPostgres } from '../../src/db/connect.ts';
import { createStripeClient } from '../../src/stripe/client.ts';
import { processDueEvents, resolveProcessorOptions } from '../../src/webhooks/processor.ts';

const [url, leaseMs, hangAt] = process.argv.slice(2);
const database = connectPostgres(url!, { max: 2 });
const stripe = createStripeClient({ secretKey: 'sk_test_unused', emulator: { host: '127.0.0.1', port: 9 }, maxNetworkRetries: 0 });
let applied = 0;
const options = resolveProcessorOptions({
  leaseMs: Number(leaseMs),
  handlers: {
    'customer.created': async (event, ctx) => {
      await sql`insert into test_effects (event_id, worker) values (${event.id}, 'child')`.execute(ctx.db);
      applied += 1;
      if (applied < Number(hangAt ?? 1)) return;
      process.stdout.write(`IN_HANDLER ${event.id} ${options.workerId}\n`);
      await new Promise(() => {}); // never finishes: the parent kills us here
    },
  },
});
await processDueEvents(database.db, stripe, options, 1);
