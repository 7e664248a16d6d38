// A deleted buyer's Stripe Customer is deleted at Stripe (review #1): with it go its saved cards
// and anything Stripe would still bill it for. The account's erasure (account_deletions) is the
// recorded intent; the call to Stripe follows its commit, and `stripe_deleted_at` records Stripe's
// answer. A Customer whose account is deleted and that has no `stripe_deleted_at` yet (Stripe was
// away at the time) is deleted by the worker's scheduled run (src/accounts/use-cases.ts).
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // The worker finds the Customers still to delete from account_deletions (few rows) by primary key.
  await db.schema.alterTable('buyer_customers').addColumn('stripe_deleted_at', 'timestamptz').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('buyer_customers').dropColumn('stripe_deleted_at').execute();
}
