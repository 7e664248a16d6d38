// Every SQL statement about disputes. Functions that lock rows take a `Transaction`.
import type { Insertable, Kysely, Transaction, Updateable } from 'kysely';
import type { Database, DisputeRow, DisputesTable } from '../db/schema.ts';
import { CLOSED } from './rules.ts';

export async function findDispute(db: Kysely<Database>, disputeId: string): Promise<DisputeRow | undefined> {
  return db.selectFrom('disputes').selectAll().where('id', '=', disputeId).executeTakeFirst();
}

export async function lockDispute(trx: Transaction<Database>, disputeId: string): Promise<DisputeRow | undefined> {
  return trx.selectFrom('disputes').selectAll().where('id', '=', disputeId).forUpdate().executeTakeFirst();
}

export async function insertDisputeIfNew(trx: Transaction<Database>, values: Insertable<DisputesTable>): Promise<void> {
  await trx
    .insertInto('disputes')
    .values(values)
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

export async function updateDispute(trx: Transaction<Database>, disputeId: string, values: Updateable<DisputesTable>): Promise<DisputeRow> {
  return trx
    .updateTable('disputes')
    .set({ ...values, updated_at: new Date() })
    .where('id', '=', disputeId)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function saveEvidenceDraft(trx: Transaction<Database>, disputeId: string, draft: unknown): Promise<void> {
  await trx
    .updateTable('disputes')
    .set({ evidence_draft: JSON.stringify(draft), updated_at: new Date() })
    .where('id', '=', disputeId)
    .execute();
}

export async function recordRecoveryError(db: Kysely<Database>, disputeId: string, message: string): Promise<void> {
  await db.updateTable('disputes').set({ recovery_error: message, updated_at: new Date() }).where('id', '=', disputeId).execute();
}

/** The seller's transfer reversed for this dispute, unless one is recorded already. True when this call recorded it. */
export async function recordRecovery(trx: Transaction<Database>, disputeId: string, reversal: { id: string; amount: number }): Promise<boolean> {
  const updated = await trx
    .updateTable('disputes')
    .set({ recovery_reversal_id: reversal.id, recovered_amount: reversal.amount, recovery_error: null, updated_at: new Date() })
    .where('id', '=', disputeId)
    .where('recovery_reversal_id', 'is', null)
    .returning('id')
    .executeTakeFirst();
  return updated !== undefined;
}

/** The repayment to the seller of a won dispute, unless one is recorded already. */
export async function recordRepayment(db: Kysely<Database>, disputeId: string, transfer: { id: string; amount: number }): Promise<void> {
  await db
    .updateTable('disputes')
    .set({ repayment_transfer_id: transfer.id, repaid_amount: transfer.amount, recovery_error: null, updated_at: new Date() })
    .where('id', '=', disputeId)
    .where('repayment_transfer_id', 'is', null)
    .execute();
}

/** Open disputes first, nearest deadline first (the admin's list). */
export async function listDisputes(db: Kysely<Database>) {
  return db
    .selectFrom('disputes')
    .leftJoin('orders', 'orders.id', 'disputes.order_id')
    .selectAll('disputes')
    .select(['orders.title'])
    .orderBy(({ eb }) => eb.case().when('disputes.status', 'in', CLOSED).then(1).else(0).end())
    .orderBy('disputes.evidence_due_by', 'asc')
    .limit(500)
    .execute();
}

export async function listOrderDisputes(db: Kysely<Database>, orderId: string): Promise<DisputeRow[]> {
  return db.selectFrom('disputes').selectAll().where('order_id', '=', orderId).orderBy('stripe_created').execute();
}

export async function openDisputeDeadlines(db: Kysely<Database>) {
  return db.selectFrom('disputes').select(['id', 'evidence_due_by']).where('status', 'not in', CLOSED).orderBy('evidence_due_by', 'asc').execute();
}
