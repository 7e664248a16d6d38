// `npm run stripe:backfill [-- --since 2026-11-20T00:00:00Z]`: lists events from Stripe (the
// platform, and each connected account of our sellers) into the webhook inbox, for after an outage.
// The worker processes what this stores; pass --process to process it here as well.
// Offline, this talks to the emulator of a running `npm start` (EMULATOR_PORT) and needs that
// process's database: set DATABASE_URL (the embedded database can't be shared between processes).
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.ts';
import { connectDatabase } from '../db/connect.ts';
import { backfillEvents, describeBackfill, STRIPE_EVENT_RETENTION_DAYS } from '../webhooks/backfill.ts';
import { expectedLivemode } from '../webhooks/inbox.ts';
import { drainInbox } from '../webhooks/processor.ts';
import { runCli } from './run.ts';
import { stripeForCli } from './stripe.ts';

await runCli(async () => {
  const { values } = parseArgs({ options: { since: { type: 'string' }, process: { type: 'boolean', default: false } } });
  let since: Date | undefined;
  if (values.since !== undefined) {
    since = new Date(values.since);
    if (Number.isNaN(since.getTime())) throw new Error(`--since must be an ISO date or time, such as 2026-11-20T00:00:00Z (got "${values.since}")`);
  }
  const config = loadConfig();
  const stripe = stripeForCli(config);
  const database = await connectDatabase(config);
  try {
    const report = await backfillEvents(database.db, stripe, { since, livemode: expectedLivemode(config.stripe.mode) });
    for (const line of describeBackfill(report)) console.log(line);
    if (report.clamped !== undefined) console.log(`(Asked for more than ${STRIPE_EVENT_RETENTION_DAYS} days: Stripe does not keep older events.)`);
    if (values.process) {
      const outcomes = await drainInbox(database.db, stripe);
      console.log(
        `processed: ${Object.entries(outcomes)
          .map(([k, v]) => `${v} ${k}`)
          .join(', ')}`,
      );
    }
    if (report.errors.length > 0) process.exitCode = 1;
  } finally {
    await database.close();
  }
});
