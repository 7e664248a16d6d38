// stripe_events.customer_id: the Stripe Customer an event is about (the customer itself, or the
// `customer` of the object: session, intent, charge, invoice, subscription, payment method), filled
// at intake; and personal_data_erased_at: when a deleted buyer's details were removed from the
// stored event. Together they let a deleted buyer's name, email, phone and addresses be removed
// from the inbox too (eraseStoredEventsOfDeletedBuyers in src/accounts/use-cases.ts), by index
// rather than by reading every event.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('stripe_events').addColumn('customer_id', 'text').addColumn('personal_data_erased_at', 'timestamptz').execute();
  await sql`
    update stripe_events set customer_id = case
      when payload -> 'data' -> 'object' ->> 'object' = 'customer' then payload -> 'data' -> 'object' ->> 'id'
      when jsonb_typeof(payload -> 'data' -> 'object' -> 'customer') = 'string' then payload -> 'data' -> 'object' ->> 'customer'
      else payload -> 'data' -> 'object' -> 'customer' ->> 'id'
    end`.execute(db);
  await sql`create index stripe_events_customer on stripe_events (customer_id) where customer_id is not null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('stripe_events_customer').execute();
  await db.schema.alterTable('stripe_events').dropColumn('customer_id').dropColumn('personal_data_erased_at').execute();
}
