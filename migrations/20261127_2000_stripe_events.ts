// The webhook inbox: every verified Stripe event is stored here first (keyed by Stripe's event id, so
// a duplicate delivery is a no-op) and processed afterwards by workers that claim rows with
// FOR UPDATE SKIP LOCKED. `next_attempt_at` doubles as the lease expiry while an event is
// `processing`, so one partial index answers "what is due?", including events a crashed worker held.
// Backfill cursors remember how far each scope (platform, or one connected account) was listed.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('stripe_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('type', 'text', (c) => c.notNull())
    // The connected account the event belongs to; null for the platform's own events.
    .addColumn('account', 'text')
    // When Stripe created the event: handlers compare it with stored freshness.
    .addColumn('created', 'timestamptz', (c) => c.notNull())
    .addColumn('livemode', 'boolean', (c) => c.notNull())
    .addColumn('api_version', 'text')
    // How it reached us: the platform endpoint, the Connect endpoint, or a backfill listing.
    .addColumn('source', 'text', (c) => c.notNull().check(sql`source in ('platform', 'connect', 'backfill')`))
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('pending')
        .check(sql`status in ('pending', 'processing', 'done', 'failed', 'dead', 'ignored')`),
    )
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('locked_until', 'timestamptz')
    .addColumn('locked_by', 'text')
    .addColumn('last_error', 'text')
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('processed_at', 'timestamptz')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  // What the workers claim: small, because done/ignored/dead rows (nearly all of them) are not in it.
  await sql`create index stripe_events_due on stripe_events (next_attempt_at) where status in ('pending', 'failed', 'processing')`.execute(db);
  // The admin log: newest first, filtered by status, type or account.
  await sql`create index stripe_events_received on stripe_events (received_at desc, id desc)`.execute(db);
  await sql`create index stripe_events_status on stripe_events (status, received_at desc)`.execute(db);
  await sql`create index stripe_events_type on stripe_events (type, received_at desc)`.execute(db);
  await sql`create index stripe_events_account on stripe_events (account, created desc)`.execute(db);

  await db.schema
    .createTable('stripe_backfill_cursors')
    // 'platform' or a connected account id (acct_…).
    .addColumn('scope', 'text', (c) => c.primaryKey())
    // The newest event `created` seen by a completed listing of this scope.
    .addColumn('listed_through', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('stripe_backfill_cursors').execute();
  await db.schema.dropTable('stripe_events').execute();
}
