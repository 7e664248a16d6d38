/**
 * Builders for the SDK-typed Subscription, SubscriptionItem and (legacy) Plan objects. Pure
 * functions: no store access, no events.
 *
 * Billing periods live on the items (`current_period_start/end`), not on the subscription, at
 * this API version (basil removed `Subscription.current_period_*`). Every subscription is in
 * flexible billing mode, the default since 2025-09-30.clover.
 */
import type Stripe from 'stripe';
import { decimalString } from './prices.ts';

/** The `plan` mirror of a price that Stripe still puts on subscription items. */
export function planOf(price: Stripe.Price): Stripe.Plan {
  const recurring = price.recurring;
  return {
    id: price.id,
    object: 'plan',
    active: price.active,
    amount: price.unit_amount,
    amount_decimal: price.unit_amount === null ? null : decimalString(price.unit_amount),
    billing_scheme: price.billing_scheme,
    created: price.created,
    currency: price.currency,
    interval: recurring?.interval ?? 'month',
    interval_count: recurring?.interval_count ?? 1,
    livemode: false,
    metadata: price.metadata,
    meter: null,
    nickname: price.nickname,
    product: typeof price.product === 'string' ? price.product : price.product.id,
    tiers_mode: null,
    transform_usage: null,
    trial_period_days: recurring?.trial_period_days ?? null,
    usage_type: recurring?.usage_type ?? 'licensed',
  };
}

export function buildItem(o: {
  id: string;
  subscription: string;
  price: Stripe.Price;
  quantity: number;
  metadata: Record<string, string>;
  created: number;
  periodStart: number;
  periodEnd: number;
}): Stripe.SubscriptionItem {
  return {
    id: o.id,
    object: 'subscription_item',
    billing_thresholds: null,
    created: o.created,
    current_period_end: o.periodEnd,
    current_period_start: o.periodStart,
    current_trial: null,
    discounts: [],
    metadata: o.metadata,
    plan: planOf(o.price),
    price: o.price,
    quantity: o.quantity,
    subscription: o.subscription,
    tax_rates: [],
  };
}

export function itemsList(subscriptionId: string, items: Stripe.SubscriptionItem[]): Stripe.ApiList<Stripe.SubscriptionItem> {
  return { object: 'list', data: items, has_more: false, url: `/v1/subscription_items?subscription=${subscriptionId}` };
}

export interface SubscriptionInit {
  id: string;
  customer: string;
  currency: string;
  created: number;
  anchor: number;
  items: Stripe.SubscriptionItem[];
  status: Stripe.Subscription.Status;
  defaultPaymentMethod: string | null;
  description: string | null;
  metadata: Record<string, string>;
  applicationFeePercent: number | null;
  transferData: Stripe.Subscription.TransferData | null;
  onBehalfOf: string | null;
  trialStart: number | null;
  trialEnd: number | null;
  trialMissingPaymentMethod: Stripe.Subscription.TrialSettings.EndBehavior.MissingPaymentMethod;
  cancelAtPeriodEnd: boolean;
  cancelAt: number | null;
  saveDefaultPaymentMethod: Stripe.Subscription.PaymentSettings.SaveDefaultPaymentMethod;
}

export function buildSubscription(o: SubscriptionInit): Stripe.Subscription {
  return {
    id: o.id,
    object: 'subscription',
    application: null,
    application_fee_percent: o.applicationFeePercent,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor: o.anchor,
    billing_cycle_anchor_config: null,
    billing_mode: { flexible: { proration_discounts: 'included' }, type: 'flexible', updated_at: o.created },
    billing_schedules: [],
    billing_thresholds: null,
    cancel_at: o.cancelAt,
    cancel_at_period_end: o.cancelAtPeriodEnd,
    canceled_at: null,
    cancellation_details: { comment: null, feedback: null, feedback_option: null, reason: null },
    collection_method: 'charge_automatically',
    created: o.created,
    currency: o.currency,
    customer: o.customer,
    customer_account: null,
    days_until_due: null,
    default_payment_method: o.defaultPaymentMethod,
    default_source: null,
    default_tax_rates: [],
    description: o.description,
    discounts: [],
    ended_at: null,
    invoice_settings: { account_tax_ids: null, custom_fields: null, description: null, footer: null, issuer: { type: 'self' } },
    items: itemsList(o.id, o.items),
    latest_invoice: null,
    livemode: false,
    managed_payments: null,
    metadata: o.metadata,
    next_pending_invoice_item_invoice: null,
    on_behalf_of: o.onBehalfOf,
    pause_collection: null,
    payment_settings: { payment_method_options: null, payment_method_types: null, save_default_payment_method: o.saveDefaultPaymentMethod },
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: o.created,
    status: o.status,
    test_clock: null,
    transfer_data: o.transferData,
    trial_end: o.trialEnd,
    trial_settings: { end_behavior: { billing_cycle_anchor: null, missing_payment_method: o.trialMissingPaymentMethod } },
    trial_start: o.trialStart,
  };
}

/** The current period of a subscription: all its items share one (one interval per subscription). */
export function currentPeriod(sub: Stripe.Subscription): { start: number; end: number } {
  const first = sub.items.data[0];
  return { start: first?.current_period_start ?? sub.created, end: first?.current_period_end ?? sub.created };
}

/** The recurring interval shared by the subscription's items. */
export function recurrenceOf(sub: Stripe.Subscription): Stripe.Price.Recurring {
  const r = sub.items.data[0]?.price.recurring;
  if (!r) throw new Error(`subscription ${sub.id} has no recurring item`);
  return r;
}

export function idOf(v: string | { id: string } | null | undefined): string | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? v : v.id;
}
