// Sellers' subscription plans, buyers' subscriptions to them, their invoices and refunds of invoice
// payments (issue 13). Everything lives on the platform account at Stripe (Product, recurring Price,
// Customer, Subscription); each invoice's payment is a destination charge to the seller carrying the
// platform's application fee, like an order's.
//
// - plans: our row is the intent. Its id gives the keys `plan:<id>:product` and
//   `plan:<id>:price:<price_version>`; `stripe_price_id` is null while the current version's Price is
//   not recorded yet (a price change bumps the version and clears it, so a crash leaves a blank that
//   the next attempt fills with the same key).
// - subscriptions: one row per subscribe attempt, made before Stripe is called; its id gives the key
//   `subscription:<id>:create` (or `:checkout`). `pending` = not at Stripe yet; every other status
//   is Stripe's. At most one live subscription per buyer and plan (a partial unique index), so ten
//   concurrent submits share one row and one key, hence one subscription at Stripe.
// - invoices: Stripe's invoices of our subscriptions, keyed by Stripe's id, with the money facts of
//   the payment (gross, Stripe fee, application fee, seller net, refunded).
// - seller_portal_configurations: one billing-portal configuration per seller (plan switching among
//   that seller's plans only; Stripe allows ten products per configuration).
// Snapshots carry `observed_at`: an older read of a Stripe object never overwrites a newer one.
import { sql, type Kysely } from 'kysely';

const SUB_STATUSES = sql`('pending', 'incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', 'unpaid', 'canceled', 'paused')`;

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('plans')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('seller_id', 'uuid', (c) => c.notNull().references('sellers.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('amount', 'bigint', (c) => c.notNull().check(sql`amount > 0`))
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('interval', 'text', (c) => c.notNull().check(sql`interval in ('month', 'year')`))
    .addColumn('trial_days', 'integer', (c) => c.check(sql`trial_days between 1 and 730`))
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('active')
        .check(sql`status in ('active', 'archived')`),
    )
    .addColumn('lookup_key', 'text', (c) => c.notNull().unique())
    .addColumn('stripe_product_id', 'text', (c) => c.unique())
    .addColumn('price_version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('stripe_price_id', 'text', (c) => c.unique())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('plans_seller_idx').on('plans').columns(['seller_id', 'created_at']).execute();

  await db.schema
    .createTable('subscriptions')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('buyer_id', 'uuid', (c) => c.notNull().references('users.id'))
    .addColumn('seller_id', 'uuid', (c) => c.notNull().references('sellers.id'))
    .addColumn('plan_id', 'uuid', (c) => c.notNull().references('plans.id'))
    .addColumn('flow', 'text', (c) => c.notNull().check(sql`flow in ('hosted', 'custom')`))
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('pending')
        .check(sql`status in ${SUB_STATUSES}`),
    )
    .addColumn('amount', 'bigint', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('interval', 'text', (c) => c.notNull().check(sql`interval in ('month', 'year')`))
    .addColumn('destination_account', 'text', (c) => c.notNull())
    .addColumn('fee_policy_id', 'uuid')
    .addColumn('fee_basis_points', 'integer', (c) => c.notNull())
    .addColumn('stripe_customer_id', 'text')
    .addColumn('stripe_price_id', 'text')
    .addColumn('stripe_subscription_id', 'text', (c) => c.unique())
    .addColumn('stripe_checkout_session_id', 'text', (c) => c.unique())
    .addColumn('stripe_checkout_url', 'text')
    .addColumn('latest_invoice_id', 'text')
    .addColumn('cancel_at_period_end', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('current_period_start', 'timestamptz')
    .addColumn('current_period_end', 'timestamptz')
    .addColumn('trial_end', 'timestamptz')
    .addColumn('canceled_at', 'timestamptz')
    .addColumn('ended_at', 'timestamptz')
    .addColumn('observed_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // The double-submit guard: one live subscription per buyer and plan. Ended ones
  // (incomplete_expired, canceled) leave room for a new one.
  await sql`create unique index subscriptions_one_live_idx on subscriptions (buyer_id, plan_id)
            where status not in ('incomplete_expired', 'canceled')`.execute(db);
  await db.schema.createIndex('subscriptions_seller_idx').on('subscriptions').columns(['seller_id', 'status']).execute();
  await db.schema.createIndex('subscriptions_created_idx').on('subscriptions').columns(['created_at desc', 'id desc']).execute();

  await db.schema
    .createTable('invoices')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('stripe_subscription_id', 'text', (c) => c.notNull())
    .addColumn('subscription_id', 'uuid', (c) => c.references('subscriptions.id'))
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('draft', 'open', 'paid', 'uncollectible', 'void')`))
    .addColumn('billing_reason', 'text')
    .addColumn('number', 'text')
    .addColumn('amount_due', 'bigint', (c) => c.notNull())
    .addColumn('amount_paid', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('hosted_invoice_url', 'text')
    .addColumn('invoice_pdf', 'text')
    .addColumn('attempt_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_payment_attempt', 'timestamptz')
    .addColumn('action_required', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('payment_error', 'text')
    .addColumn('period_start', 'timestamptz')
    .addColumn('period_end', 'timestamptz')
    .addColumn('stripe_payment_intent_id', 'text')
    .addColumn('stripe_charge_id', 'text')
    .addColumn('stripe_transfer_id', 'text')
    .addColumn('stripe_application_fee_id', 'text')
    .addColumn('stripe_fee_amount', 'bigint')
    .addColumn('application_fee_amount', 'bigint')
    .addColumn('seller_net_amount', 'bigint')
    .addColumn('amount_refunded', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('fee_refunded', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('transfer_reversed', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('stripe_created', 'timestamptz', (c) => c.notNull())
    .addColumn('paid_at', 'timestamptz')
    .addColumn('observed_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('invoices_subscription_idx').on('invoices').columns(['stripe_subscription_id', 'stripe_created']).execute();
  await db.schema.createIndex('invoices_created_idx').on('invoices').columns(['stripe_created desc', 'id desc']).execute();
  await db.schema.createIndex('invoices_charge_idx').on('invoices').column('stripe_charge_id').execute();

  await db.schema
    .createTable('invoice_refunds')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('invoice_id', 'text', (c) => c.notNull().references('invoices.id'))
    .addColumn('amount', 'bigint', (c) => c.notNull().check(sql`amount > 0`))
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('reverse_transfer', 'boolean', (c) => c.notNull())
    .addColumn('refund_application_fee', 'boolean', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('requested')
        .check(sql`status in ('requested', 'rejected', 'pending', 'requires_action', 'succeeded', 'failed', 'canceled')`),
    )
    .addColumn('stripe_refund_id', 'text', (c) => c.unique())
    .addColumn('error_message', 'text')
    .addColumn('requested_by', 'uuid')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('invoice_refunds_invoice_idx').on('invoice_refunds').column('invoice_id').execute();

  await db.schema
    .createTable('seller_portal_configurations')
    .addColumn('seller_id', 'uuid', (c) => c.primaryKey().references('sellers.id'))
    .addColumn('stripe_configuration_id', 'text')
    // What the configuration was last made from (the seller's plans and prices): unchanged → no call.
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('seller_portal_configurations').execute();
  await db.schema.dropTable('invoice_refunds').execute();
  await db.schema.dropTable('invoices').execute();
  await db.schema.dropTable('subscriptions').execute();
  await db.schema.dropTable('plans').execute();
}
