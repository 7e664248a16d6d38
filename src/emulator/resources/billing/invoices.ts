/**
 * Invoice primitives: draft → open → paid | uncollectible | void, and the InvoicePayment that
 * records each PaymentIntent. No subscription logic here (collection.ts and
 * subscription-status.ts decide what an outcome means for the subscription).
 *
 * Finalizing applies the customer's balance (a credit lowers `amount_due`, a debt raises it;
 * `starting_balance`/`ending_balance`), carries an amount below the currency's minimum charge
 * to the balance instead of charging it (Stripe does the same), numbers the invoice
 * `<invoice_prefix>-<0001>`, gives it a hosted page and, when something is due, a PaymentIntent
 * (`confirmation_secret`) and a default InvoicePayment. A zero invoice is paid at once.
 */
import type Stripe from 'stripe';
import { randomToken } from '../../core/ids.ts';
import { invalidRequest } from '../../core/errors.ts';
import type { Billing } from './context.ts';
import { buildInvoice, buildInvoicePayment } from './invoice-objects.ts';
import { createInvoiceIntent } from './charging.ts';
import { previousAttributes, hasChanges } from './diff.ts';
import { idOf } from './subscription-objects.ts';
import { cancelIntent, minimumAmount } from '../payments/api.ts';

export interface InvoiceInternal {
  /** The PaymentIntent collecting it (once finalized with something due). */
  paymentIntent?: string;
  /** Secret part of the hosted invoice page URL. */
  token: string;
  /** Renewal drafts: when the ticker finalizes and charges them. */
  finalizeAt?: number;
  /** First automatic attempt (start of the retry window). */
  firstAttemptAt?: number;
  /** Failed automatic tries so far. */
  failedTries?: number;
  /** Automatic collection stopped (subscription canceled, retries exhausted). */
  collectionStopped?: boolean;
}

export function invoiceInternal(b: Billing, id: string): InvoiceInternal {
  return b.invoices.internal(id) as unknown as InvoiceInternal;
}

export function setInvoiceInternal(b: Billing, id: string, patch: Partial<InvoiceInternal>): void {
  b.invoices.setInternal(id, patch);
}

export function hostedInvoiceUrl(b: Billing, invoiceId: string): string {
  return b.core.pageUrl(`/hosted/invoices/${invoiceId}/${invoiceInternal(b, invoiceId).token}`);
}

export function subscriptionOfInvoice(inv: Stripe.Invoice): string | null {
  return idOf(inv.parent?.subscription_details?.subscription ?? null);
}

/** A draft subscription invoice (`invoice.created`); becomes the subscription's `latest_invoice`. */
export function createDraftInvoice(
  b: Billing,
  account: string,
  sub: Stripe.Subscription,
  o: {
    billingReason: Stripe.Invoice.BillingReason;
    lines: (invoiceId: string) => Stripe.InvoiceLineItem[];
    periodStart: number;
    periodEnd: number;
    finalizeAt?: number;
  },
): Stripe.Invoice {
  const customerId = idOf(sub.customer) ?? '';
  const customer = b.customers.require(customerId, account);
  const id = b.core.newId('in');
  const platform = b.core.getAccount(account);
  const invoice = buildInvoice({
    id,
    created: b.core.now(),
    customer,
    subscription: sub,
    billingReason: o.billingReason,
    lines: o.lines(id),
    periodStart: o.periodStart,
    periodEnd: o.periodEnd,
    accountName: platform?.business_profile?.name ?? platform?.settings?.dashboard?.display_name ?? null,
  });
  const internal: InvoiceInternal = { token: randomToken(24), ...(o.finalizeAt !== undefined ? { finalizeAt: o.finalizeAt } : {}) };
  if (o.finalizeAt !== undefined) invoice.automatically_finalizes_at = o.finalizeAt;
  b.invoices.insert(account, invoice, { internal: internal as unknown as Record<string, unknown> });
  b.subscriptions.update(sub.id, (s) => void (s.latest_invoice = id));
  b.core.emitEvent({ type: 'invoice.created', object: invoice, account });
  return invoice;
}

/** Move the customer's balance by `delta` (positive: the customer owes more), emitting `customer.updated`. */
function moveCustomerBalance(b: Billing, account: string, customerId: string, delta: number): void {
  if (delta === 0) return;
  const before = b.customers.require(customerId, account);
  const after = { ...before, balance: before.balance + delta };
  const saved = b.customers.save(after);
  b.core.emitEvent({ type: 'customer.updated', object: saved, account, previousAttributes: previousAttributes(before, saved) });
}

export interface FinalizeResult {
  invoice: Stripe.Invoice;
  /** True when a payment is due (the invoice has a PaymentIntent). */
  needsPayment: boolean;
}

/** Finalize a draft (`invoice.finalized`); a zero invoice is paid at once. */
export function finalizeInvoice(b: Billing, account: string, invoiceId: string, paymentMethod: string | null): FinalizeResult {
  const inv = b.invoices.require(invoiceId, account, 'invoice');
  if (inv.status !== 'draft')
    throw invalidRequest(`This invoice is already finalized, you can't re-finalize a non-draft invoice.`, { code: 'invoice_not_editable', param: 'invoice' });
  const subId = subscriptionOfInvoice(inv);
  const sub = subId ? b.subscriptions.require(subId, account) : undefined;
  const customerId = idOf(inv.customer) ?? '';
  const customer = b.customers.require(customerId, account);
  const now = b.core.now();

  // Customer balance: credit (negative) lowers what is due, a debt raises it.
  const balance = customer.balance;
  let due = inv.total + balance;
  let ending = 0;
  if (due < 0) {
    ending = due;
    due = 0;
  }
  // Below the minimum charge: carried to the balance instead (docs.stripe.com/billing/invoices/subscription#minimum-charge).
  if (due > 0 && due < minimumAmount(inv.currency)) {
    ending += due;
    due = 0;
  }
  inv.starting_balance = balance;
  inv.ending_balance = ending;
  inv.amount_due = due;
  inv.amount_remaining = due;
  moveCustomerBalance(b, account, customerId, ending - balance);

  const seq = customer.next_invoice_sequence ?? 1;
  b.customers.update(customerId, (c) => void (c.next_invoice_sequence = seq + 1));
  inv.number = `${customer.invoice_prefix ?? 'INV'}-${String(seq).padStart(4, '0')}`;
  inv.status = 'open';
  inv.status_transitions.finalized_at = now;
  inv.effective_at = now;
  inv.automatically_finalizes_at = null;
  inv.webhooks_delivered_at = now;
  inv.hosted_invoice_url = hostedInvoiceUrl(b, inv.id);
  inv.invoice_pdf = `${hostedInvoiceUrl(b, inv.id)}/pdf`;
  setInvoiceInternal(b, inv.id, { finalizeAt: undefined });
  let saved = b.invoices.save(inv);
  if (due > 0 && sub) {
    const pi = createInvoiceIntent(b, account, saved, sub, paymentMethod);
    setInvoiceInternal(b, inv.id, { paymentIntent: pi.id });
    b.invoicePayments.insert(
      account,
      buildInvoicePayment({ id: b.core.newId('inpay'), invoice: inv.id, paymentIntent: pi.id, amount: due, currency: inv.currency, created: now }),
    );
  }
  b.core.emitEvent({ type: 'invoice.finalized', object: saved, account });
  if (due === 0) {
    saved = markInvoicePaid(b, account, inv.id, { attempted: false });
    return { invoice: saved, needsPayment: false };
  }
  return { invoice: saved, needsPayment: true };
}

/** The invoice's default InvoicePayment (the one for its PaymentIntent). */
export function defaultInvoicePayment(b: Billing, invoiceId: string): Stripe.InvoicePayment | undefined {
  return b.invoicePayments.list(undefined, (p) => p.invoice === invoiceId && p.is_default)[0];
}

/** Paid (`invoice_payment.paid` when money moved, `invoice.paid`, `invoice.payment_succeeded`). */
export function markInvoicePaid(b: Billing, account: string, invoiceId: string, o: { attempted: boolean; outOfBand?: boolean }): Stripe.Invoice {
  const inv = b.invoices.require(invoiceId, account);
  const now = b.core.now();
  const amount = inv.amount_due;
  inv.status = 'paid';
  inv.amount_paid = amount;
  inv.amount_remaining = 0;
  if (o.attempted) {
    inv.attempted = true;
    inv.attempt_count += 1;
  }
  if (o.outOfBand) inv.amount_paid_off_stripe = amount;
  inv.next_payment_attempt = null;
  inv.status_transitions.paid_at = now;
  inv.auto_advance = false;
  if (inv.status_details) delete inv.status_details;
  const saved = b.invoices.save(inv);
  const payment = defaultInvoicePayment(b, invoiceId);
  if (payment && !o.outOfBand) {
    payment.status = 'paid';
    payment.amount_paid = amount;
    payment.status_transitions.paid_at = now;
    const p = b.invoicePayments.save(payment);
    b.core.emitEvent({ type: 'invoice_payment.paid', object: p, account });
  } else if (payment && o.outOfBand) {
    payment.status = 'canceled';
    payment.status_transitions.canceled_at = now;
    b.invoicePayments.save(payment);
  }
  b.core.emitEvent({ type: 'invoice.paid', object: saved, account });
  if (!o.outOfBand) b.core.emitEvent({ type: 'invoice.payment_succeeded', object: saved, account });
  return saved;
}

/** A failed try: `invoice.payment_failed` (and `invoice.payment_action_required` for 3DS). */
export function recordFailedAttempt(
  b: Billing,
  account: string,
  invoiceId: string,
  o: { nextAttempt: number | null; requiresAction: boolean },
): Stripe.Invoice {
  const inv = b.invoices.require(invoiceId, account);
  inv.attempted = true;
  inv.attempt_count += 1;
  inv.next_payment_attempt = o.nextAttempt;
  const saved = b.invoices.save(inv);
  b.core.emitEvent({ type: 'invoice.payment_failed', object: saved, account });
  if (o.requiresAction) b.core.emitEvent({ type: 'invoice.payment_action_required', object: saved, account });
  return saved;
}

/** Stop automatic collection of an open invoice (its subscription ended, or retries ran out). */
export function stopCollection(b: Billing, account: string, invoiceId: string): Stripe.Invoice {
  const before = b.invoices.require(invoiceId, account);
  setInvoiceInternal(b, invoiceId, { collectionStopped: true });
  const inv = { ...before, next_payment_attempt: null, auto_advance: false };
  const saved = b.invoices.save(inv);
  const prev = previousAttributes(before, saved);
  if (hasChanges(prev)) b.core.emitEvent({ type: 'invoice.updated', object: saved, account, previousAttributes: prev });
  return saved;
}

export function voidInvoice(b: Billing, account: string, invoiceId: string): Stripe.Invoice {
  const inv = b.invoices.require(invoiceId, account, 'invoice');
  if (inv.status !== 'open' && inv.status !== 'uncollectible') {
    throw invalidRequest(`You can only void an open or uncollectible invoice (this one is ${inv.status}).`, { code: 'invoice_not_editable', param: 'invoice' });
  }
  const now = b.core.now();
  const piId = invoiceInternal(b, invoiceId).paymentIntent;
  if (piId) {
    const pi = b.pay.pis.get(piId, account);
    if (pi && ['requires_payment_method', 'requires_confirmation', 'requires_action'].includes(pi.status)) cancelIntent(b.pay, account, piId, 'abandoned');
  }
  const payment = defaultInvoicePayment(b, invoiceId);
  if (payment && payment.status === 'open') {
    payment.status = 'canceled';
    payment.status_transitions.canceled_at = now;
    b.invoicePayments.save(payment);
  }
  inv.status = 'void';
  inv.status_transitions.voided_at = now;
  inv.next_payment_attempt = null;
  inv.auto_advance = false;
  inv.amount_remaining = 0;
  setInvoiceInternal(b, invoiceId, { collectionStopped: true });
  const saved = b.invoices.save(inv);
  b.core.emitEvent({ type: 'invoice.voided', object: saved, account });
  return saved;
}

export function markUncollectible(b: Billing, account: string, invoiceId: string, reason: Stripe.Invoice.StatusDetails.Uncollectible.Reason): Stripe.Invoice {
  const inv = b.invoices.require(invoiceId, account, 'invoice');
  if (inv.status !== 'open')
    throw invalidRequest(`You can only mark an open invoice as uncollectible (this one is ${inv.status}).`, { code: 'invoice_not_editable', param: 'invoice' });
  inv.status = 'uncollectible';
  inv.status_transitions.marked_uncollectible_at = b.core.now();
  inv.status_details = { uncollectible: { reason } };
  inv.next_payment_attempt = null;
  setInvoiceInternal(b, invoiceId, { collectionStopped: true });
  const saved = b.invoices.save(inv);
  b.core.emitEvent({ type: 'invoice.marked_uncollectible', object: saved, account });
  return saved;
}

export function productName(b: Billing, price: Stripe.Price): string {
  const id = typeof price.product === 'string' ? price.product : price.product.id;
  const prod = b.products.get(id);
  return prod?.name ?? id;
}
