// Sellers (one row per seller user, holding their one Connect account and its derived state) and
// listings (what they sell). Shaped for what comes next: orders reference a listing and its one
// seller; stock is a plain counter that checkout can decrement atomically; `billing_interval` lets
// a listing become a subscription price later without a new table.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('sellers')
    // The seller *is* the user: one seller profile per seller account, same id, so metadata.seller_id,
    // /sellers/:id and orders.seller_id all name the same thing.
    .addColumn('id', 'uuid', (c) => c.primaryKey().references('users.id').onDelete('restrict'))
    // Unique: two sellers can never share a Connect account, and a lookup from an event is exact.
    .addColumn('stripe_account_id', 'text', (c) => c.unique())
    // The creation request is stored before Stripe is called, so a retry after a crash sends the same
    // parameters with the same idempotency key and gets the same account back.
    .addColumn('account_country', 'text')
    .addColumn('account_email', 'text')
    .addColumn('account_requested_at', 'timestamptz')
    .addColumn('account_state', 'text', (c) =>
      c
        .notNull()
        .defaultTo('not_started')
        .check(sql`account_state in ('not_started', 'onboarding_incomplete', 'pending_verification', 'restricted', 'enabled', 'rejected')`),
    )
    .addColumn('charges_enabled', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('payouts_enabled', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('details_submitted', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('disabled_reason', 'text')
    .addColumn('requirements_deadline', 'timestamptz')
    // The raw requirement lists and capability statuses the state was derived from, so pages and
    // admins can explain the state without calling Stripe.
    .addColumn('requirements', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    // Freshness of the stored state: the time the Stripe object was true. Older snapshots never win.
    .addColumn('state_observed_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('listings')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('seller_id', 'uuid', (c) => c.notNull().references('sellers.id').onDelete('restrict'))
    .addColumn('title', 'text', (c) => c.notNull().check(sql`char_length(title) between 1 and 120`))
    .addColumn('description', 'text', (c) =>
      c
        .notNull()
        .defaultTo('')
        .check(sql`char_length(description) <= 5000`),
    )
    // Integer minor units; Stripe's ceiling is eight digits. The per-currency minimum lives in money.ts.
    .addColumn('price_amount', 'bigint', (c) => c.notNull().check(sql`price_amount > 0 and price_amount <= 99999999`))
    .addColumn('currency', 'text', (c) => c.notNull().check(sql`currency ~ '^[a-z]{3}$'`))
    // null = unlimited. Checkout reserves with `stock = stock - n where stock >= n`, so it never goes negative.
    .addColumn('stock', 'integer', (c) => c.check(sql`stock is null or stock >= 0`))
    // one_off today; month/year become subscription prices later (DESIGN "buyer (next)").
    .addColumn('billing_interval', 'text', (c) =>
      c
        .notNull()
        .defaultTo('one_off')
        .check(sql`billing_interval in ('one_off', 'month', 'year')`),
    )
    // Deactivated, never deleted: orders will keep pointing at the listing they bought.
    .addColumn('active', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('listings_seller_created_idx').on('listings').columns(['seller_id', 'created_at desc', 'id desc']).execute();
  // The catalogue's keyset order (newest first, id breaks ties) over active listings only.
  await sql`create index listings_catalogue_idx on listings (created_at desc, id desc) where active`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('listings').execute();
  await db.schema.dropTable('sellers').execute();
}
