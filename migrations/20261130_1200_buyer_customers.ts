// One platform Stripe Customer per buyer (issue 12, point 1).
//
// The row is the recorded intent: the first action that needs a Customer inserts it (with the
// email and name it will send) and commits before `customers.create` is called with the key
// `customer:<buyer id>`; the Customer's id is filled in afterwards. The primary key makes the
// intent one per buyer however many first actions race, and the unique `stripe_customer_id` keeps
// one Customer from ever being recorded for two buyers.
//
// `details_version` counts changes of the buyer's email or name that Stripe must hear about;
// `details_synced_version` is the last one Stripe confirmed (see src/customers/use-cases.ts).
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('buyer_customers')
    .addColumn('buyer_id', 'uuid', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('stripe_customer_id', 'text', (c) => c.unique())
    // What the create request sends, fixed by the first call so every retry sends the same request.
    .addColumn('requested_email', 'text', (c) => c.notNull())
    .addColumn('requested_name', 'text', (c) => c.notNull())
    .addColumn('requested_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('details_version', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`details_version >= 0`),
    )
    .addColumn('details_synced_version', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`details_synced_version >= 0`),
    )
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('buyer_customers').execute();
}
