// The platform admin's money tables (issue 7).
//
// - admin_audit_log: every admin action — who, what, on which target, the state before and after —
//   written in the same transaction as the change it records, so the log can never claim a change
//   that rolled back, nor miss one that committed.
// - platform_settings: small named switches (dispute recovery policy), each a jsonb value.
// - seller_payout_settings: the schedule a paused seller had, so "resume" restores exactly it.
// - payout_requests: an admin's manual payout; its id is the form's nonce and the idempotency key's
//   root (`payout:<id>`), so a double submit is one payout at Stripe.
// - payouts: connected accounts' payouts as Stripe reports them (webhooks, and the creation
//   response), newest snapshot wins by `observed_at`.
// - refunds: our refund requests; the id is the form's nonce and the idempotency key's root
//   (`refund:<id>`). `amount` is reserved against the order from the moment the row exists, so two
//   concurrent refunds can never together exceed what is left.
// - disputes: Stripe's disputes of our orders, the admin's evidence draft, and the policy's
//   recovery from the seller (transfer reversal) and repayment when won (new transfer).
// - order_money: totals Stripe reports per order that only grow (fee refunded, transfer reversed),
//   kept with GREATEST so events in any order converge.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('admin_audit_log')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('actor_id', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('actor_email', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_type', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text', (c) => c.notNull())
    .addColumn('before', 'jsonb')
    .addColumn('after', 'jsonb')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('admin_audit_log_created_idx').on('admin_audit_log').columns(['created_at desc', 'id desc']).execute();
  await db.schema.createIndex('admin_audit_log_target_idx').on('admin_audit_log').columns(['target_type', 'target_id']).execute();

  await db.schema
    .createTable('platform_settings')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'jsonb', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('seller_payout_settings')
    .addColumn('seller_id', 'uuid', (c) => c.primaryKey().references('sellers.id').onDelete('cascade'))
    .addColumn('paused', 'boolean', (c) => c.notNull().defaultTo(false))
    // The schedule before the pause (interval, anchors, delay_days), restored on resume.
    .addColumn('previous_schedule', 'jsonb')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('payout_requests')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('seller_id', 'uuid', (c) => c.notNull().references('sellers.id').onDelete('restrict'))
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('amount', 'bigint', (c) => c.notNull().check(sql`amount > 0`))
    .addColumn('currency', 'text', (c) => c.notNull())
    // requested: sent (or about to be) to Stripe; created: Stripe made the payout; rejected: Stripe said no.
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('requested')
        .check(sql`status in ('requested', 'created', 'rejected')`),
    )
    .addColumn('stripe_payout_id', 'text', (c) => c.unique())
    .addColumn('error_message', 'text')
    .addColumn('requested_by', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('payouts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account', 'text', (c) => c.notNull())
    .addColumn('seller_id', 'uuid', (c) => c.references('sellers.id').onDelete('set null'))
    .addColumn('amount', 'bigint', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('automatic', 'boolean', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull().defaultTo('standard'))
    .addColumn('arrival_date', 'timestamptz')
    .addColumn('failure_code', 'text')
    .addColumn('failure_message', 'text')
    .addColumn('stripe_created', 'timestamptz', (c) => c.notNull())
    // When the stored snapshot was true (event.created, or the moment of an API read).
    .addColumn('observed_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('payouts_account_created_idx').on('payouts').columns(['account', 'stripe_created desc']).execute();

  await db.schema
    .createTable('refunds')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('order_id', 'uuid', (c) => c.notNull().references('orders.id').onDelete('restrict'))
    .addColumn('amount', 'bigint', (c) => c.notNull().check(sql`amount > 0`))
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.check(sql`reason is null or reason in ('duplicate', 'fraudulent', 'requested_by_customer')`))
    .addColumn('reverse_transfer', 'boolean', (c) => c.notNull())
    .addColumn('refund_application_fee', 'boolean', (c) => c.notNull())
    // requested: ours, not yet confirmed by Stripe; rejected: Stripe refused the request (nothing moved);
    // the rest are Stripe's refund statuses.
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('requested')
        .check(sql`status in ('requested', 'rejected', 'pending', 'requires_action', 'succeeded', 'failed', 'canceled')`),
    )
    .addColumn('stripe_refund_id', 'text', (c) => c.unique())
    .addColumn('transfer_reversal_amount', 'bigint')
    .addColumn('failure_reason', 'text')
    .addColumn('error_message', 'text')
    .addColumn('requested_by', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('observed_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('refunds_order_idx').on('refunds').columns(['order_id', 'created_at']).execute();

  await db.schema
    .createTable('disputes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('order_id', 'uuid', (c) => c.references('orders.id').onDelete('set null'))
    .addColumn('charge_id', 'text', (c) => c.notNull())
    .addColumn('amount', 'bigint', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('evidence_due_by', 'timestamptz')
    .addColumn('evidence_submitted', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('evidence_draft', 'jsonb')
    // Recovery from the seller (policy): the reversal of the order's transfer, and the repayment
    // transfer if the dispute is won. The keys are derived from the dispute id, so retries are one.
    .addColumn('recovery_reversal_id', 'text')
    .addColumn('recovered_amount', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('recovery_error', 'text')
    .addColumn('repayment_transfer_id', 'text')
    .addColumn('repaid_amount', 'bigint', (c) => c.notNull().defaultTo(0))
    // Stripe's dispute fee (from the dispute's balance transactions; returned if won).
    .addColumn('dispute_fee', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('funds_withdrawn', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('funds_reinstated', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('stripe_created', 'timestamptz', (c) => c.notNull())
    .addColumn('observed_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('disputes_due_idx').on('disputes').columns(['evidence_due_by']).execute();

  await db.schema
    .createTable('order_money')
    .addColumn('order_id', 'uuid', (c) => c.primaryKey().references('orders.id').onDelete('cascade'))
    .addColumn('fee_refunded', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('transfer_reversed', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('charge_refunded', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['order_money', 'disputes', 'refunds', 'payouts', 'payout_requests', 'seller_payout_settings', 'platform_settings', 'admin_audit_log']) {
    await db.schema.dropTable(table).execute();
  }
}
