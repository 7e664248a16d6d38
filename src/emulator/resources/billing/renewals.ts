/**
 * Billing on the emulator clock. At every tick (each UTC midnight crossed by a clock advance,
 * and the advance's target; every second in offline mode) the due work runs in time order:
 *
 *   trial_will_end   3 days before a trial ends          customer.subscription.trial_will_end
 *   upcoming         `upcoming_days` before a renewal    invoice.upcoming (no invoice id, as Stripe)
 *   expiry           23 h after an unpaid first invoice  incomplete_expired, invoice voided
 *   cancel_at        a scheduled cancellation            customer.subscription.deleted
 *   turnover         period end                          new item periods + draft renewal invoice
 *   finalize         1 h after a renewal draft           invoice.finalized + off-session charge
 *   retry            `next_payment_attempt`              another off-session charge (dunning.ts)
 *   window end       14 days after the first try         retries exhausted → settings
 *
 * Work is picked earliest-first, so a clock advance over several periods renews each period in
 * turn. Paused subscriptions neither renew nor advance their period.
 */
import type Stripe from 'stripe';
import type { Billing } from './context.ts';
import { NO_REQUEST } from './context.ts';
import { currentPeriod, idOf, recurrenceOf } from './subscription-objects.ts';
import { sendTrialWillEnd, subscriptionInternal } from './subscriptions.ts';
import { turnOver } from './subscription-lifecycle.ts';
import { endSubscription, expireIncomplete } from './subscription-status.ts';
import { finalizeInvoice, invoiceInternal, setInvoiceInternal, productName } from './invoices.ts';
import { collectInvoice, exhaustRetries, paymentMethodFor, windowEnded } from './collection.ts';
import { DAY, INCOMPLETE_EXPIRY, RETRY_WINDOW, TRIAL_WILL_END_NOTICE, settingsOf } from './dunning.ts';
import { buildInvoice, subscriptionLine } from './invoice-objects.ts';
import { nextBoundary } from './periods.ts';

interface Due {
  /** Identifies the work (kind + object) for error reporting. */
  key: string;
  at: number;
  run: () => void;
}

const LIVE: Stripe.Subscription.Status[] = ['active', 'past_due', 'unpaid', 'trialing'];

function dueWork(b: Billing, now: number): Due[] {
  const out: Due[] = [];
  const settings = settingsOf(b);
  for (const sub of b.subscriptions.list()) {
    const account = b.subscriptions.ownerOf(sub.id) ?? b.core.platformAccount;
    const period = currentPeriod(sub);
    const internal = subscriptionInternal(b, sub.id);
    if (sub.status === 'incomplete') {
      out.push({ key: `expiry ${sub.id}`, at: sub.created + INCOMPLETE_EXPIRY, run: () => expireIncomplete(b, account, sub.id, NO_REQUEST) });
      continue;
    }
    if (!LIVE.includes(sub.status)) continue;
    if (sub.status === 'trialing' && sub.trial_end !== null && !internal.trialWillEndSent) {
      out.push({ key: `trial_will_end ${sub.id}`, at: sub.trial_end - TRIAL_WILL_END_NOTICE, run: () => sendTrialWillEnd(b, account, sub.id, NO_REQUEST) });
    }
    if (sub.cancel_at !== null && sub.cancel_at < period.end) {
      out.push({
        key: `cancel_at ${sub.id}`,
        at: sub.cancel_at,
        run: () => void endSubscription(b, account, sub.id, { reason: 'cancellation_requested', keepCanceledAt: true, request: NO_REQUEST }),
      });
    }
    const willRenew = !(sub.cancel_at !== null && sub.cancel_at <= period.end);
    if (settings.upcoming_days > 0 && willRenew && internal.upcomingSentFor !== period.end) {
      out.push({ key: `upcoming ${sub.id}`, at: period.end - settings.upcoming_days * DAY, run: () => sendUpcoming(b, account, sub.id) });
    }
    out.push({ key: `turnover ${sub.id}`, at: period.end, run: () => turnOver(b, account, sub.id, period.end) });
  }
  for (const inv of b.invoices.list(undefined, (i) => i.status === 'draft' || i.status === 'open')) {
    const account = b.invoices.ownerOf(inv.id) ?? b.core.platformAccount;
    const internal = invoiceInternal(b, inv.id);
    if (inv.status === 'draft' && internal.finalizeAt !== undefined) {
      out.push({ key: `finalize ${inv.id}`, at: internal.finalizeAt, run: () => finalizeRenewal(b, account, inv.id) });
    }
    if (inv.status === 'open' && !internal.collectionStopped) {
      if (inv.next_payment_attempt !== null) {
        out.push({
          key: `retry ${inv.id}`,
          at: inv.next_payment_attempt,
          run: () => void collectInvoice(b, account, inv.id, { automatic: true, offSession: true, request: NO_REQUEST }),
        });
      } else if (internal.firstAttemptAt !== undefined) {
        out.push({
          key: `window ${inv.id}`,
          at: internal.firstAttemptAt + RETRY_WINDOW,
          run: () => windowEnded(b, inv.id, b.core.now()) && exhaustRetries(b, account, inv.id, NO_REQUEST),
        });
      }
    }
  }
  return out.filter((d) => d.at <= now);
}

/** Finalize a renewal draft and charge it off-session (not for `unpaid` subscriptions). */
function finalizeRenewal(b: Billing, account: string, invoiceId: string): void {
  const inv = b.invoices.require(invoiceId, account);
  if (inv.status !== 'draft') return;
  const { needsPayment, invoice } = finalizeInvoice(b, account, invoiceId, paymentMethodFor(b, account, inv));
  const subId = invoice.parent?.subscription_details?.subscription;
  const sub = subId ? b.subscriptions.get(idOf(subId) ?? '', account) : undefined;
  if (!needsPayment) return;
  if (sub?.status === 'unpaid') {
    // Stripe keeps invoicing an unpaid subscription but does not try to collect.
    setInvoiceInternal(b, invoiceId, { collectionStopped: true });
    return;
  }
  collectInvoice(b, account, invoiceId, { automatic: true, offSession: true, request: NO_REQUEST });
}

/** `invoice.upcoming`: a preview of the next renewal invoice, without an id (as Stripe sends it). */
function sendUpcoming(b: Billing, account: string, subId: string): void {
  const sub = b.subscriptions.require(subId, account);
  const customer = b.customers.get(idOf(sub.customer) ?? '', account);
  b.subscriptions.setInternal(subId, { upcomingSentFor: currentPeriod(sub).end });
  if (!customer) return;
  const r = recurrenceOf(sub);
  const start = currentPeriod(sub).end;
  const end = nextBoundary(sub.billing_cycle_anchor, r.interval, r.interval_count, start);
  const lines = sub.items.data.map((item) =>
    subscriptionLine({
      id: b.core.newId('il_tmp'),
      invoice: null,
      subscription: sub.id,
      item,
      productName: productName(b, item.price),
      periodStart: start,
      periodEnd: end,
    }),
  );
  const preview = buildInvoice({
    id: '',
    created: b.core.now(),
    customer,
    subscription: sub,
    billingReason: 'upcoming',
    lines,
    periodStart: currentPeriod(sub).start,
    periodEnd: start,
    accountName: null,
  });
  preview.next_payment_attempt = start + 3600;
  const { id: _noId, ...withoutId } = preview;
  // The SDK types every invoice with an id; Stripe's upcoming invoice has none.
  b.core.emitEvent({ type: 'invoice.upcoming', object: withoutId as Stripe.Invoice, account, request: NO_REQUEST });
}

/** The billing ticker: run everything due up to `now`, earliest first. */
export function runBillingClock(b: Billing, now: number): void {
  // Work that threw is skipped for the rest of this tick so that one bad object cannot spin the loop.
  const failed = new Set<string>();
  for (let guard = 0; guard < 10_000; guard++) {
    const due = dueWork(b, now).filter((d) => !failed.has(d.key));
    if (due.length === 0) return;
    due.sort((x, y) => x.at - y.at);
    const next = due[0];
    if (!next) return;
    try {
      next.run();
    } catch (err) {
      failed.add(next.key);
      console.error(`[stripe-emulator] billing ticker: ${next.key} failed:`, err);
    }
  }
  console.error('[stripe-emulator] billing ticker: too much work due at once; stopped');
}
