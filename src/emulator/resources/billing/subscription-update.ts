/**
 * Updating a subscription: items and prorations (`proration_behavior`), `billing_cycle_anchor:
 * {type: 'now'}`, cancellation at period end or at a time, Connect settings, trials, collection
 * pauses. Prorations wait for the next invoice unless `always_invoice` (or a new anchor) bills
 * them at once. Split from subscriptions.ts (creation) for size.
 */
import type Stripe from 'stripe';
import { invalidRequest } from '../../core/errors.ts';
import type { Billing } from './context.ts';
import { buildItem, currentPeriod, idOf, itemsList, recurrenceOf } from './subscription-objects.ts';
import { prorationLine } from './invoice-objects.ts';
import { createDraftInvoice, productName } from './invoices.ts';
import { commitSubscription, requireSubscription } from './subscription-status.ts';
import { boundary } from './periods.ts';
import { prorate } from './money.ts';
import { finalizeAndCollect, linesForPeriod, takePendingLines, checkItemsCompatible, subscriptionInternal, setSubscriptionInternal } from './subscriptions.ts';

export interface ItemChange {
  id?: string | undefined;
  price?: Stripe.Price | undefined;
  quantity?: number | undefined;
  metadata?: Record<string, string> | undefined;
  deleted?: boolean | undefined;
}

export interface SubscriptionChanges {
  items?: ItemChange[];
  prorationBehavior: 'create_prorations' | 'none' | 'always_invoice';
  prorationDate?: number | undefined;
  resetAnchor: boolean;
  cancelAtPeriodEnd?: boolean | undefined;
  cancelAt?: number | null | undefined;
  cancellationComment?: string | null | undefined;
  cancellationFeedback?: Stripe.Subscription.CancellationDetails.Feedback | null | undefined;
  defaultPaymentMethod?: string | null | undefined;
  description?: string | null | undefined;
  metadata?: Record<string, string> | undefined;
  transferData?: Stripe.Subscription.TransferData | null | undefined;
  applicationFeePercent?: number | null | undefined;
  onBehalfOf?: string | null | undefined;
  trialEnd?: number | 'now' | undefined;
  pauseCollection?: Stripe.Subscription.PauseCollection | null | undefined;
  saveDefaultPaymentMethod?: Stripe.Subscription.PaymentSettings.SaveDefaultPaymentMethod | undefined;
  offSession: boolean;
}

/** Fields an incomplete subscription still accepts (Subscription.status doc). */
const INCOMPLETE_EDITABLE = new Set(['metadata', 'defaultPaymentMethod', 'description', 'cancellationComment', 'cancellationFeedback']);
const ENDED_EDITABLE = new Set(['metadata', 'cancellationComment', 'cancellationFeedback']);

function changedKeys(c: SubscriptionChanges): string[] {
  return Object.entries(c)
    .filter(([k, v]) => v !== undefined && !['prorationBehavior', 'resetAnchor', 'offSession', 'prorationDate'].includes(k))
    .map(([k]) => k)
    .concat(c.resetAnchor ? ['billingCycleAnchor'] : []);
}

export function updateSubscription(b: Billing, account: string, id: string, c: SubscriptionChanges): Stripe.Subscription {
  const before = requireSubscription(b, id, account);
  const keys = changedKeys(c);
  if (before.status === 'canceled' || before.status === 'incomplete_expired') {
    const bad = keys.find((k) => !ENDED_EDITABLE.has(k));
    if (bad) throw invalidRequest(`A canceled subscription can only update its cancellation_details and metadata.`, { param: bad });
  }
  if (before.status === 'incomplete') {
    const bad = keys.find((k) => !INCOMPLETE_EDITABLE.has(k));
    if (bad)
      throw invalidRequest(
        'A subscription in the incomplete status can only update its metadata, description and default payment method until its first invoice is paid.',
        { param: bad },
      );
  }
  const now = c.prorationDate ?? b.core.now();
  const sub = structuredClone(before);
  const period = currentPeriod(before);

  if (c.metadata !== undefined) sub.metadata = c.metadata;
  if (c.description !== undefined) sub.description = c.description;
  if (c.defaultPaymentMethod !== undefined) {
    if (c.defaultPaymentMethod) {
      const pm = b.pay.pms.get(c.defaultPaymentMethod, account);
      if (!pm || pm.customer !== idOf(sub.customer)) {
        throw invalidRequest(
          `The customer does not have a payment method with the ID ${c.defaultPaymentMethod}. The payment method must be attached to the customer.`,
          { code: 'resource_missing', param: 'default_payment_method' },
        );
      }
    }
    sub.default_payment_method = c.defaultPaymentMethod;
  }
  if (c.cancellationComment !== undefined || c.cancellationFeedback !== undefined) {
    sub.cancellation_details = {
      comment: c.cancellationComment !== undefined ? c.cancellationComment : (sub.cancellation_details?.comment ?? null),
      feedback: c.cancellationFeedback !== undefined ? c.cancellationFeedback : (sub.cancellation_details?.feedback ?? null),
      feedback_option: sub.cancellation_details?.feedback_option ?? null,
      reason: sub.cancellation_details?.reason ?? null,
    };
  }
  if (c.transferData !== undefined) sub.transfer_data = c.transferData;
  if (c.applicationFeePercent !== undefined) sub.application_fee_percent = c.applicationFeePercent;
  if (c.onBehalfOf !== undefined) sub.on_behalf_of = c.onBehalfOf;
  if (c.pauseCollection !== undefined) sub.pause_collection = c.pauseCollection;
  if (c.saveDefaultPaymentMethod !== undefined && sub.payment_settings) sub.payment_settings.save_default_payment_method = c.saveDefaultPaymentMethod;
  if (c.cancelAtPeriodEnd !== undefined) {
    sub.cancel_at_period_end = c.cancelAtPeriodEnd;
    sub.cancel_at = c.cancelAtPeriodEnd ? period.end : null;
    sub.canceled_at = c.cancelAtPeriodEnd ? b.core.now() : null;
    if (!c.cancelAtPeriodEnd && sub.cancellation_details) sub.cancellation_details = { ...sub.cancellation_details, comment: null, feedback: null };
  }
  if (c.cancelAt !== undefined) {
    if (c.cancelAt !== null && c.cancelAt <= b.core.now()) throw invalidRequest('cancel_at must be in the future.', { param: 'cancel_at' });
    sub.cancel_at = c.cancelAt;
    sub.cancel_at_period_end = false;
    sub.canceled_at = c.cancelAt === null ? null : b.core.now();
  }

  // Items: changes, additions, removals; prorations for the rest of the period.
  const prorations: Array<{ item: Stripe.SubscriptionItem; price: Stripe.Price; quantity: number; amount: number }> = [];
  let intervalChanged = false;
  if (c.items) {
    const items = [...sub.items.data];
    const oldRecurring = recurrenceOf(before);
    for (const [i, change] of c.items.entries()) {
      if (change.id) {
        const idx = items.findIndex((x) => x.id === change.id);
        const existing = items[idx];
        if (!existing) throw invalidRequest(`No such subscription item: '${change.id}'`, { code: 'resource_missing', param: `items[${i}][id]` });
        if (change.deleted) {
          prorations.push({
            item: existing,
            price: existing.price,
            quantity: existing.quantity ?? 1,
            amount: -((existing.price.unit_amount ?? 0) * (existing.quantity ?? 1)),
          });
          items.splice(idx, 1);
          continue;
        }
        const price = change.price ?? existing.price;
        const quantity = change.quantity ?? existing.quantity ?? 1;
        if (price.id !== existing.price.id || quantity !== existing.quantity) {
          prorations.push({
            item: existing,
            price: existing.price,
            quantity: existing.quantity ?? 1,
            amount: -((existing.price.unit_amount ?? 0) * (existing.quantity ?? 1)),
          });
          const updated = buildItem({
            id: existing.id,
            subscription: sub.id,
            price,
            quantity,
            metadata: change.metadata ?? existing.metadata,
            created: existing.created,
            periodStart: existing.current_period_start,
            periodEnd: existing.current_period_end,
          });
          prorations.push({ item: updated, price, quantity, amount: (price.unit_amount ?? 0) * quantity });
          items[idx] = updated;
        } else if (change.metadata) {
          items[idx] = { ...existing, metadata: change.metadata };
        }
      } else {
        if (!change.price) throw invalidRequest('Each new item needs a price.', { code: 'parameter_missing', param: `items[${i}][price]` });
        const quantity = change.quantity ?? 1;
        const added = buildItem({
          id: b.core.newId('si'),
          subscription: sub.id,
          price: change.price,
          quantity,
          metadata: change.metadata ?? {},
          created: b.core.now(),
          periodStart: period.start,
          periodEnd: period.end,
        });
        prorations.push({ item: added, price: change.price, quantity, amount: (change.price.unit_amount ?? 0) * quantity });
        items.push(added);
      }
    }
    checkItemsCompatible(items);
    const newRecurring = items[0]?.price.recurring;
    intervalChanged = !!newRecurring && (newRecurring.interval !== oldRecurring.interval || newRecurring.interval_count !== oldRecurring.interval_count);
    sub.items = itemsList(sub.id, items);
  }

  // Ending a trial early, or moving it.
  let endTrialNow = false;
  if (c.trialEnd !== undefined) {
    if (c.trialEnd === 'now' || c.trialEnd <= b.core.now()) endTrialNow = sub.status === 'trialing';
    else {
      sub.trial_end = c.trialEnd;
      if (sub.status === 'trialing')
        sub.items = itemsList(
          sub.id,
          sub.items.data.map((x) => ({ ...x, current_period_end: c.trialEnd as number })),
        );
      sub.billing_cycle_anchor = c.trialEnd;
    }
  }

  const resetAnchor = c.resetAnchor || intervalChanged || endTrialNow;
  const remaining = Math.max(0, period.end - now);
  const length = Math.max(1, period.end - period.start);
  const wasTrialing = before.status === 'trialing';
  const prorationLines: Stripe.InvoiceLineItem[] =
    c.prorationBehavior === 'none' || wasTrialing
      ? []
      : prorations
          .map((p) => ({ ...p, value: prorate(p.amount, remaining, length) }))
          .filter((p) => p.value !== 0)
          // With a new anchor the new price is billed in full for the new period: only credit the old one.
          .filter((p) => !(resetAnchor && p.value > 0))
          .map((p) =>
            prorationLine({
              id: b.core.newId('il'),
              invoice: null,
              subscription: sub.id,
              itemId: p.item.id,
              price: p.price,
              quantity: p.quantity,
              amount: p.value,
              productName: productName(b, p.price),
              periodStart: now,
              periodEnd: period.end,
            }),
          );

  if (resetAnchor) {
    const r = sub.items.data[0]?.price.recurring;
    if (!r) throw invalidRequest('A subscription needs a recurring price.', { param: 'items' });
    const start = b.core.now();
    const end = boundary(start, r.interval, r.interval_count, 1);
    sub.billing_cycle_anchor = start;
    sub.items = itemsList(
      sub.id,
      sub.items.data.map((x) => ({ ...x, current_period_start: start, current_period_end: end })),
    );
    if (sub.cancel_at_period_end) sub.cancel_at = end;
    if (endTrialNow) {
      sub.trial_end = start;
      sub.status = 'active';
    }
  }

  const pending = subscriptionInternal(b, id).pendingLines ?? [];
  setSubscriptionInternal(b, id, { pendingLines: [...prorationLines, ...pending] });
  const saved = commitSubscription(b, account, before, sub);

  if (resetAnchor || (c.prorationBehavior === 'always_invoice' && prorationLines.length > 0)) {
    const p = currentPeriod(saved);
    const invoice = createDraftInvoice(b, account, saved, {
      billingReason: 'subscription_update',
      lines: (invoiceId) => [...takePendingLines(b, id, invoiceId), ...(resetAnchor ? linesForPeriod(b, saved, invoiceId, p.start, p.end, false) : [])],
      periodStart: period.start,
      periodEnd: now,
    });
    finalizeAndCollect(b, account, invoice.id, { offSession: c.offSession, attempt: true });
  }
  return requireSubscription(b, id, account);
}
