/**
 * Subscription use cases: create, and the helpers the other use cases share (invoice lines for
 * a period, pending prorations, finalize-and-collect). Updates are in subscription-update.ts;
 * cancel, pause, resume and the period turnover the renewal ticker drives in
 * subscription-lifecycle.ts. Routes (parameter parsing) live in subscription-routes.ts; the
 * status transitions in subscription-status.ts; invoice collection in collection.ts.
 *
 * Each subscription invoice is charged through a PaymentIntent (charging.ts): a destination
 * charge when the subscription has `transfer_data`, with an application fee of
 * `application_fee_percent` of the amount due.
 */
import type Stripe from 'stripe';
import { invalidRequest, cardError } from '../../core/errors.ts';
import type { Billing } from './context.ts';
import { buildItem, buildSubscription } from './subscription-objects.ts';
import { subscriptionLine } from './invoice-objects.ts';
import { createDraftInvoice, finalizeInvoice, productName } from './invoices.ts';
import { collectInvoice, paymentMethodFor } from './collection.ts';
import { expireIncomplete, requireSubscription } from './subscription-status.ts';
import { boundary } from './periods.ts';
import { TRIAL_WILL_END_NOTICE } from './dunning.ts';
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
  return b.subscriptions.internal(id);
}

export function setSubscriptionInternal(b: Billing, id: string, patch: Partial<SubscriptionInternal>): void {
  b.subscriptions.setInternal(id, patch);
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

export function linesForPeriod(b: Billing, sub: Stripe.Subscription, invoiceId: string, start: number, end: number, trial: boolean): Stripe.InvoiceLineItem[] {
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

export function takePendingLines(b: Billing, subId: string, invoiceId: string): Stripe.InvoiceLineItem[] {
  const pending = subscriptionInternal(b, subId).pendingLines ?? [];
  setSubscriptionInternal(b, subId, { pendingLines: [] });
  return pending.map((l) => ({ ...l, invoice: invoiceId }));
}

/** Finalize an invoice created by an API call and try to collect it at once. */
export function finalizeAndCollect(
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
