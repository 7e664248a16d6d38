// The email outbox (issue 16, point 4).
//
// A message is a row written in the same transaction as the change that causes it (an order paid,
// a refund succeeded, …), so a message exists exactly when its cause committed. The worker sends it
// afterwards (src/email/sender.ts):
//
//   pending ─claim─► sending ─send started─► sending* ─accepted─► sent
//      ▲                │                        │
//      └── failed ◄─────┴── refused (retry) ◄────┤
//          dead  ◄── refused for good / attempts spent
//          unknown ◄── a worker died after it began handing the message over (never retried)
//
// `dedupe_key` makes enqueueing idempotent: the same cause (`order:<id>:receipt`) can only ever
// produce one message, however often the code that notices it runs.
// `template` and `data` are what to say; subject and bodies are rendered when it is sent and kept
// here, so the offline mailbox and an operator can see exactly what went out.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('email_outbox')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('dedupe_key', 'text', (c) => c.notNull().unique())
    .addColumn('template', 'text', (c) => c.notNull())
    .addColumn('to_address', 'text', (c) => c.notNull())
    .addColumn('data', 'jsonb', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('pending')
        .check(sql`status in ('pending', 'sending', 'sent', 'failed', 'dead', 'unknown')`),
    )
    .addColumn('attempts', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`attempts >= 0`),
    )
    // When it is due; while `sending`, the lease expiry (so the due index also finds lapsed leases).
    .addColumn('next_attempt_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('locked_by', 'text')
    .addColumn('locked_until', 'timestamptz')
    // Set, and committed, just before the message is handed to the mail server: from then on a
    // crash leaves it `unknown` instead of sending it again.
    .addColumn('send_started_at', 'timestamptz')
    .addColumn('sent_at', 'timestamptz')
    .addColumn('transport', 'text', (c) => c.check(sql`transport in ('smtp', 'mailbox')`))
    .addColumn('message_id', 'text')
    .addColumn('subject', 'text')
    .addColumn('text_body', 'text')
    .addColumn('html_body', 'text')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create index email_outbox_due_idx on email_outbox (next_attempt_at)
            where status in ('pending', 'failed', 'sending')`.execute(db);
  await db.schema.createIndex('email_outbox_created_idx').on('email_outbox').columns(['created_at desc', 'id desc']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('email_outbox').execute();
}
