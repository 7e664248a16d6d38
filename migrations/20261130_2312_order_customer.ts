// orders.stripe_customer_id: the buyer's platform Customer a hosted Checkout order pays as, decided
// when the order is placed (the buyer already has one, or ticked "Save my card"). The session's
// request is built from the order row alone, so every retry under the order's idempotency key sends
// Stripe the same parameters even if the buyer gets a Customer in between.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('orders').addColumn('stripe_customer_id', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('orders').dropColumn('stripe_customer_id').execute();
}
