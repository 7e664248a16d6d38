// What admins do with subscriptions: cancel one now or at the end of its period, and refund an
// invoice's payment in full or in part. A refund follows the same rule and the same checks as an
// order's (src/refunds/rules.ts):
//   (a) one short transaction, under the invoice's row lock, checks the amount against what is left
//       (amount paid minus every live refund, requested ones included) and records the refund as
//       `requested` (its id is the form's nonce; its key `invoice-refund:<id>`), with its audit entry;
//   (b) commit; (c) `refunds.create` on the invoice's charge with that key, reversing the seller's
//   transfer and refunding the application fee as the admin chose; (d) Stripe's answer and the
//   money that came back (charge, fee, transfer) recorded, totals only growing, so the refund
//   events recording the same figures first make it a no-op.
// Every action writes the audit log in the transaction of its change.
import type { Kysely } from 'kysely';
import type Stripe from 'stripe';
import { hasAuditEntry, recordAudit, type Actor } from '../admin/audit.ts';
import type { Database, InvoiceRefundRow, RefundStatus } from '../db/schema.ts';
import { DomainError, found } from '../errors.ts';
import { amountFromForm } from '../money-input.ts';
import { checkRefundAmount } from '../refunds/rules.ts';
import { classifyStripeError } from '../stripe/errors.ts';
import { sendKeyed } from '../stripe/keyed.ts';
import {
  findInvoiceRefund,
  heldByInvoiceRefunds,
  insertInvoiceRefund,
  lockInvoice,
  lockInvoiceRefund,
  markInvoiceRefundRejected,
  recordInvoiceRefundStatus,
} from './invoice-refund-queries.ts';
import { findInvoice, findSubscription, recordInvoiceRefunded } from './queries.ts';
import { setCancelAtPeriodEnd } from './use-cases.ts';
import { applySubscription, factsOf } from './sync.ts';

export async function adminCancelSubscription(
  db: Kysely<Database>,
  stripe: Stripe,
  actor: Actor,
  subscriptionId: string,
  mode: 'now' | 'period_end',
): Promise<void> {
  const row = found(await findSubscription(db, subscriptionId));
  if (row.stripe_subscription_id === null || ['pending', 'incomplete_expired', 'canceled'].includes(row.status))
    throw new DomainError('subscription_not_changeable');
  await recordAudit(db, actor, {
    action: `subscription.cancel_${mode}`,
    targetType: 'subscription',
    targetId: row.id,
    before: { status: row.status, cancel_at_period_end: row.cancel_at_period_end },
  });
  if (mode === 'period_end') {
    const after = await setCancelAtPeriodEnd(db, stripe, row, true);
    await recordAudit(db, actor, {
      action: 'subscription.canceled_at_period_end',
      targetType: 'subscription',
      targetId: row.id,
      after: { status: after.status, cancel_at_period_end: true, ends: after.current_period_end },
    });
    return;
  }
  const observedAt = new Date();
  let sub: Stripe.Subscription;
  try {
    // Canceling is final, so one key per subscription is right: a retry gets the same answer.
    sub = await sendKeyed(() => stripe.subscriptions.cancel(row.stripe_subscription_id!, {}, { idempotencyKey: `subscription:${row.id}:cancel` }));
  } catch (error) {
    const problem = classifyStripeError(error);
    if (problem?.kind === 'refused') throw new DomainError('stripe_refused', { reason: problem.message });
    if (problem?.kind === 'unavailable') throw new DomainError('stripe_outcome_unknown');
    throw error;
  }
  await db.transaction().execute(async (trx) => {
    await applySubscription(trx, factsOf(sub, observedAt));
    await recordAudit(trx, actor, {
      action: 'subscription.canceled',
      targetType: 'subscription',
      targetId: row.id,
      after: { status: sub.status, stripe_subscription: sub.id },
    });
  });
}

export interface InvoiceRefundRequest {
  refundId: string;
  invoiceId: string;
  amount: string;
  reverseTransfer: boolean;
  refundApplicationFee: boolean;
}

export async function refundInvoice(db: Kysely<Database>, stripe: Stripe, actor: Actor, request: InvoiceRefundRequest): Promise<InvoiceRefundRow> {
  await db.transaction().execute(async (trx) => {
    const invoice = found(await lockInvoice(trx, request.invoiceId));
    const amount = amountFromForm(request.amount, invoice.currency);
    const existing = await lockInvoiceRefund(trx, request.refundId);
    if (existing !== undefined) {
      if (existing.invoice_id !== invoice.id || existing.amount !== amount) throw new DomainError('refund_form_reused');
      return;
    }
    if (invoice.status !== 'paid' || invoice.stripe_charge_id === null) throw new DomainError('order_has_no_payment');
    const left = invoice.amount_paid - (await heldByInvoiceRefunds(trx, invoice.id));
    checkRefundAmount({ amount: invoice.amount_paid, currency: invoice.currency }, left, amount);
    await insertInvoiceRefund(trx, {
      id: request.refundId,
      invoice_id: invoice.id,
      amount,
      currency: invoice.currency,
      reverse_transfer: request.reverseTransfer,
      refund_application_fee: request.refundApplicationFee,
      requested_by: actor.id,
    });
    await recordAudit(trx, actor, {
      action: 'invoice_refund.request',
      targetType: 'invoice',
      targetId: invoice.id,
      before: { amount_paid: invoice.amount_paid, amount_refunded: invoice.amount_refunded, refundable: left },
      after: {
        refund_id: request.refundId,
        amount,
        currency: invoice.currency,
        reverse_transfer: request.reverseTransfer,
        refund_application_fee: request.refundApplicationFee,
      },
    });
  });
  return sendInvoiceRefund(db, stripe, actor, request.refundId);
}

/** (c, d) for a `requested` refund: the same key every time, so "send again" never refunds twice. */
export async function sendInvoiceRefund(db: Kysely<Database>, stripe: Stripe, actor: Actor, refundId: string): Promise<InvoiceRefundRow> {
  const row = found(await findInvoiceRefund(db, refundId));
  if (row.status === 'rejected') throw new DomainError('refund_refused', { reason: row.error_message ?? 'Stripe refused this refund.' });
  if (row.status !== 'requested') return row;
  const invoice = found(await findInvoice(db, row.invoice_id));
  let refund: Stripe.Refund;
  try {
    refund = await sendKeyed(() =>
      stripe.refunds.create(
        {
          charge: invoice.stripe_charge_id!,
          amount: row.amount,
          reverse_transfer: row.reverse_transfer,
          refund_application_fee: row.refund_application_fee,
          metadata: { invoice_refund_id: row.id, invoice_id: invoice.id },
        },
        { idempotencyKey: `invoice-refund:${row.id}` },
      ),
    );
  } catch (error) {
    const problem = classifyStripeError(error);
    if (problem === undefined) throw error;
    if (problem.kind === 'unavailable') throw new DomainError('stripe_outcome_unknown');
    await db.transaction().execute(async (trx) => {
      if (!(await markInvoiceRefundRejected(trx, row.id, problem.message))) return; // a second caller recorded it
      await recordAudit(trx, actor, {
        action: 'invoice_refund.rejected',
        targetType: 'invoice',
        targetId: invoice.id,
        after: { refund_id: row.id, error: problem.message },
      });
    });
    throw new DomainError('refund_refused', { reason: problem.message });
  }
  await db.transaction().execute(async (trx) => {
    await recordInvoiceRefundSnapshot(trx, refund);
    if (!(await hasAuditEntry(trx, 'invoice_refund.create', 'refund_id', row.id))) {
      await recordAudit(trx, actor, {
        action: 'invoice_refund.create',
        targetType: 'invoice',
        targetId: invoice.id,
        after: { refund_id: row.id, stripe_refund: refund.id, status: refund.status, amount: refund.amount },
      });
    }
  });
  await refreshInvoiceMoney(db, stripe, invoice.id).catch(() => undefined);
  return found(await findInvoiceRefund(db, row.id));
}

/** A Stripe refund of one of our invoice refunds (API answer or refund.* event): its status and id. */
export async function recordInvoiceRefundSnapshot(db: Kysely<Database>, refund: Stripe.Refund): Promise<void> {
  const ourId = refund.metadata?.invoice_refund_id;
  if (typeof ourId !== 'string') return;
  // Final statuses win; a pending snapshot never overwrites succeeded/failed.
  await recordInvoiceRefundStatus(db, ourId, { status: refund.status as RefundStatus, stripeRefundId: refund.id });
}

/** What came back from the charge, the fee and the seller's transfer, as Stripe has it now. */
export async function refreshInvoiceMoney(db: Kysely<Database>, stripe: Stripe, invoiceId: string): Promise<void> {
  const invoice = found(await findInvoice(db, invoiceId));
  if (invoice.stripe_charge_id === null) return;
  const [charge, fee, transfer] = await Promise.all([
    stripe.charges.retrieve(invoice.stripe_charge_id),
    invoice.stripe_application_fee_id !== null ? stripe.applicationFees.retrieve(invoice.stripe_application_fee_id) : undefined,
    invoice.stripe_transfer_id !== null ? stripe.transfers.retrieve(invoice.stripe_transfer_id) : undefined,
  ]);
  await recordInvoiceRefunded(db, invoiceId, {
    amountRefunded: charge.amount_refunded,
    feeRefunded: fee?.amount_refunded ?? 0,
    transferReversed: transfer?.amount_reversed ?? 0,
  });
}
