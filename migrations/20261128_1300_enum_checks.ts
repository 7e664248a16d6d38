// CHECK constraints for the enum-like columns that had none, so the database refuses a value the code
// does not know, and test/db/schema.test.ts can hold each union type in src/db/schema.ts to the list
// its constraint allows (the columns created with a CHECK already — roles, order and event statuses,
// account states — are held to theirs the same way).
//
// Constrained: the values our code branches on. Stripe's dispute and payout statuses are listed as
// Stripe documents them; a status Stripe adds later makes its event fail (retried, then dead for an
// admin's replay) until a migration adds it: loud, instead of an order in a state no code handles.
// Left open on purpose: values we only store and show (dispute reasons, decline and refund failure
// codes, payout methods), and the audit log's action and target names (a log write is never refused).
//
// The lists are written out here rather than imported: a migration describes the schema as it was.
import { sql, type Kysely } from 'kysely';

const ORDER_STATUSES = sql`('pending', 'paid', 'payment_failed', 'canceled', 'partially_refunded', 'refunded')`;
const DISPUTE_STATUSES = sql`('warning_needs_response', 'warning_under_review', 'warning_closed', 'needs_response', 'under_review',
  'appeal_needs_response', 'appeal_under_review', 'won', 'lost', 'prevented')`;

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('order_transitions')
    .addCheckConstraint('order_transitions_source_check', sql`source in ('webhook', 'completion_page', 'reconcile', 'admin')`)
    .execute();
  await db.schema
    .alterTable('order_transitions')
    .addCheckConstraint('order_transitions_from_status_check', sql`from_status in ${ORDER_STATUSES}`)
    .execute();
  await db.schema
    .alterTable('order_transitions')
    .addCheckConstraint('order_transitions_to_status_check', sql`to_status in ${ORDER_STATUSES}`)
    .execute();
  await db.schema
    .alterTable('orders')
    .addCheckConstraint('orders_dispute_status_check', sql`dispute_status is null or dispute_status in ${DISPUTE_STATUSES}`)
    .execute();
  await db.schema
    .alterTable('disputes')
    .addCheckConstraint('disputes_status_check', sql`status in ${DISPUTE_STATUSES}`)
    .execute();
  await db.schema
    .alterTable('payouts')
    .addCheckConstraint('payouts_status_check', sql`status in ('pending', 'in_transit', 'paid', 'failed', 'canceled')`)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('payouts').dropConstraint('payouts_status_check').execute();
  await db.schema.alterTable('disputes').dropConstraint('disputes_status_check').execute();
  await db.schema.alterTable('orders').dropConstraint('orders_dispute_status_check').execute();
  await db.schema.alterTable('order_transitions').dropConstraint('order_transitions_to_status_check').execute();
  await db.schema.alterTable('order_transitions').dropConstraint('order_transitions_from_status_check').execute();
  await db.schema.alterTable('order_transitions').dropConstraint('order_transitions_source_check').execute();
}
