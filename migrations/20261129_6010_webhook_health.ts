// Webhook health (issue 17): requests refused for a bad signature store nothing in the inbox, so
// they are counted here, per endpoint and minute, for the "signing secret fails repeatedly" warning
// (failures in the last hour). One row per endpoint and minute however many requests fail, so a
// flood of forgeries cannot grow it; the worker deletes rows older than a day.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('webhook_signature_failures')
    .addColumn('source', 'text', (c) => c.notNull().check(sql`source in ('platform', 'connect')`))
    .addColumn('minute', 'timestamptz', (c) => c.notNull())
    .addColumn('failures', 'integer', (c) => c.notNull().check(sql`failures > 0`))
    .addColumn('last_reason', 'text', (c) => c.notNull())
    .addColumn('last_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('webhook_signature_failures_pkey', ['source', 'minute'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('webhook_signature_failures').execute();
}
