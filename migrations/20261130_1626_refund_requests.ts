// Buyers ask for a refund of a paid order (issue 16, point 8); the seller or an admin approves it
// (a refund through src/refunds, whose id is the request's, so approving twice is one refund) or
// declines it with a reason the buyer reads. One open request per order, by a partial unique index.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('refund_requests')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('order_id', 'uuid', (c) => c.notNull().references('orders.id').onDelete('restrict'))
    .addColumn('buyer_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('restrict'))
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('requested')
        .check(sql`status in ('requested', 'approved', 'declined')`),
    )
    .addColumn('decided_by', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('decided_by_role', 'text', (c) => c.check(sql`decided_by_role is null or decided_by_role in ('seller', 'admin')`))
    .addColumn('decision_reason', 'text')
    .addColumn('decided_at', 'timestamptz')
    .addColumn('refund_id', 'uuid', (c) => c.references('refunds.id').onDelete('set null'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create unique index refund_requests_one_open_per_order on refund_requests (order_id) where status = 'requested'`.execute(db);
  await db.schema.createIndex('refund_requests_order_idx').on('refund_requests').columns(['order_id', 'created_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('refund_requests').execute();
}
