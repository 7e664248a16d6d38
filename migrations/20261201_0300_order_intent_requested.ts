// orders.payment_intent_requested_at: when the custom flow first sent `paymentIntents.create` for a
// physical order (committed just before the call). Until then the buyer may correct the shipping
// address on our form; from then on it is fixed: the request carries it as the intent's `shipping`,
// and a retry under the same idempotency key must send the same parameters (Stripe refuses a reused
// key with others), even when the first answer was lost and no intent id is recorded yet.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('orders').addColumn('payment_intent_requested_at', 'timestamptz').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('orders').dropColumn('payment_intent_requested_at').execute();
}
