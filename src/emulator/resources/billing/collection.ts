/**
 * Collecting an invoice: one try with a payment method, and what its outcome means for the
 * invoice (paid / failed / awaiting 3DS), its retry schedule (dunning.ts) and its subscription
 * (subscription-status.ts).
 *
 * The payment method tried is, in Stripe's order, the one given, the invoice's
 * `default_payment_method`, the subscription's, then the customer's
 * `invoice_settings.default_payment_method` (Subscription.default_payment_method doc).
 *
 * Outcomes reached outside billing (the buyer confirming the invoice's PaymentIntent with
 * Stripe.js or on the 3DS page) arrive through `reconcileIntent`.
 */
import type Stripe from 'stripe';
import { invalidRequest } from '../../core/errors.ts';
import type { Billing } from './context.ts';
import { NO_REQUEST } from './context.ts';
import { confirmInvoiceIntent, invoiceOfIntent, type AttemptResult } from './charging.ts';
import {
  invoiceInternal,
  markInvoicePaid,
  markUncollectible,
  recordFailedAttempt,
  setInvoiceInternal,
  stopCollection,
  subscriptionOfInvoice,
} from './invoices.ts';
import {
  endSubscription,
  subscriptionAfterInvoicePaid,
  subscriptionAfterPaymentFailed,
  commitSubscription,
  requireSubscription,
} from './subscription-status.ts';
import { nextRetryAt, settingsOf, RETRY_WINDOW } from './dunning.ts';
import { customerDefaultPaymentMethod } from './customers.ts';
import { idOf } from './subscription-objects.ts';
import { isDetached } from './payment-methods.ts';

export type CollectionOutcome = AttemptResult | { kind: 'no_payment_method' };

/** PaymentIntents billing is confirming right now (their outcome is applied by the caller, not the hook). */
const collecting = new Set<string>();

export function paymentMethodFor(b: Billing, account: string, inv: Stripe.Invoice): string | null {
  const fromInvoice = idOf(inv.default_payment_method);
  if (fromInvoice) return fromInvoice;
  const subId = subscriptionOfInvoice(inv);
  const sub = subId ? b.subscriptions.get(subId, account) : undefined;
  const fromSub = sub ? idOf(sub.default_payment_method) : null;
  if (fromSub) return fromSub;
  const customer = b.customers.get(idOf(inv.customer) ?? '', account);
  return customer ? customerDefaultPaymentMethod(customer) : null;
}

/**
 * Try to collect an open invoice once. `automatic`: a scheduled try (counts against the retry
 * schedule); otherwise the customer or the API asked for it.
 */
export function collectInvoice(
  b: Billing,
  account: string,
  invoiceId: string,
  o: {
    automatic: boolean;
    offSession: boolean;
    paymentMethod?: string | undefined;
    returnUrl?: string | undefined;
    request?: Stripe.Event.Request;
    /** The buyer is on the hosted invoice page: a 3DS challenge is the next step, not a failure. */
    onPage?: boolean;
  },
): { invoice: Stripe.Invoice; outcome: CollectionOutcome } {
  const inv = b.invoices.require(invoiceId, account, 'invoice');
  if (inv.status !== 'open' && inv.status !== 'uncollectible') {
    throw invalidRequest(`Invoice is already ${inv.status}.`, { code: 'invoice_not_open', param: 'invoice' });
  }
  const piId = invoiceInternal(b, invoiceId).paymentIntent;
  const pm = o.paymentMethod ?? paymentMethodFor(b, account, inv);
  if (!piId || !pm || isDetached(b, pm)) {
    applyFailure(b, account, invoiceId, { automatic: o.automatic, requiresAction: false });
    return { invoice: b.invoices.require(invoiceId, account), outcome: { kind: 'no_payment_method' } };
  }
  collecting.add(piId);
  let result: AttemptResult;
  try {
    result = confirmInvoiceIntent(b, account, piId, { paymentMethod: pm, offSession: o.offSession, ...(o.returnUrl ? { returnUrl: o.returnUrl } : {}) });
  } finally {
    collecting.delete(piId);
  }
  if (result.kind === 'succeeded') applySuccess(b, account, invoiceId, result.pi);
  else if (!(o.onPage && result.kind === 'requires_action'))
    applyFailure(b, account, invoiceId, { automatic: o.automatic, requiresAction: result.kind === 'requires_action' });
  return { invoice: b.invoices.require(invoiceId, account), outcome: result };
}

function applySuccess(b: Billing, account: string, invoiceId: string, pi: Stripe.PaymentIntent): void {
  const inv = b.invoices.require(invoiceId, account);
  if (inv.status === 'paid') return;
  const paid = markInvoicePaid(b, account, invoiceId, { attempted: true });
  const subId = subscriptionOfInvoice(paid);
  if (subId) subscriptionAfterInvoicePaid(b, account, subId, paid, idOf(pi.payment_method));
}

function applyFailure(b: Billing, account: string, invoiceId: string, o: { automatic: boolean; requiresAction: boolean }): void {
  const inv = b.invoices.require(invoiceId, account);
  const internal = invoiceInternal(b, invoiceId);
  const now = b.core.now();
  // Retries follow the schedule only for renewals; a first invoice waits for the customer (23 h).
  const dunning = o.automatic && inv.billing_reason !== 'subscription_create';
  let next: number | null = inv.next_payment_attempt;
  let exhausted = false;
  if (dunning) {
    const first = internal.firstAttemptAt ?? now;
    const tries = (internal.failedTries ?? 0) + 1;
    setInvoiceInternal(b, invoiceId, { firstAttemptAt: first, failedTries: tries });
    next = o.requiresAction ? null : nextRetryAt(first, tries);
    exhausted = !o.requiresAction && next === null;
  } else if (inv.billing_reason === 'subscription_create') {
    next = null;
  }
  const failed = recordFailedAttempt(b, account, invoiceId, { nextAttempt: next, requiresAction: o.requiresAction });
  const subId = subscriptionOfInvoice(failed);
  if (subId) subscriptionAfterPaymentFailed(b, account, subId, failed);
  if (exhausted) exhaustRetries(b, account, invoiceId, NO_REQUEST);
}

/** The last try failed, or the retry window ended unpaid: apply the account's settings. */
export function exhaustRetries(b: Billing, account: string, invoiceId: string, request: Stripe.Event.Request): void {
  const settings = settingsOf(b);
  const inv = b.invoices.require(invoiceId, account);
  if (inv.status !== 'open') return;
  if (settings.invoice_after_retries === 'uncollectible') markUncollectible(b, account, invoiceId, 'max_payment_attempts');
  else stopCollection(b, account, invoiceId);
  const subId = subscriptionOfInvoice(inv);
  const sub = subId ? b.subscriptions.get(subId, account) : undefined;
  if (!sub || sub.latest_invoice !== invoiceId || !['past_due', 'active'].includes(sub.status)) return;
  if (settings.subscription_after_retries === 'cancel') {
    endSubscription(b, account, sub.id, { reason: 'payment_failed', request });
  } else if (settings.subscription_after_retries === 'unpaid') {
    const before = requireSubscription(b, sub.id, account);
    commitSubscription(b, account, before, { ...before, status: 'unpaid' }, request);
  }
}

/** Invoices whose retry window ended without a scheduled try left (3DS awaited, no card). */
export function windowEnded(b: Billing, invoiceId: string, now: number): boolean {
  const internal = invoiceInternal(b, invoiceId);
  return internal.firstAttemptAt !== undefined && !internal.collectionStopped && now >= internal.firstAttemptAt + RETRY_WINDOW;
}

/**
 * A PaymentIntent changed outside a billing-initiated try (Stripe.js, the 3DS page, the
 * PaymentIntents API). If it collects an invoice, apply the outcome to the invoice.
 */
export function reconcileIntent(b: Billing, piId: string, outcome: 'succeeded' | 'failed'): void {
  if (collecting.has(piId)) return;
  const invoiceId = invoiceOfIntent(b, piId);
  if (!invoiceId) return;
  const account = b.invoices.ownerOf(invoiceId);
  if (!account) return;
  const inv = b.invoices.require(invoiceId, account);
  if (inv.status !== 'open' && inv.status !== 'uncollectible') return;
  const pi = b.pay.pis.require(piId, account);
  if (outcome === 'succeeded' && pi.status === 'succeeded') applySuccess(b, account, invoiceId, pi);
  else if (outcome === 'failed') applyFailure(b, account, invoiceId, { automatic: false, requiresAction: false });
}
