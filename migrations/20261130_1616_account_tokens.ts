// Accounts (issue 16, point 5): password resets and email changes are single-use tokens sent by
// email. Like sessions, a token is `<id>.<secret>`: the row keeps the id and only a SHA-256 hash of
// the secret, so a leaked table resets no password and confirms no address. `used_at` makes a token
// single-use (set under the row's lock); `expires_at` bounds it (an hour for a reset).
//
// A deleted buyer keeps their users row (their orders point at it) with every personal field
// replaced; account_deletions says when, so nothing treats the placeholder as a person.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('password_reset_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('secret_hash', 'bytea', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('used_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('password_reset_tokens_user_idx').on('password_reset_tokens').columns(['user_id', 'created_at']).execute();

  await db.schema
    .createTable('email_change_requests')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('new_email', 'text', (c) => c.notNull())
    .addColumn('secret_hash', 'bytea', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('used_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('email_change_requests_user_idx').on('email_change_requests').columns(['user_id', 'created_at']).execute();

  await db.schema
    .createTable('account_deletions')
    .addColumn('user_id', 'uuid', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('deleted_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('account_deletions').execute();
  await db.schema.dropTable('email_change_requests').execute();
  await db.schema.dropTable('password_reset_tokens').execute();
}
