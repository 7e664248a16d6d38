// All SQL of admins' refunds of subscription invoices (admin-use-cases.ts): the refund rows, the
// invoice they are taken from, and what is already held against it.
import type { Insertable, Kysely, Transaction } from 'kysely';
import type { Database, InvoiceRefundRow, InvoiceRefundsTable, InvoiceRow, RefundStatus } from '../db/schema.ts';
import { LIVE } from '../refunds/rules.ts';

export async function lockInvoice(trx: Transaction<Database>, invoiceId: string): Promise<InvoiceRow | undefined> {
  return trx.selectFrom('invoices').selectAll().where('id', '=', invoiceId).forUpdate().executeTakeFirst();
}

export async function lockInvoiceRefund(trx: Transaction<Database>, refundId: string): Promise<InvoiceRefundRow | undefined> {
  return trx.selectFrom('invoice_refunds').selectAll().where('id', '=', refundId).forUpdate().executeTakeFirst();
}

/** The refunds of these invoices, oldest first. */
export async function listInvoiceRefunds(db: Kysely<Database>, invoiceIds: readonly string[]): Promise<InvoiceRefundRow[]> {
  if (invoiceIds.length === 0) return [];
  return db
    .selectFrom('invoice_refunds')
    .selectAll()
    .where('invoice_id', 'in', [...invoiceIds])
    .orderBy('created_at')
    .execute();
}

export async function findInvoiceRefund(db: Kysely<Database>, refundId: string): Promise<InvoiceRefundRow | undefined> {
  return db.selectFrom('invoice_refunds').selectAll().where('id', '=', refundId).executeTakeFirst();
}

/** What refunds not refused or failed already take from the invoice (call under the invoice's lock). */
export async function heldByInvoiceRefunds(trx: Transaction<Database>, invoiceId: string): Promise<number> {
  const held = await trx
    .selectFrom('invoice_refunds')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('amount'), eb.lit(0)).as('total'))
    .where('invoice_id', '=', invoiceId)
    .where('status', 'in', LIVE)
    .executeTakeFirstOrThrow();
  return Number(held.total);
}

export async function insertInvoiceRefund(trx: Transaction<Database>, values: Insertable<InvoiceRefundsTable>): Promise<void> {
  await trx.insertInto('invoice_refunds').values(values).execute();
}

/** Stripe refused a `requested` refund: it takes nothing from the invoice. True if this call marked it. */
export async function markInvoiceRefundRejected(trx: Transaction<Database>, refundId: string, message: string): Promise<boolean> {
  const marked = await trx
    .updateTable('invoice_refunds')
    .set({ status: 'rejected', error_message: message, updated_at: new Date() })
    .where('id', '=', refundId)
    .where('status', '=', 'requested')
    .returning('id')
    .executeTakeFirst();
  return marked !== undefined;
}

/** Stripe's status and id of one of our invoice refunds; a final status is never overwritten by a pending one. */
export async function recordInvoiceRefundStatus(
  db: Kysely<Database>,
  refundId: string,
  snapshot: { status: RefundStatus; stripeRefundId: string },
): Promise<void> {
  await db
    .updateTable('invoice_refunds')
    .set({ status: snapshot.status, stripe_refund_id: snapshot.stripeRefundId, updated_at: new Date() })
    .where('id', '=', refundId)
    .where((eb) => eb.or([eb('status', 'in', ['requested', 'pending', 'requires_action']), eb('status', '=', snapshot.status)]))
    .execute();
}
