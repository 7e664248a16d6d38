/**
 * The subscription state machine's transitions, each emitting what Stripe emits:
 *
 *   incomplete ──first invoice paid──▶ active ◀──latest invoice paid── past_due / unpaid
 *   incomplete ──23 h unpaid──▶ incomplete_expired (first invoice voided)       ▲
 *   trialing ──trial end──▶ active (or past_due / paused / canceled)             │
 *   active ──renewal fails or awaits 3DS──▶ past_due ──retries exhausted──▶ canceled | unpaid
 *   active / past_due / trialing ──pause──▶ paused ──resume──▶ active
 *   any live status ──cancel (now, at period end, cancel_at)──▶ canceled
 *
 * Every change is a `customer.subscription.updated` with `previous_attributes`, except the
 * end (`customer.subscription.deleted`). Only the subscription's latest invoice moves it back
 * to `active` or on to `canceled`/`unpaid` (support.stripe.com/questions/retry-schedules-longer-than-a-subscription-s-billing-period).
 */
import type Stripe from 'stripe';
import type { Billing } from './context.ts';
import { previousAttributes, hasChanges } from './diff.ts';
import { voidInvoice, stopCollection } from './invoices.ts';

/** Save `next` and emit `customer.subscription.updated` if anything changed. */
export function commitSubscription(
  b: Billing,
  account: string,
  before: Stripe.Subscription,
  next: Stripe.Subscription,
  request?: Stripe.Event.Request,
): Stripe.Subscription {
  const saved = b.subscriptions.save(next);
  const prev = previousAttributes(before, saved);
  if (hasChanges(prev))
    b.core.emitEvent({ type: 'customer.subscription.updated', object: saved, account, previousAttributes: prev, ...(request ? { request } : {}) });
  return saved;
}

export function requireSubscription(b: Billing, id: string, account: string, param = 'id'): Stripe.Subscription {
  return b.subscriptions.require(id, account, param);
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

/** An invoice of this subscription was paid. */
export function subscriptionAfterInvoicePaid(
  b: Billing,
  account: string,
  subId: string,
  invoice: Stripe.Invoice,
  paidWith: string | null,
): Stripe.Subscription {
  const before = requireSubscription(b, subId, account);
  const next = clone(before);
  if (before.latest_invoice === invoice.id && ['incomplete', 'past_due', 'unpaid'].includes(before.status)) next.status = 'active';
  if (paidWith && before.payment_settings?.save_default_payment_method === 'on_subscription') next.default_payment_method = paidWith;
  return commitSubscription(b, account, before, next);
}

/** A payment of this subscription's invoice failed or awaits the customer. */
export function subscriptionAfterPaymentFailed(b: Billing, account: string, subId: string, invoice: Stripe.Invoice): Stripe.Subscription {
  const before = requireSubscription(b, subId, account);
  const next = clone(before);
  // The first invoice keeps the subscription `incomplete`; a later one makes it `past_due`.
  if (invoice.billing_reason !== 'subscription_create' && before.latest_invoice === invoice.id && ['active', 'trialing'].includes(before.status))
    next.status = 'past_due';
  return commitSubscription(b, account, before, next);
}

/** End the subscription now (`customer.subscription.deleted`). */
export function endSubscription(
  b: Billing,
  account: string,
  subId: string,
  o: {
    reason: Stripe.Subscription.CancellationDetails.Reason;
    comment?: string | null;
    feedback?: Stripe.Subscription.CancellationDetails.Feedback | null;
    keepCanceledAt?: boolean;
    request?: Stripe.Event.Request;
  },
): Stripe.Subscription {
  const sub = requireSubscription(b, subId, account);
  const now = b.core.now();
  const wasIncomplete = sub.status === 'incomplete';
  sub.status = 'canceled';
  sub.ended_at = now;
  if (!o.keepCanceledAt || sub.canceled_at === null) sub.canceled_at = now;
  sub.cancellation_details = {
    comment: o.comment ?? sub.cancellation_details?.comment ?? null,
    feedback: o.feedback ?? sub.cancellation_details?.feedback ?? null,
    feedback_option: sub.cancellation_details?.feedback_option ?? null,
    reason: o.reason,
  };
  const saved = b.subscriptions.save(sub);
  // Stripe stops collecting the subscription's open invoices; an incomplete one's first invoice is voided.
  for (const inv of b.invoices.list(account, (i) => i.parent?.subscription_details?.subscription === subId && i.status === 'open')) {
    if (wasIncomplete) voidInvoice(b, account, inv.id);
    else stopCollection(b, account, inv.id);
  }
  b.core.emitEvent({ type: 'customer.subscription.deleted', object: saved, account, ...(o.request ? { request: o.request } : {}) });
  return requireSubscription(b, subId, account);
}

/** The first invoice was not paid within 23 hours: `incomplete_expired`, invoice voided. */
export function expireIncomplete(b: Billing, account: string, subId: string, request: Stripe.Event.Request): Stripe.Subscription {
  const before = requireSubscription(b, subId, account);
  const latest = typeof before.latest_invoice === 'string' ? before.latest_invoice : null;
  if (latest) {
    const inv = b.invoices.get(latest, account);
    if (inv && inv.status === 'open') voidInvoice(b, account, latest);
  }
  const next = clone(requireSubscription(b, subId, account));
  next.status = 'incomplete_expired';
  next.ended_at = b.core.now();
  return commitSubscription(b, account, before, next, request);
}
