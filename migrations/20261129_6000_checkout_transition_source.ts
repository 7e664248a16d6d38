// An order canceled by the checkout itself (Stripe refused to start the payment, or it was started
// too late) is recorded with source 'checkout'; it used to be recorded as 'reconcile', which is the
// scheduled job's name (issue 10).
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('order_transitions').dropConstraint('order_transitions_source_check').execute();
  await db.schema
    .alterTable('order_transitions')
    .addCheckConstraint('order_transitions_source_check', sql`source in ('webhook', 'completion_page', 'checkout', 'reconcile', 'admin')`)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`update order_transitions set source = 'reconcile' where source = 'checkout'`.execute(db);
  await db.schema.alterTable('order_transitions').dropConstraint('order_transitions_source_check').execute();
  await db.schema
    .alterTable('order_transitions')
    .addCheckConstraint('order_transitions_source_check', sql`source in ('webhook', 'completion_page', 'reconcile', 'admin')`)
    .execute();
}
