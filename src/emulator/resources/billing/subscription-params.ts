/**
 * Parameters shared by `/v1/subscriptions` and Checkout's `subscription_data`: their specs and
 * readers (items' prices, Connect settings, trials). Readers take a `ParamSource` so the same
 * checks report `transfer_data[destination]` for the API and
 * `subscription_data[transfer_data][destination]` for Checkout.
 */
import type Stripe from 'stripe';
import { p, PAYMENT_METHOD_TYPES_REMOVED, str, int, bool, obj, getParam, type Params, type ParamValue } from '../../core/params.ts';
import { invalidRequest } from '../../core/errors.ts';
import type { Billing } from './context.ts';
import { createPrice, requirePrice, recurringSpec } from './prices.ts';
import { requireProduct } from './products.ts';
import { validPercent } from './money.ts';
import { requireTransferDestination } from '../payments/api.ts';
import type { NewItem } from './subscriptions.ts';

export const priceDataSpec = p.object(
  {
    currency: p.string,
    product: p.string,
    unit_amount: p.integer,
    unit_amount_decimal: p.string,
    recurring: recurringSpec,
    tax_behavior: p.enum('exclusive', 'inclusive', 'unspecified'),
  },
  ['currency', 'product', 'recurring'],
);
export const itemCreateSpec = p.object({
  price: p.string,
  price_data: priceDataSpec,
  quantity: p.int(0),
  metadata: p.hash,
  discounts: p.any,
  tax_rates: p.any,
  billing_thresholds: p.any,
});
export const itemUpdateSpec = p.object({
  id: p.string,
  price: p.string,
  price_data: priceDataSpec,
  quantity: p.int(0),
  metadata: p.hash,
  deleted: p.boolean,
  clear_usage: p.boolean,
  discounts: p.any,
  tax_rates: p.any,
  billing_thresholds: p.any,
});
export const transferDataSpec = p.object({ destination: p.string, amount_percent: p.number }, ['destination']);
export const paymentSettingsSpec = {
  save_default_payment_method: p.enum('off', 'on_subscription'),
  // Refused as everywhere else (400 payment_method_types_no_longer_supported, stripe-facts §1): the
  // project chooses payment methods dynamically and must not come to rely on this parameter. The
  // object still shows the read-only `payment_settings.payment_method_types: null`, as Stripe's does.
  payment_method_types: PAYMENT_METHOD_TYPES_REMOVED,
  payment_method_options: p.any,
};
export const trialSettingsSpec = {
  end_behavior: p.object({ missing_payment_method: p.enum('cancel', 'create_invoice', 'pause') }, ['missing_payment_method']),
};
export const feedbackSpec = p.enum(
  'customer_service',
  'low_quality',
  'missing_features',
  'other',
  'switched_service',
  'too_complex',
  'too_expensive',
  'unused',
  '',
);
export const cancellationSpec = { comment: p.string, feedback: feedbackSpec };
export const PRORATION = p.enum('create_prorations', 'none', 'always_invoice');
export const STATUSES = ['active', 'all', 'canceled', 'ended', 'incomplete', 'incomplete_expired', 'past_due', 'paused', 'trialing', 'unpaid'];

/** Where parameters come from: the request's account, whether it is the platform, the params object and the name prefix for errors. */
export interface ParamSource {
  account: string;
  isPlatform: boolean;
  params: Params;
  /** Prefix of parameter names in errors, e.g. `subscription_data` → `subscription_data[trial_end]`. */
  prefix?: string | undefined;
}

/** `name` (dotted) under the source's prefix, in Stripe's bracket form. */
export function paramName(src: Pick<ParamSource, 'prefix'>, name: string): string {
  const [first, ...more] = name.split('.');
  const tail = more.map((m) => `[${m}]`).join('');
  return src.prefix ? `${src.prefix}[${first}]${tail}` : `${first}${tail}`;
}

/** An item's price: an existing active recurring price, or `price_data` (an inline, inactive price). */
export function itemPrice(b: Billing, account: string, item: Params, param: string): Stripe.Price | undefined {
  const priceId = str(item, 'price');
  const data = obj(item, 'price_data');
  if (priceId && data) throw invalidRequest('You may only specify one of these parameters: price, price_data.', { param: `${param}[price_data]` });
  if (priceId) {
    const price = requirePrice(b, priceId, account, `${param}[price]`);
    if (!price.active) throw invalidRequest(`The price specified is inactive. This field only accepts active prices.`, { param: `${param}[price]` });
    return price;
  }
  if (data) {
    const product = requireProduct(b, str(data, 'product') ?? '', account, `${param}[price_data][product]`);
    return createPrice(b, account, { ...data, active: false }, { product: product.id, paramPrefix: `${param}[price_data][`, emit: false });
  }
  return undefined;
}

export function itemsOf(v: ParamValue | undefined): Params[] {
  return Array.isArray(v) ? v.filter((x): x is Params => !!x && typeof x === 'object' && !Array.isArray(x)) : [];
}

export function transferDataOf(b: Billing, src: ParamSource): Stripe.Subscription.TransferData | null | undefined {
  const raw = src.params.transfer_data;
  if (raw === undefined) return undefined;
  if (raw === '') return null;
  if (!src.isPlatform)
    throw invalidRequest('Destination charges cannot be created on a connected account (do not send the Stripe-Account header).', {
      param: paramName(src, 'transfer_data.destination'),
    });
  const destination = str(src.params, 'transfer_data.destination') ?? '';
  requireTransferDestination(b.pay, destination, paramName(src, 'transfer_data.destination'));
  const pct = getParam(src.params, 'transfer_data.amount_percent');
  if (typeof pct === 'number' && !validPercent(pct))
    throw invalidRequest(`${paramName(src, 'transfer_data.amount_percent')} must be a number between 0 and 100 with at most two decimal places.`, {
      param: paramName(src, 'transfer_data.amount_percent'),
    });
  return { amount_percent: typeof pct === 'number' ? pct : null, destination };
}

export function feePercentOf(src: ParamSource, hasTransfer: boolean): number | null | undefined {
  const raw = src.params.application_fee_percent;
  if (raw === undefined) return undefined;
  if (raw === '') return null;
  const v = Number(raw);
  const param = paramName(src, 'application_fee_percent');
  if (!validPercent(v)) throw invalidRequest(`${param} must be a number between 0 and 100 with at most two decimal places.`, { param });
  if (src.isPlatform && !hasTransfer) {
    throw invalidRequest(
      `Can only apply an ${param} when the subscription is on a connected account (Stripe-Account header) or has \`transfer_data[destination]\`.`,
      { param },
    );
  }
  return v;
}

export function onBehalfOfParam(b: Billing, src: ParamSource): string | null | undefined {
  const raw = src.params.on_behalf_of;
  if (raw === undefined) return undefined;
  const v = str(src.params, 'on_behalf_of');
  if (!v) return null;
  if (!b.core.getAccount(v)) throw invalidRequest(`No such account: '${v}'`, { code: 'resource_missing', param: paramName(src, 'on_behalf_of') });
  return v;
}

/**
 * `trial_end` / `trial_period_days` / `trial_from_plan` → the trial's end (null: no trial).
 * `minLead`: how far ahead `trial_end` must be (Checkout: 48 h); `minDays`: the least
 * `trial_period_days` (Checkout: 1).
 */
export function resolveTrialEnd(b: Billing, src: ParamSource, items: NewItem[], o: { minLead?: number; minDays?: number } = {}): number | null {
  const pr = src.params;
  const te = getParam(pr, 'trial_end');
  const days = int(pr, 'trial_period_days');
  if (te !== undefined && days !== undefined)
    throw invalidRequest('You may only specify one of these parameters: trial_end, trial_period_days.', { param: paramName(src, 'trial_period_days') });
  const now = b.core.now();
  if (te === 'now') return null;
  if (te !== undefined) {
    const t = Number(te);
    const param = paramName(src, 'trial_end');
    if (!Number.isInteger(t)) throw invalidRequest(`Invalid timestamp: must be an integer Unix timestamp or "now".`, { param });
    if (t <= now) throw invalidRequest('Invalid timestamp: must be in the future.', { param });
    if (o.minLead && t < now + o.minLead) throw invalidRequest(`${param} must be at least ${o.minLead / 3600} hours in the future.`, { param });
    return t;
  }
  if (days !== undefined) {
    if (o.minDays && days < o.minDays)
      throw invalidRequest(`${paramName(src, 'trial_period_days')} must be at least ${o.minDays}.`, { param: paramName(src, 'trial_period_days') });
    return days === 0 ? null : now + days * 86_400;
  }
  if (bool(pr, 'trial_from_plan')) {
    const planDays = items[0]?.price.recurring?.trial_period_days ?? null;
    return planDays ? now + planDays * 86_400 : null;
  }
  return null;
}

export function checkPaymentMethodOf(b: Billing, account: string, customerId: string, pmId: string): void {
  const pm = b.pay.pms.get(pmId, account);
  if (!pm || pm.customer !== customerId) {
    throw invalidRequest(`The customer does not have a payment method with the ID ${pmId}. The payment method must be attached to the customer.`, {
      code: 'resource_missing',
      param: 'default_payment_method',
    });
  }
}
