// Login throttling keeps one row per attempt with both the email and the client address, replacing
// login_attempts' one row per key. The throttle needs the two together: failures for this email
// from this address, for this email from anywhere, from this address for any email. A row is
// written before the password is checked (the attempt is counted while the count is locked) and
// deleted again if the password was right.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('login_failures')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('attempted_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('login_failures_email_time_idx').on('login_failures').columns(['email', 'attempted_at']).execute();
  await db.schema.createIndex('login_failures_address_time_idx').on('login_failures').columns(['address', 'attempted_at']).execute();
  // Pruning deletes by age alone.
  await db.schema.createIndex('login_failures_time_idx').on('login_failures').column('attempted_at').execute();

  // Counts only matter within a window of minutes: nothing in the old table is worth carrying over.
  await db.schema.dropTable('login_attempts').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('login_attempts')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('throttle_key', 'text', (c) => c.notNull())
    .addColumn('attempted_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('login_attempts_key_time_idx').on('login_attempts').columns(['throttle_key', 'attempted_at']).execute();
  await db.schema.dropTable('login_failures').execute();
}
