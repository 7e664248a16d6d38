// `npm run portal:configure`: makes or updates every seller's customer-portal configuration (plan
// switching among that seller's plans only; card update, invoice history, cancel at period end).
// Safe to run any number of times: an unchanged seller costs no Stripe call. "Manage billing" does
// the same for one seller on demand, so this is for after a deploy or a bulk plan change.
// Offline, it talks to the emulator of a running `npm start` and needs that process's database.
import { loadConfig } from '../config.ts';
import { connectDatabase } from '../db/connect.ts';
import { ensureAllPortalConfigurations } from '../subscriptions/portal.ts';
import { runCli } from './run.ts';
import { stripeForCli } from './stripe.ts';

await runCli(async () => {
  const config = loadConfig();
  const stripe = stripeForCli(config);
  const database = await connectDatabase(config);
  try {
    console.log(`portal configurations checked for ${await ensureAllPortalConfigurations(database.db, stripe)} seller(s)`);
  } finally {
    await database.close();
  }
});
