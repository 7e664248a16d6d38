/**
 * Checkout Sessions: the creation path (`createCheckoutSession`, which billing calls for its own
 * modes with line items it resolved) and the parsing of `POST /v1/checkout/sessions` params in
 * `payment` mode. Paying, completing and expiring a session are in checkout-payment.ts; the
 * hosted page in checkout-page.ts.
 *
 * The session's PaymentIntent is created when the buyer first presses Pay (as Stripe does since
 * API version 2022-08-01, `payment_intent` is null until then) with the session's
 * `payment_intent_data`, and reused for further attempts after a decline or a failed 3DS.
 */
import type Stripe from 'stripe';
import { str, int, obj, arr, type Params } from '../../core/params.ts';
import { invalidRequest, missingParam } from '../../core/errors.ts';
import { randomToken } from '../../core/ids.ts';
import { metadataOf } from './param-readers.ts';
import { validateConnectParams } from './validation.ts';
import { shippingAddressCollectionOf } from './shipping.ts';
import type { Payments } from './state.ts';

export interface PaymentIntentData {
  application_fee_amount?: number;
  transfer_data?: { destination?: string; amount?: number };
  on_behalf_of?: string;
  metadata?: Record<string, string>;
  description?: string;
  capture_method?: Stripe.PaymentIntent.CaptureMethod;
  transfer_group?: string;
  receipt_email?: string;
  statement_descriptor?: string;
  statement_descriptor_suffix?: string;
  setup_future_usage?: Stripe.PaymentIntent.SetupFutureUsage;
}

/** Emulator-private data kept with a session. */
export interface SessionInternal {
  lineItems: Stripe.LineItem[];
  paymentIntentData: PaymentIntentData;
  account: string;
}

/** Everything a session is built from, already resolved and checked for its shape. */
export interface CheckoutSessionInput {
  mode: Stripe.Checkout.Session.Mode;
  lineItems: Stripe.LineItem[];
  /** Lower case; all line items share it. */
  currency: string;
  paymentIntentData?: PaymentIntentData;
  successUrl?: string | null;
  cancelUrl?: string | null;
  /** Default: 24 h after creation; must be 30 min – 24 h ahead. */
  expiresAt?: number | undefined;
  customer?: string | null;
  customerEmail?: string | null;
  clientReferenceId?: string | null;
  metadata?: Record<string, string>;
  /** Fields set as given on the session (e.g. billing's `subscription`), after the defaults. */
  extra?: Partial<Stripe.Checkout.Session>;
}

const MIN_EXPIRY = 30 * 60;
const MAX_EXPIRY = 24 * 3600;

export function sessionInternal(pay: Payments, id: string): SessionInternal {
  return pay.sessions.internal(id) as unknown as SessionInternal;
}

/** The session with its `line_items` list (for `expand[]=line_items`). */
export function withLineItems(pay: Payments, session: Stripe.Checkout.Session): Stripe.Checkout.Session {
  const items = sessionInternal(pay, session.id).lineItems;
  return { ...session, line_items: { object: 'list', data: items, has_more: false, url: `/v1/checkout/sessions/${session.id}/line_items` } };
}

/** `POST /v1/checkout/sessions` params in `payment` mode → the session's input. */
export function checkoutInputFromParams(pay: Payments, account: string, pr: Params): CheckoutSessionInput {
  const uiMode = str(pr, 'ui_mode') ?? 'hosted_page';
  if (uiMode !== 'hosted_page') {
    throw invalidRequest(`The emulator supports \`ui_mode: hosted_page\` only (got \`${uiMode}\`).`, { param: 'ui_mode' });
  }
  const { lineItems, currency } = lineItemsFromParams(pay, account, pr);
  return {
    mode: 'payment',
    lineItems,
    currency,
    paymentIntentData: paymentIntentDataFromParams(obj(pr, 'payment_intent_data') ?? {}),
    successUrl: str(pr, 'success_url') ?? null,
    cancelUrl: str(pr, 'cancel_url') ?? null,
    expiresAt: int(pr, 'expires_at'),
    customer: str(pr, 'customer') ?? null,
    customerEmail: str(pr, 'customer_email') ?? null,
    clientReferenceId: str(pr, 'client_reference_id') ?? null,
    metadata: metadataOf(pr) ?? {},
    extra: { saved_payment_method_options: savedPaymentMethodOptionsOf(pr), shipping_address_collection: shippingAddressCollectionOf(pr) },
  };
}

/**
 * `saved_payment_method_options`: a returning customer's saved cards are offered on the page
 * when their `allow_redisplay` is in `allow_redisplay_filters` (default `['always']`, Stripe's);
 * `payment_method_save: 'enabled'` shows "Save my card for future purchases".
 */
export function savedPaymentMethodOptionsOf(pr: Params): Stripe.Checkout.Session.SavedPaymentMethodOptions | null {
  const o = obj(pr, 'saved_payment_method_options');
  if (!o) return null;
  const filters = arr(o, 'allow_redisplay_filters')?.map(String);
  return {
    allow_redisplay_filters: filters ?? ['always'],
    payment_method_remove: str(o, 'payment_method_remove') ?? 'disabled',
    payment_method_save: str(o, 'payment_method_save') ?? 'disabled',
  };
}

/** The customer's saved cards the hosted page may offer (see `savedPaymentMethodOptionsOf`). */
export function offeredPaymentMethods(pay: Payments, session: Stripe.Checkout.Session): Stripe.PaymentMethod[] {
  const customer = typeof session.customer === 'string' ? session.customer : null;
  if (!customer) return [];
  const filters: string[] = session.saved_payment_method_options?.allow_redisplay_filters ?? ['always'];
  const account = sessionInternal(pay, session.id).account;
  return pay.pms.list(account, (pm) => pm.customer === customer && filters.includes(pm.allow_redisplay ?? 'unspecified'));
}

/** `line_items[]` with `price_data`, or `price` ids resolved through `pay.priceLookup`. */
export function lineItemsFromParams(pay: Payments, account: string, pr: Params): { lineItems: Stripe.LineItem[]; currency: string } {
  const rawItems = arr(pr, 'line_items') ?? [];
  if (rawItems.length === 0)
    throw invalidRequest('You must provide `line_items` when `mode` is `payment`.', { code: 'parameter_missing', param: 'line_items' });
  let currency: string | undefined;
  const lineItems = rawItems.map((raw, i) => {
    const li = raw && typeof raw === 'object' && !Array.isArray(raw) ? raw : {};
    const line = lineItemFromParams(pay, account, li, i);
    if (currency && line.currency !== currency)
      throw invalidRequest('All line items must use the same currency.', { param: `line_items[${i}][price_data][currency]` });
    currency = line.currency;
    return line;
  });
  return { lineItems, currency: currency ?? 'usd' };
}

function lineItemFromParams(pay: Payments, account: string, li: Params, i: number): Stripe.LineItem {
  const priceId = str(li, 'price');
  if (priceId) {
    const found = pay.priceLookup?.(account, priceId);
    if (!found) throw invalidRequest(`No such price: '${priceId}'`, { code: 'resource_missing', param: `line_items[${i}][price]` });
    return lineItem(pay, found.price, found.productName, quantityOf(li, i));
  }
  const pd = obj(li, 'price_data');
  if (!pd) throw missingParam(`line_items[${i}][price_data]`);
  const cur = str(pd, 'currency')?.toLowerCase();
  if (!cur) throw missingParam(`line_items[${i}][price_data][currency]`);
  const unit = int(pd, 'unit_amount');
  if (unit === undefined) throw missingParam(`line_items[${i}][price_data][unit_amount]`);
  const product = obj(pd, 'product_data');
  const name = product ? str(product, 'name') : undefined;
  if (!name) throw missingParam(`line_items[${i}][price_data][product_data][name]`);
  const quantity = quantityOf(li, i);
  const price: Stripe.Price = {
    id: pay.core.newId('price'),
    object: 'price',
    active: false,
    billing_scheme: 'per_unit',
    created: pay.core.now(),
    currency: cur,
    custom_unit_amount: null,
    livemode: false,
    lookup_key: null,
    metadata: {},
    nickname: null,
    product: pay.core.newId('prod'),
    recurring: null,
    tax_behavior: str(pd, 'tax_behavior') ?? 'unspecified',
    tiers_mode: null,
    transform_quantity: null,
    type: 'one_time',
    unit_amount: unit,
    unit_amount_decimal: null,
  };
  return lineItem(pay, price, name, quantity);
}

function quantityOf(li: Params, i: number): number {
  const quantity = int(li, 'quantity');
  if (quantity === undefined) throw missingParam(`line_items[${i}][quantity]`);
  if (quantity < 1) throw invalidRequest('Quantity must be at least 1.', { param: `line_items[${i}][quantity]` });
  return quantity;
}

/** A line item of `quantity` × `price`. */
export function lineItem(pay: Payments, price: Stripe.Price, description: string, quantity: number): Stripe.LineItem {
  const amount = (price.unit_amount ?? 0) * quantity;
  return {
    id: pay.core.newId('li'),
    object: 'item',
    adjustable_quantity: null,
    amount_discount: 0,
    amount_subtotal: amount,
    amount_tax: 0,
    amount_total: amount,
    currency: price.currency,
    description,
    metadata: {},
    price,
    quantity,
  };
}

function paymentIntentDataFromParams(pid: Params): PaymentIntentData {
  const out: PaymentIntentData = {};
  const fee = int(pid, 'application_fee_amount');
  if (fee !== undefined) out.application_fee_amount = fee;
  const tdRaw = obj(pid, 'transfer_data');
  if (tdRaw) {
    const td: { destination?: string; amount?: number } = {};
    const d = str(tdRaw, 'destination');
    const a = int(tdRaw, 'amount');
    if (d) td.destination = d;
    if (a !== undefined) td.amount = a;
    out.transfer_data = td;
  }
  const obo = str(pid, 'on_behalf_of');
  if (obo) out.on_behalf_of = obo;
  const pmd = metadataOf(pid);
  if (pmd) out.metadata = pmd;
  for (const k of ['description', 'transfer_group', 'receipt_email', 'statement_descriptor', 'statement_descriptor_suffix'] as const) {
    const v = str(pid, k);
    if (v) out[k] = v;
  }
  const cm = str(pid, 'capture_method');
  if (cm) out.capture_method = cm;
  const sfu = str(pid, 'setup_future_usage');
  if (sfu) out.setup_future_usage = sfu;
  return out;
}

/**
 * Create and store a Checkout Session (status `open`, `url` = the hosted page). Checks the
 * Connect params of `paymentIntentData` against the total, `expires_at` and the URLs.
 */
export function createCheckoutSession(pay: Payments, account: string, input: CheckoutSessionInput): Stripe.Checkout.Session {
  const now = pay.core.now();
  const total = input.lineItems.reduce((n, li) => n + li.amount_total, 0);
  const pid = input.paymentIntentData ?? {};
  validateConnectParams(pay, {
    account,
    amount: total,
    application_fee_amount: pid.application_fee_amount,
    transfer_data: pid.transfer_data,
    on_behalf_of: pid.on_behalf_of,
    prefix: 'payment_intent_data',
  });
  const expiresAt = input.expiresAt ?? now + MAX_EXPIRY;
  if (expiresAt < now + MIN_EXPIRY) {
    throw invalidRequest('The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.', { param: 'expires_at' });
  }
  if (expiresAt > now + MAX_EXPIRY) {
    throw invalidRequest('The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.', { param: 'expires_at' });
  }
  const successUrl = input.successUrl ?? null;
  const cancelUrl = input.cancelUrl ?? null;
  for (const [k, v] of [
    ['success_url', successUrl],
    ['cancel_url', cancelUrl],
  ] as const) {
    if (v !== null && !/^https?:\/\//i.test(v)) throw invalidRequest(`Not a valid URL`, { code: 'url_invalid', param: k });
  }
  const id = `cs_test_${randomToken(58)}`;
  const session = sessionObject(pay, {
    id,
    now,
    total,
    expiresAt,
    successUrl,
    cancelUrl,
    input,
  });
  const internal: SessionInternal = { lineItems: input.lineItems, paymentIntentData: pid, account };
  return pay.sessions.insert(account, session, { internal: internal as unknown as Record<string, unknown> });
}

function sessionObject(
  pay: Payments,
  o: { id: string; now: number; total: number; expiresAt: number; successUrl: string | null; cancelUrl: string | null; input: CheckoutSessionInput },
): Stripe.Checkout.Session {
  const { input } = o;
  const customerEmail = input.customerEmail ?? null;
  const session: Stripe.Checkout.Session = {
    id: o.id,
    object: 'checkout.session',
    adaptive_pricing: { enabled: false },
    after_expiration: null,
    allow_promotion_codes: null,
    allowed_payment_method_types: null,
    amount_subtotal: o.total,
    amount_total: o.total,
    automatic_tax: { enabled: false, liability: null, provider: null, status: null },
    billing_address_collection: null,
    cancel_url: o.cancelUrl,
    client_reference_id: input.clientReferenceId ?? null,
    client_secret: null,
    collected_information: null,
    consent: null,
    consent_collection: null,
    created: o.now,
    currency: input.currency,
    currency_conversion: null,
    custom_fields: [],
    custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
    customer: input.customer ?? null,
    customer_account: null,
    customer_creation: 'if_required',
    customer_details: customerEmail
      ? { address: null, business_name: null, email: customerEmail, individual_name: null, name: null, phone: null, tax_exempt: 'none', tax_ids: null }
      : null,
    customer_email: customerEmail,
    discounts: [],
    expires_at: o.expiresAt,
    integration_identifier: null,
    invoice: null,
    invoice_creation: {
      enabled: false,
      invoice_data: { account_tax_ids: null, custom_fields: null, description: null, footer: null, issuer: null, metadata: {}, rendering_options: null },
    },
    livemode: false,
    locale: null,
    managed_payments: null,
    metadata: input.metadata ?? {},
    mode: input.mode,
    origin_context: null,
    payment_intent: null,
    payment_link: null,
    payment_method_collection: 'if_required',
    payment_method_configuration_details: null,
    payment_method_options: { card: { request_three_d_secure: 'automatic' } },
    payment_method_types: ['card'],
    payment_status: 'unpaid',
    permissions: null,
    phone_number_collection: { enabled: false },
    recovered_from: null,
    saved_payment_method_options: null,
    setup_intent: null,
    shipping_address_collection: null,
    shipping_cost: null,
    shipping_options: [],
    status: 'open',
    submit_type: null,
    subscription: null,
    success_url: o.successUrl,
    total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
    ui_mode: 'hosted_page',
    url: pay.core.pageUrl(`/hosted/checkout/${o.id}`),
    wallet_options: null,
  };
  return { ...session, ...(input.extra ?? {}) };
}
