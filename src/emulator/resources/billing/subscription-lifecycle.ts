/**
 * A subscription's life after creation, apart from updates: cancel now (with an optional credit
 * for unused time), pause and resume (`status: paused`, endive), and the period turnover the
 * renewal ticker drives (renewal invoice, trial end, cancellation at period end).
 */
import type Stripe from 'stripe';
import { invalidRequest } from '../../core/errors.ts';
import type { Billing } from './context.ts';
import { NO_REQUEST } from './context.ts';
import { currentPeriod, idOf, itemsList, recurrenceOf } from './subscription-objects.ts';
import { createDraftInvoice } from './invoices.ts';
import { commitSubscription, endSubscription, requireSubscription } from './subscription-status.ts';
import { boundary, nextBoundary } from './periods.ts';
import { prorate } from './money.ts';
import { previousAttributes } from './diff.ts';
import { RENEWAL_FINALIZE_DELAY } from './dunning.ts';
import { customerDefaultPaymentMethod } from './customers.ts';
import { finalizeAndCollect, linesForPeriod, takePendingLines } from './subscriptions.ts';

export function cancelSubscription(
  b: Billing,
  account: string,
  id: string,
  o: { comment?: string | null | undefined; feedback?: Stripe.Subscription.CancellationDetails.Feedback | null | undefined; prorate: boolean },
): Stripe.Subscription {
  const sub = requireSubscription(b, id, account, 'subscription_exposed_id');
  if (sub.status === 'canceled' || sub.status === 'incomplete_expired') {
    throw invalidRequest(`No such subscription: '${id}'`, { code: 'resource_missing', param: 'subscription_exposed_id', status: 404 });
  }
  if (o.prorate && sub.status !== 'incomplete' && sub.status !== 'trialing') creditUnusedTime(b, account, sub);
  return endSubscription(b, account, id, { reason: 'cancellation_requested', comment: o.comment ?? null, feedback: o.feedback ?? null });
}

/** `prorate: true` on cancel: the unused time goes to the customer's balance as a credit. */
function creditUnusedTime(b: Billing, account: string, sub: Stripe.Subscription): void {
  const now = b.core.now();
  const period = currentPeriod(sub);
  const full = sub.items.data.reduce((n, it) => n + (it.price.unit_amount ?? 0) * (it.quantity ?? 1), 0);
  const credit = prorate(full, Math.max(0, period.end - now), Math.max(1, period.end - period.start));
  if (credit <= 0) return;
  const customerId = idOf(sub.customer) ?? '';
  const before = b.customers.require(customerId, account);
  const after = b.customers.save({ ...before, balance: before.balance - credit });
  b.core.emitEvent({ type: 'customer.updated', object: after, account, previousAttributes: { balance: before.balance } });
}

export function pauseSubscription(b: Billing, account: string, id: string): Stripe.Subscription {
  const before = requireSubscription(b, id, account);
  if (!['active', 'trialing', 'past_due', 'unpaid'].includes(before.status)) {
    throw invalidRequest(`A subscription with status ${before.status} can't be paused.`, { param: 'subscription' });
  }
  const now = b.core.now();
  const next: Stripe.Subscription = {
    ...structuredClone(before),
    status: 'paused',
    status_details: { paused: { subscription: { type: 'pause_requested' }, transitioned_at: now, type: 'subscription' } },
  };
  const saved = commitSubscription(b, account, before, next);
  b.core.emitEvent({ type: 'customer.subscription.paused', object: saved, account });
  return saved;
}

export function resumeSubscription(
  b: Billing,
  account: string,
  id: string,
  o: {
    anchor: 'now' | 'unchanged';
    paymentBehavior: 'resume_on_payment_attempt' | 'resume_on_payment_success';
    prorationBehavior: 'create_prorations' | 'none' | 'always_invoice';
  },
): Stripe.Subscription {
  const before = requireSubscription(b, id, account);
  if (before.status !== 'paused') throw invalidRequest(`Only a paused subscription can be resumed (this one is ${before.status}).`, { param: 'subscription' });
  const r = recurrenceOf(before);
  const now = b.core.now();
  const next = structuredClone(before);
  delete next.status_details;
  let start: number;
  let end: number;
  if (o.anchor === 'now') {
    start = now;
    end = boundary(now, r.interval, r.interval_count, 1);
    next.billing_cycle_anchor = now;
  } else {
    end = nextBoundary(before.billing_cycle_anchor, r.interval, r.interval_count, now);
    start = now;
  }
  next.items = itemsList(
    next.id,
    next.items.data.map((x) => ({ ...x, current_period_start: start, current_period_end: end })),
  );
  if (o.paymentBehavior === 'resume_on_payment_attempt') next.status = 'active';
  const saved = commitSubscription(b, account, before, next);
  if (o.paymentBehavior === 'resume_on_payment_attempt') b.core.emitEvent({ type: 'customer.subscription.resumed', object: saved, account });
  if (o.anchor === 'now' || o.prorationBehavior !== 'none') {
    const invoice = createDraftInvoice(b, account, saved, {
      billingReason: 'subscription_update',
      lines: (invoiceId) =>
        linesForPeriod(b, saved, invoiceId, start, end, false).map((l) =>
          o.anchor === 'now'
            ? l
            : { ...l, amount: prorate(l.amount, end - start, end - boundary(before.billing_cycle_anchor, r.interval, r.interval_count, 0)) },
        ),
      periodStart: start,
      periodEnd: start,
    });
    const collected = finalizeAndCollect(b, account, invoice.id, { offSession: false, attempt: true });
    if (o.paymentBehavior === 'resume_on_payment_success') {
      const paid = !collected || collected.outcome.kind === 'succeeded';
      if (paid) {
        const cur = requireSubscription(b, id, account);
        const resumed = commitSubscription(b, account, cur, { ...cur, status: 'active' });
        b.core.emitEvent({ type: 'customer.subscription.resumed', object: resumed, account });
      }
    }
  }
  return requireSubscription(b, id, account);
}

/**
 * The current period of `sub` ended at `at`: cancel it if asked to, end its trial, or start the
 * next period with a renewal invoice that is finalized and charged an hour later.
 */
export function turnOver(b: Billing, account: string, subId: string, at: number): void {
  const sub = requireSubscription(b, subId, account);
  const period = currentPeriod(sub);
  if (period.end > at) return;
  if (sub.cancel_at !== null && sub.cancel_at <= period.end) {
    endSubscription(b, account, subId, { reason: 'cancellation_requested', keepCanceledAt: true, request: NO_REQUEST });
    return;
  }
  const r = recurrenceOf(sub);
  const trialEnding = sub.status === 'trialing';
  if (trialEnding) {
    const pm = sub.default_payment_method ?? customerDefaultPaymentMethod(b.customers.require(idOf(sub.customer) ?? '', account));
    const missing = sub.trial_settings?.end_behavior.missing_payment_method ?? 'create_invoice';
    if (!pm && missing === 'cancel') {
      endSubscription(b, account, subId, { reason: 'cancellation_requested', request: NO_REQUEST });
      return;
    }
    if (!pm && missing === 'pause') {
      const next: Stripe.Subscription = {
        ...sub,
        status: 'paused',
        status_details: { paused: { subscription: { type: 'trial_end_without_payment_method' }, transitioned_at: at, type: 'subscription' } },
      };
      const saved = commitSubscription(b, account, sub, next, NO_REQUEST);
      b.core.emitEvent({ type: 'customer.subscription.paused', object: saved, account, request: NO_REQUEST });
      return;
    }
  }
  const start = period.end;
  const end = trialEnding ? boundary(start, r.interval, r.interval_count, 1) : nextBoundary(sub.billing_cycle_anchor, r.interval, r.interval_count, start);
  const next: Stripe.Subscription = {
    ...structuredClone(sub),
    items: itemsList(
      sub.id,
      sub.items.data.map((x) => ({ ...x, current_period_start: start, current_period_end: end })),
    ),
  };
  if (trialEnding) {
    next.status = 'active';
    next.billing_cycle_anchor = start;
  }
  // The renewal invoice is created with the new period; one `customer.subscription.updated`
  // then reports both the item periods and `latest_invoice` in `previous_attributes`.
  const saved = b.subscriptions.save(next);
  createDraftInvoice(b, account, saved, {
    billingReason: 'subscription_cycle',
    lines: (invoiceId) => [...takePendingLines(b, subId, invoiceId), ...linesForPeriod(b, saved, invoiceId, start, end, false)],
    periodStart: period.start,
    periodEnd: period.end,
    finalizeAt: at + RENEWAL_FINALIZE_DELAY,
  });
  const after = requireSubscription(b, subId, account);
  b.core.emitEvent({ type: 'customer.subscription.updated', object: after, account, previousAttributes: previousAttributes(sub, after), request: NO_REQUEST });
}
