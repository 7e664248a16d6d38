/**
 * Subscription use cases: create, update (items and prorations, billing cycle anchor,
 * cancellation, Connect settings, trials), cancel, pause, resume, and the period turnover the
 * renewal ticker drives. Routes (parameter parsing) live in subscription-routes.ts; the status
 * transitions in subscription-status.ts; invoice collection in collection.ts.
 *
 * Each subscription invoice is charged through a PaymentIntent (charging.ts): a destination
 * charge when the subscription has `transfer_data`, with an application fee of
 * `application_fee_percent` of the amount due.
 */
import type Stripe from 'stripe';
import { invalidRequest, cardError } from '../../core/errors.ts';
import type { Billing } from './context.ts';
import { NO_REQUEST } from './context.ts';
import { buildItem, buildSubscription, currentPeriod, idOf, itemsList, recurrenceOf } from './subscription-objects.ts';
import { prorationLine, subscriptionLine } from './invoice-objects.ts';
import { createDraftInvoice, finalizeInvoice, productName } from './invoices.ts';
import { collectInvoice, paymentMethodFor } from './collection.ts';
import { commitSubscription, endSubscription, expireIncomplete, requireSubscription } from './subscription-status.ts';
import { boundary, nextBoundary } from './periods.ts';
import { prorate } from './money.ts';
import { previousAttributes } from './diff.ts';
import { RENEWAL_FINALIZE_DELAY, TRIAL_WILL_END_NOTICE } from './dunning.ts';
import { customerDefaultPaymentMethod, requireCustomer } from './customers.ts';
import { createSetupIntent } from './setup-intents.ts';

export interface SubscriptionInternal {
  /** Proration lines waiting for the next invoice (`create_prorations`). */
  pendingLines?: Stripe.InvoiceLineItem[];
  trialWillEndSent?: boolean;
  /** Period end for which `invoice.upcoming` was sent. */
  upcomingSentFor?: number;
}

export function subscriptionInternal(b: Billing, id: string): SubscriptionInternal {
  return b.subscriptions.internal(id) as unknown as SubscriptionInternal;
}

function setSubscriptionInternal(b: Billing, id: string, patch: Partial<SubscriptionInternal>): void {
  b.subscriptions.setInternal(id, patch as Record<string, unknown>);
}

export type PaymentBehavior = 'allow_incomplete' | 'default_incomplete' | 'error_if_incomplete';

export interface NewItem {
  price: Stripe.Price;
  quantity: number;
  metadata: Record<string, string>;
}

export interface NewSubscription {
  customer: string;
  items: NewItem[];
  defaultPaymentMethod: string | null;
  paymentBehavior: PaymentBehavior;
  offSession: boolean;
  applicationFeePercent: number | null;
  transferData: Stripe.Subscription.TransferData | null;
  onBehalfOf: string | null;
  trialEnd: number | null;
  trialMissingPaymentMethod: Stripe.Subscription.TrialSettings.EndBehavior.MissingPaymentMethod;
  cancelAtPeriodEnd: boolean;
  cancelAt: number | null;
  description: string | null;
  metadata: Record<string, string>;
  saveDefaultPaymentMethod: Stripe.Subscription.PaymentSettings.SaveDefaultPaymentMethod;
}

const NO_PAYMENT_METHOD =
  'This customer has no attached payment source or default payment method. Please consider adding a default payment method. For more information, visit https://stripe.com/docs/billing/subscriptions/payment-methods-setting#payment-method-priority.';

/** All items of a subscription bill together: one currency and one interval. */
export function checkItemsCompatible(items: Array<{ price: Stripe.Price }>, param = 'items'): void {
  const first = items[0]?.price;
  if (!first) throw invalidRequest('A subscription needs at least one item.', { code: 'parameter_missing', param });
  items.forEach(({ price }, i) => {
    if (price.type !== 'recurring' || !price.recurring) {
      throw invalidRequest(`The price specified is set to \`type=one_time\` but this field only accepts prices with \`type=recurring\`.`, {
        param: `${param}[${i}][price]`,
      });
    }
    if (price.currency !== first.currency)
      throw invalidRequest('All prices on a subscription must have the same currency.', { param: `${param}[${i}][price]` });
    if (price.recurring.interval !== first.recurring?.interval || price.recurring.interval_count !== first.recurring.interval_count) {
      throw invalidRequest('All prices on a subscription must have the same `recurring.interval` and `recurring.interval_count`.', {
        param: `${param}[${i}][price]`,
      });
    }
  });
}

function linesForPeriod(b: Billing, sub: Stripe.Subscription, invoiceId: string, start: number, end: number, trial: boolean): Stripe.InvoiceLineItem[] {
  return sub.items.data.map((item) => {
    const name = productName(b, item.price);
    const line = subscriptionLine({
      id: b.core.newId('il'),
      invoice: invoiceId,
      subscription: sub.id,
      item,
      productName: name,
      periodStart: start,
      periodEnd: end,
    });
    if (!trial) return line;
    return { ...line, amount: 0, subtotal: 0, description: `Trial period for ${name}` };
  });
}

function takePendingLines(b: Billing, subId: string, invoiceId: string): Stripe.InvoiceLineItem[] {
  const pending = subscriptionInternal(b, subId).pendingLines ?? [];
  setSubscriptionInternal(b, subId, { pendingLines: [] });
  return pending.map((l) => ({ ...l, invoice: invoiceId }));
}

/** Finalize an invoice created by an API call and try to collect it at once. */
function finalizeAndCollect(
  b: Billing,
  account: string,
  invoiceId: string,
  o: { offSession: boolean; attempt: boolean },
): ReturnType<typeof collectInvoice> | undefined {
  const inv = b.invoices.require(invoiceId, account);
  const { needsPayment } = finalizeInvoice(b, account, invoiceId, paymentMethodFor(b, account, inv));
  if (!needsPayment || !o.attempt) return undefined;
  return collectInvoice(b, account, invoiceId, { automatic: false, offSession: o.offSession });
}

export function createSubscription(b: Billing, account: string, input: NewSubscription): Stripe.Subscription {
  const customer = requireCustomer(b, input.customer, account, 'customer');
  checkItemsCompatible(input.items);
  const recurring = input.items[0]?.price.recurring;
  if (!recurring) throw invalidRequest('A subscription needs a recurring price.', { param: 'items' });
  const now = b.core.now();
  const trial = input.trialEnd !== null && input.trialEnd > now;
  const defaultPm = input.defaultPaymentMethod ?? customerDefaultPaymentMethod(customer);
  const firstAmount = trial ? 0 : input.items.reduce((n, it) => n + (it.price.unit_amount ?? 0) * it.quantity, 0);
  if (firstAmount > 0 && input.paymentBehavior !== 'default_incomplete' && !defaultPm) {
    throw invalidRequest(NO_PAYMENT_METHOD, { code: 'resource_missing', param: 'default_payment_method' });
  }
  const anchor = trial ? (input.trialEnd ?? now) : now;
  const periodEnd = trial ? anchor : boundary(anchor, recurring.interval, recurring.interval_count, 1);
  const id = b.core.newId('sub');
  const items = input.items.map((it) =>
    buildItem({
      id: b.core.newId('si'),
      subscription: id,
      price: it.price,
      quantity: it.quantity,
      metadata: it.metadata,
      created: now,
      periodStart: now,
      periodEnd,
    }),
  );
  const sub = buildSubscription({
    id,
    customer: customer.id,
    currency: recurring && input.items[0] ? input.items[0].price.currency : 'usd',
    created: now,
    anchor,
    items,
    status: trial ? 'trialing' : 'incomplete',
    defaultPaymentMethod: input.defaultPaymentMethod,
    description: input.description,
    metadata: input.metadata,
    applicationFeePercent: input.applicationFeePercent,
    transferData: input.transferData,
    onBehalfOf: input.onBehalfOf,
    trialStart: trial ? now : null,
    trialEnd: trial ? input.trialEnd : null,
    trialMissingPaymentMethod: input.trialMissingPaymentMethod,
    cancelAtPeriodEnd: input.cancelAtPeriodEnd,
    cancelAt: input.cancelAtPeriodEnd ? periodEnd : input.cancelAt,
    saveDefaultPaymentMethod: input.saveDefaultPaymentMethod,
  });
  if (input.cancelAtPeriodEnd || input.cancelAt !== null) sub.canceled_at = now;
  b.subscriptions.insert(account, sub, { internal: {} });
  b.core.emitEvent({ type: 'customer.subscription.created', object: sub, account });

  const created = requireSubscription(b, id, account);
  const invoice = createDraftInvoice(b, account, created, {
    billingReason: 'subscription_create',
    lines: (invoiceId) => linesForPeriod(b, created, invoiceId, now, periodEnd, trial),
    periodStart: now,
    periodEnd: now,
  });
  const attempt = input.paymentBehavior !== 'default_incomplete';
  const collected = finalizeAndCollect(b, account, invoice.id, { offSession: input.offSession, attempt });
  if (trial && input.paymentBehavior === 'default_incomplete' && !defaultPm) {
    // Nothing to pay now: Stripe gives a SetupIntent to collect the card for the first renewal.
    const si = createSetupIntent(b, account, { customer: customer.id, usage: 'off_session', metadata: {}, onBehalfOf: input.onBehalfOf, description: null });
    b.subscriptions.update(id, (s) => void (s.pending_setup_intent = si.id));
  }
  if (trial && input.trialEnd !== null && input.trialEnd - now <= TRIAL_WILL_END_NOTICE) sendTrialWillEnd(b, account, id);
  if (collected && collected.outcome.kind !== 'succeeded' && input.paymentBehavior === 'error_if_incomplete') {
    // Stripe answers 402 and keeps no live subscription: it ends at once as incomplete_expired (invoice voided).
    const pi = 'pi' in collected.outcome ? collected.outcome.pi : null;
    const message = pi?.last_payment_error?.message ?? 'Your card was declined.';
    const code = pi?.status === 'requires_action' ? 'subscription_payment_intent_requires_action' : (pi?.last_payment_error?.code ?? 'card_declined');
    expireIncomplete(b, account, id, { id: null, idempotency_key: null });
    throw cardError(message, {
      code,
      ...(pi?.last_payment_error?.decline_code ? { decline_code: pi.last_payment_error.decline_code } : {}),
      extra: { payment_intent: pi },
    });
  }
  return requireSubscription(b, id, account);
}

export function sendTrialWillEnd(b: Billing, account: string, subId: string, request?: Stripe.Event.Request): void {
  if (subscriptionInternal(b, subId).trialWillEndSent) return;
  setSubscriptionInternal(b, subId, { trialWillEndSent: true });
  b.core.emitEvent({ type: 'customer.subscription.trial_will_end', object: requireSubscription(b, subId, account), account, ...(request ? { request } : {}) });
}

// ---------------------------------------------------------------------------------------------
// Updates
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Cancel, pause, resume
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Period turnover (renewals.ts calls these at period ends)
// ---------------------------------------------------------------------------------------------

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
