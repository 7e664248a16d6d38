// Saved cards and one-click purchase (issue 12, points 2–5).
//
// - buyer_payment_methods: the local view of each buyer's cards at Stripe — brand, last 4 and
//   expiry only (nothing else of a card is ever stored). A removed card keeps its row as
//   `detached`, and every write carries the time its Stripe read began (`observed_at`), so a late
//   or replayed event can never bring back a card that is gone, or hide one that is there.
// - buyer_customers.default_payment_method_id: the Customer's
//   invoice_settings.default_payment_method, with the same freshness guard.
// - card_setups: one "add a card" attempt (the form's nonce is its id and gives the idempotency
//   key of its SetupIntent or setup-mode Checkout Session), and its outcome.
// - orders: the one-click flow (`saved_card`, paid with a saved card named on the order, so every
//   retry sends Stripe the same request) and the custom flow's "save this card" choice.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('buyer_customers').addColumn('default_payment_method_id', 'text').addColumn('default_observed_at', 'timestamptz').execute();

  await db.schema
    .createTable('buyer_payment_methods')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('buyer_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('stripe_customer_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('attached', 'detached')`))
    .addColumn('brand', 'text', (c) => c.notNull())
    .addColumn('last4', 'text', (c) => c.notNull().check(sql`last4 ~ '^[0-9]{4}$'`))
    .addColumn('exp_month', 'integer', (c) => c.notNull().check(sql`exp_month between 1 and 12`))
    .addColumn('exp_year', 'integer', (c) => c.notNull().check(sql`exp_year between 2000 and 2200`))
    .addColumn('observed_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create index buyer_payment_methods_buyer_idx on buyer_payment_methods (buyer_id, created_at) where status = 'attached'`.execute(db);

  await db.schema
    .createTable('card_setups')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('buyer_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('flow', 'text', (c) => c.notNull().check(sql`flow in ('element', 'checkout')`))
    .addColumn('stripe_setup_intent_id', 'text', (c) => c.unique())
    .addColumn('stripe_checkout_session_id', 'text', (c) => c.unique())
    .addColumn('checkout_url', 'text')
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('pending')
        .check(sql`status in ('pending', 'succeeded', 'failed')`),
    )
    .addColumn('failure_message', 'text')
    .addColumn('payment_method_id', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await sql`alter table orders drop constraint orders_flow_check`.execute(db);
  await sql`alter table orders add constraint orders_flow_check check (flow in ('hosted', 'custom', 'saved_card'))`.execute(db);
  await db.schema
    .alterTable('orders')
    .addColumn('payment_method_id', 'text')
    .addColumn('save_payment_method', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
  await sql`alter table orders add constraint orders_saved_card_check check ((flow = 'saved_card') = (payment_method_id is not null))`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table orders drop constraint orders_saved_card_check`.execute(db);
  await db.schema.alterTable('orders').dropColumn('payment_method_id').dropColumn('save_payment_method').execute();
  await sql`delete from orders where flow = 'saved_card'`.execute(db);
  await sql`alter table orders drop constraint orders_flow_check`.execute(db);
  await sql`alter table orders add constraint orders_flow_check check (flow in ('hosted', 'custom'))`.execute(db);
  await db.schema.dropTable('card_setups').execute();
  await db.schema.dropTable('buyer_payment_methods').execute();
  await db.schema.alterTable('buyer_customers').dropColumn('default_payment_method_id').dropColumn('default_observed_at').execute();
}
