// A correction (a refund that fails after succeeding) can move an order back to `paid`, after which a
// new refund legitimately records paid → refunded a second time. The row lock taken by
// transitionOrder already makes each move happen once, so the (order, from, to) uniqueness goes.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('order_transitions').dropConstraint('order_transitions_once').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('order_transitions').addUniqueConstraint('order_transitions_once', ['order_id', 'from_status', 'to_status']).execute();
}
