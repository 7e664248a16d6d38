// Totals the admin home shows (money volume per currency, sellers per account state) are sums over
// whole tables: computed by the worker every minute and stored here, so a page view reads one row
// instead of aggregating a million orders (issue 17). `name` is the summary, `value` its JSON.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('admin_summaries')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('value', 'jsonb', (c) => c.notNull())
    .addColumn('computed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('admin_summaries').execute();
}
