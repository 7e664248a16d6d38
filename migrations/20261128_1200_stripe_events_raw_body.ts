// The webhook body exactly as Stripe sent it, beside the jsonb copy the code queries. A verified
// event must always be stored, but jsonb cannot hold some strings Stripe may legitimately send
// (U+0000, a lone surrogate): the jsonb copy has those replaced, the bytes keep the original.
// Null for events that came from a backfill listing rather than a delivery.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('stripe_events').addColumn('raw_body', 'bytea').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('stripe_events').dropColumn('raw_body').execute();
}
