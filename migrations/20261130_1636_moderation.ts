// Moderation (issue 16, point 7): an admin suspends a seller (their listings leave the catalogue and
// nothing new can be bought; orders, refunds, disputes and payouts already under way are untouched)
// or takes one listing down, each with a reason the seller is shown. A row here is the state;
// lifting it deletes the row. The audit log keeps the history of both.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('seller_suspensions')
    .addColumn('seller_id', 'uuid', (c) => c.primaryKey().references('sellers.id').onDelete('cascade'))
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('suspended_by', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('suspended_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createTable('listing_takedowns')
    .addColumn('listing_id', 'uuid', (c) => c.primaryKey().references('listings.id').onDelete('cascade'))
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('taken_down_by', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('taken_down_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('listing_takedowns').execute();
  await db.schema.dropTable('seller_suspensions').execute();
}
