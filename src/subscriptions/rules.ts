// The rules of plans and subscriptions, with no database and no Stripe calls: what a seller may
// offer, the parameters we send Stripe (derived from our rows alone, so a retry sends the same
// request with the same key), what a Stripe subscription or invoice means for our rows, and the
// words a person reads for each status.
import type Stripe from 'stripe';
import type { Plan, PlanInterval, SubscriptionRow, SubscriptionStatus } from '../db/schema.ts';
import { formatMoney, isSupportedCurrency, MAXIMUM_AMOUNT, minimumCharge, parseMoney, type Currency } from '../money.ts';
import { idOf } from '../stripe/ids.ts';

export const PLAN_NAME_MAX = 120;
export const PLAN_DESCRIPTION_MAX = 2000;
export const TRIAL_DAYS_MAX = 730;

export interface PlanForm {
  name: string;
  description?: string | undefined;
  amount: string;
  currency: string;
  interval: string;
  trial_days?: string | undefined;
}

export interface PlanInput {
  name: string;
  description: string;
  amount: number;
  currency: Currency;
  interval: PlanInterval;
  trialDays: number | null;
}

/** The checks a schema cannot express (the amount depends on the currency). */
export function validatePlan(form: PlanForm): { ok: true; value: PlanInput } | { ok: false; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const name = form.name.trim();
  if (name === '') errors.name = `Enter a name (up to ${PLAN_NAME_MAX} characters)`;
  const currency = form.currency.toLowerCase();
  let amount = 0;
  if (!isSupportedCurrency(currency)) errors.currency = 'Choose one of the listed currencies';
  else {
    const checked = checkPlanAmount(form.amount, currency);
    if (checked.ok) amount = checked.amount;
    else errors.amount = checked.message;
  }
  const interval = form.interval === 'month' || form.interval === 'year' ? form.interval : undefined;
  if (interval === undefined) errors.interval = 'Choose monthly or yearly';
  let trialDays: number | null = null;
  const trialText = (form.trial_days ?? '').trim();
  if (trialText !== '') {
    if (!/^\d+$/.test(trialText) || Number(trialText) < 1 || Number(trialText) > TRIAL_DAYS_MAX)
      errors.trial_days = `Enter a trial of 1 to ${TRIAL_DAYS_MAX} days, or leave it empty`;
    else trialDays = Number(trialText);
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, value: { name, description: (form.description ?? '').trim(), amount, currency: currency as Currency, interval: interval!, trialDays } };
}

export function checkPlanAmount(text: string, currency: Currency): { ok: true; amount: number } | { ok: false; message: string } {
  const parsed = parseMoney(text, currency);
  if (!parsed.ok) return parsed;
  if (parsed.amount < minimumCharge(currency))
    return { ok: false, message: `The minimum in ${currency.toUpperCase()} is ${formatMoney(minimumCharge(currency), currency)} (Stripe's minimum charge)` };
  if (parsed.amount > MAXIMUM_AMOUNT) return { ok: false, message: `The maximum in ${currency.toUpperCase()} is ${formatMoney(MAXIMUM_AMOUNT, currency)}` };
  return parsed;
}

// ---- What we send Stripe ----

export const planLookupKey = (planId: string) => `plan_${planId}`;
export const productKey = (planId: string) => `plan:${planId}:product`;
export const priceKey = (plan: Pick<Plan, 'id' | 'price_version'>) => `plan:${plan.id}:price:${plan.price_version}`;

export function productParams(plan: Plan): Stripe.ProductCreateParams {
  return {
    name: plan.name,
    ...(plan.description !== '' ? { description: plan.description } : {}),
    metadata: { seller_id: plan.seller_id, plan_id: plan.id },
  };
}

/** The current version's Price; a later version takes the lookup key over from the previous one. */
export function priceParams(plan: Plan, productId: string): Stripe.PriceCreateParams {
  return {
    product: productId,
    currency: plan.currency,
    unit_amount: plan.amount,
    recurring: { interval: plan.interval },
    lookup_key: plan.lookup_key,
    ...(plan.price_version > 1 ? { transfer_lookup_key: true } : {}),
    metadata: { seller_id: plan.seller_id, plan_id: plan.id, price_version: String(plan.price_version) },
  };
}

/**
 * The fee policy's percentage as Stripe's application_fee_percent (two decimals: basis points / 100
 * is exact). The policy's fixed part is not applied to subscriptions: Stripe takes a percentage of
 * each subscription invoice and has no fixed per-invoice amount for them (README, "Subscriptions").
 */
export const applicationFeePercent = (basisPoints: number) => basisPoints / 100;

export const subscriptionCreateKey = (subscriptionId: string) => `subscription:${subscriptionId}:create`;
export const subscriptionCheckoutKey = (subscriptionId: string) => `subscription:${subscriptionId}:checkout`;

function subscriptionMetadata(row: SubscriptionRow): Record<string, string> {
  return { subscription_id: row.id, plan_id: row.plan_id, seller_id: row.seller_id, buyer_id: row.buyer_id };
}

/** The custom flow: incomplete until the buyer pays the first invoice with the Payment Element. */
export function subscriptionCreateParams(row: SubscriptionRow, plan: Pick<Plan, 'trial_days'>): Stripe.SubscriptionCreateParams {
  return {
    customer: row.stripe_customer_id!,
    items: [{ price: row.stripe_price_id! }],
    payment_behavior: 'default_incomplete',
    payment_settings: { save_default_payment_method: 'on_subscription' },
    transfer_data: { destination: row.destination_account },
    application_fee_percent: applicationFeePercent(row.fee_basis_points),
    ...(plan.trial_days !== null ? { trial_period_days: plan.trial_days } : {}),
    metadata: subscriptionMetadata(row),
    expand: ['latest_invoice.confirmation_secret', 'pending_setup_intent'],
  };
}

/** Hosted Checkout in subscription mode, with the same destination, fee and trial. */
export function checkoutSubscriptionParams(row: SubscriptionRow, plan: Pick<Plan, 'trial_days'>, publicUrl: string): Stripe.Checkout.SessionCreateParams {
  return {
    mode: 'subscription',
    ui_mode: 'hosted_page',
    customer: row.stripe_customer_id!,
    line_items: [{ price: row.stripe_price_id!, quantity: 1 }],
    client_reference_id: row.id,
    success_url: `${publicUrl}/subscriptions/${row.id}/complete`,
    cancel_url: `${publicUrl}/subscriptions/${row.id}/complete?canceled=1`,
    metadata: subscriptionMetadata(row),
    subscription_data: {
      transfer_data: { destination: row.destination_account },
      application_fee_percent: applicationFeePercent(row.fee_basis_points),
      ...(plan.trial_days !== null ? { trial_period_days: plan.trial_days } : {}),
      metadata: subscriptionMetadata(row),
    },
  };
}

// ---- What Stripe's objects mean for our rows ----

const STRIPE_STATUSES: readonly string[] = ['incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', 'unpaid', 'canceled', 'paused'];

export function subscriptionStatusOf(sub: Pick<Stripe.Subscription, 'status'>): SubscriptionStatus {
  if (!STRIPE_STATUSES.includes(sub.status)) throw new Error(`unknown subscription status ${sub.status}`);
  return sub.status as SubscriptionStatus;
}

/** Our subscription id, from the metadata we put on everything we create. */
export function ourSubscriptionIdOf(object: { metadata?: Stripe.Metadata | null } | null | undefined): string | undefined {
  const id = object?.metadata?.subscription_id;
  return typeof id === 'string' && /^[0-9a-f-]{36}$/.test(id) ? id : undefined;
}

const at = (unix: number | null | undefined) => (unix === null || unix === undefined ? null : new Date(unix * 1000));

export interface SubscriptionSnapshot {
  stripeSubscriptionId: string;
  ourId: string | undefined;
  status: SubscriptionStatus;
  priceId: string | null;
  amount: number | null;
  cancelAtPeriodEnd: boolean;
  currentPeriodStart: Date | null;
  currentPeriodEnd: Date | null;
  trialEnd: Date | null;
  canceledAt: Date | null;
  endedAt: Date | null;
  latestInvoiceId: string | null;
  customerId: string | null;
}

/** A Stripe subscription as our row sees it; the billing period is the item's (basil moved it there). */
export function subscriptionSnapshot(sub: Stripe.Subscription): SubscriptionSnapshot {
  const item = sub.items.data[0];
  return {
    stripeSubscriptionId: sub.id,
    ourId: ourSubscriptionIdOf(sub),
    status: subscriptionStatusOf(sub),
    priceId: item?.price.id ?? null,
    amount: item?.price.unit_amount ?? null,
    cancelAtPeriodEnd: sub.cancel_at_period_end || sub.cancel_at !== null,
    currentPeriodStart: at(item?.current_period_start),
    currentPeriodEnd: at(item?.current_period_end),
    trialEnd: at(sub.trial_end),
    canceledAt: at(sub.canceled_at),
    endedAt: at(sub.ended_at),
    latestInvoiceId: idOf(sub.latest_invoice),
    customerId: idOf(sub.customer),
  };
}

/** The subscription an invoice bills (basil: under `parent`, no more `invoice.subscription`). */
export function subscriptionIdOfInvoice(invoice: Stripe.Invoice): string | null {
  return idOf(invoice.parent?.subscription_details?.subscription);
}

// ---- Words ----

const STATUS_WORDS: Record<SubscriptionStatus, string> = {
  pending: 'Not started: the first payment was never made',
  incomplete: 'Waiting for the first payment',
  incomplete_expired: 'Never started: the first payment was not made in time',
  trialing: 'Free trial',
  active: 'Active',
  past_due: 'Payment failed: we are retrying',
  unpaid: 'Unpaid: renewals are not being charged',
  canceled: 'Canceled',
  paused: 'Paused',
};

export function statusWords(status: SubscriptionStatus, cancelAtPeriodEnd = false): string {
  if (cancelAtPeriodEnd && (status === 'active' || status === 'trialing')) return `${STATUS_WORDS[status]}, ends at the end of the period`;
  return STATUS_WORDS[status];
}

export function statusBadge(status: SubscriptionStatus): string {
  switch (status) {
    case 'active':
    case 'trialing':
      return 'badge-ok';
    case 'past_due':
    case 'unpaid':
    case 'incomplete':
    case 'paused':
      return 'badge-warn';
    default:
      return '';
  }
}

/** Statuses in which the buyer is (still) subscribed and renewals may happen. */
export const LIVE_AT_STRIPE: SubscriptionStatus[] = ['trialing', 'active', 'past_due', 'unpaid', 'paused'];
/** What counts toward monthly recurring revenue. */
export const REVENUE_STATUSES: SubscriptionStatus[] = ['active', 'past_due'];

/** The plan's amount per month, in minor units (a yearly plan counts a twelfth, rounded half up). */
export function monthlyAmount(amount: number, interval: PlanInterval): number {
  return interval === 'month' ? amount : Math.floor((amount + 6) / 12);
}
