// Shipping and fulfilment (issue 16, point 3).
// - listings.kind: physical goods are shipped, digital ones are not. Existing listings were all
//   things sent by post, so they become physical; afterwards every insert must say which it is
//   (no default), so no code path can forget to choose.
// - orders.kind: copied from the listing when the order is placed (a listing may change later).
// - orders.ship_to: where to send a physical order, from Checkout's collected shipping details or
//   our own form (custom flow); null until known, and for digital orders.
// - orders.fulfilment_status: awaiting_shipment → shipped → delivered, for physical orders only
//   (null for digital ones); kept apart from the payment status. Each step is a row of
//   order_fulfilment_steps, one per step and order (the unique index makes a double submit one
//   step), with who did it, when, and the carrier and tracking number of the shipment.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('listings')
    .addColumn('kind', 'text', (c) =>
      c
        .notNull()
        .defaultTo('physical')
        .check(sql`kind in ('physical', 'digital')`),
    )
    .execute();
  await sql`alter table listings alter column kind drop default`.execute(db);

  await db.schema
    .alterTable('orders')
    .addColumn('kind', 'text', (c) =>
      c
        .notNull()
        .defaultTo('physical')
        .check(sql`kind in ('physical', 'digital')`),
    )
    .addColumn('ship_to', 'jsonb')
    .addColumn('fulfilment_status', 'text', (c) => c.check(sql`fulfilment_status in ('awaiting_shipment', 'shipped', 'delivered')`))
    .execute();
  await sql`update orders set fulfilment_status = 'awaiting_shipment'`.execute(db);
  await sql`alter table orders alter column kind drop default`.execute(db);
  await sql`alter table orders add constraint orders_digital_not_fulfilled check (kind = 'physical' or fulfilment_status is null)`.execute(db);

  await db.schema
    .createTable('order_fulfilment_steps')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('order_id', 'uuid', (c) => c.notNull().references('orders.id').onDelete('cascade'))
    .addColumn('step', 'text', (c) => c.notNull().check(sql`step in ('shipped', 'delivered')`))
    .addColumn('carrier', 'text')
    .addColumn('tracking_number', 'text')
    .addColumn('actor_id', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create unique index order_fulfilment_steps_once on order_fulfilment_steps (order_id, step)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('order_fulfilment_steps').execute();
  await sql`alter table orders drop constraint orders_digital_not_fulfilled`.execute(db);
  await db.schema.alterTable('orders').dropColumn('fulfilment_status').dropColumn('ship_to').dropColumn('kind').execute();
  await db.schema.alterTable('listings').dropColumn('kind').execute();
}
