/**
 * Checkout Sessions in billing's modes, registered on payments' extension point
 * (`pay.checkoutModes`):
 *
 * - `mode: 'subscription'`: recurring `line_items` (prices stored in billing) and
 *   `subscription_data` (`application_fee_percent`, `transfer_data`, `on_behalf_of`,
 *   `trial_period_days` ≥ 1, `trial_end` ≥ 48 h ahead, `trial_settings`, `description`,
 *   `metadata`); `payment_intent_data` is refused, as Stripe does. `amount_total` is the first
 *   invoice (0 with a trial). `payment_method_collection: 'if_required'` with a trial needs no
 *   card.
 * - `mode: 'setup'`: no `line_items`; `currency` (or `allowed_payment_method_types`);
 *   `setup_intent_data` (`description`, `metadata`, `on_behalf_of`).
 *
 * What happens on the hosted page is in checkout-flows.ts. Like `payment_intent` in payment
 * mode (API 2022-08-01 and later), `subscription`, `invoice` and `setup_intent` are null until
 * the buyer submits the page.
 */
import type Stripe from 'stripe';
import type { ApiRequest } from '../../core/core.ts';
import { p, str, int, obj, arr, mergeMetadata, type Params } from '../../core/params.ts';
import { invalidRequest, missingParam } from '../../core/errors.ts';
import { createCheckoutSession, lineItemsFromParams, type CheckoutSessionInput } from '../payments/api.ts';
import type { Billing } from './context.ts';
import { requireCustomer } from './customers.ts';
import { checkItemsCompatible } from './subscriptions.ts';
import {
  feePercentOf,
  onBehalfOfParam,
  resolveTrialEnd,
  transferDataOf,
  transferDataSpec,
  trialSettingsSpec,
  type ParamSource,
} from './subscription-params.ts';
import { payWithCardInBillingMode } from './checkout-flows.ts';
import { setCheckoutState, type BillingCheckoutState } from './checkout-state.ts';

const HOUR = 3600;

/** Params payments' route does not know, accepted for billing's modes. */
const extraParams = {
  subscription_data: {
    application_fee_percent: p.number,
    billing_cycle_anchor: p.integer,
    billing_mode: { type: p.enum('flexible', 'classic'), flexible: p.any },
    default_tax_rates: p.array(p.string),
    description: p.string,
    invoice_settings: p.any,
    metadata: p.hash,
    on_behalf_of: p.string,
    proration_behavior: p.enum('create_prorations', 'none'),
    transfer_data: transferDataSpec,
    trial_end: p.integer,
    trial_period_days: p.integer,
    trial_settings: trialSettingsSpec,
  },
  setup_intent_data: { description: p.string, metadata: p.hash, on_behalf_of: p.string },
  payment_method_collection: p.enum('always', 'if_required'),
  allowed_payment_method_types: p.array(p.string),
};

/** Fields every session shares, read the way payments reads them in payment mode. */
function commonInput(pr: Params): Pick<CheckoutSessionInput, 'successUrl' | 'cancelUrl' | 'expiresAt' | 'customerEmail' | 'clientReferenceId' | 'metadata'> {
  return {
    successUrl: str(pr, 'success_url') ?? null,
    cancelUrl: str(pr, 'cancel_url') ?? null,
    expiresAt: int(pr, 'expires_at'),
    customerEmail: str(pr, 'customer_email') ?? null,
    clientReferenceId: str(pr, 'client_reference_id') ?? null,
    metadata: mergeMetadata({}, pr),
  };
}

function refuse(pr: Params, names: string[], mode: string): void {
  for (const name of names) {
    if (pr[name] !== undefined) throw invalidRequest(`You can not pass \`${name}\` in \`${mode}\` mode.`, { param: name });
  }
}

function checkUiMode(pr: Params): void {
  const uiMode = str(pr, 'ui_mode') ?? 'hosted_page';
  if (uiMode !== 'hosted_page') throw invalidRequest(`The emulator supports \`ui_mode: hosted_page\` only (got \`${uiMode}\`).`, { param: 'ui_mode' });
}

function customerOf(b: Billing, req: ApiRequest): string | null {
  const id = str(req.params, 'customer');
  if (!id) return null;
  if (str(req.params, 'customer_email')) {
    throw invalidRequest('You may only specify one of these parameters: customer, customer_email.', { param: 'customer_email' });
  }
  return requireCustomer(b, id, req.account, 'customer').id;
}

function createSubscriptionSession(b: Billing, req: ApiRequest): Stripe.Checkout.Session {
  const pr = req.params;
  checkUiMode(pr);
  refuse(pr, ['payment_intent_data', 'setup_intent_data', 'customer_creation'], 'subscription');
  if (!Array.isArray(pr.line_items) || pr.line_items.length === 0) {
    throw invalidRequest('You must provide at least one recurring price in `subscription` mode when using prices.', {
      code: 'parameter_missing',
      param: 'line_items',
    });
  }
  const customer = customerOf(b, req);
  const { lineItems, currency } = lineItemsFromParams(b.pay, req.account, pr);
  lineItems.forEach((li, i) => {
    if (li.price?.type !== 'recurring') {
      throw invalidRequest('The emulator bills recurring prices only in `subscription` mode (one-time items on the first invoice are not emulated).', {
        param: `line_items[${i}][price]`,
      });
    }
  });
  const prices = lineItems.map((li) => li.price as Stripe.Price);
  checkItemsCompatible(
    prices.map((price) => ({ price })),
    'line_items',
  );
  const sd = obj(pr, 'subscription_data') ?? {};
  if (str(sd, 'billing_mode.type') === 'classic')
    throw invalidRequest('The emulator bills in flexible mode only (the default since 2025-09-30.clover).', { param: 'subscription_data[billing_mode][type]' });
  if (sd.billing_cycle_anchor !== undefined)
    throw invalidRequest('subscription_data[billing_cycle_anchor] is not emulated.', { param: 'subscription_data[billing_cycle_anchor]' });
  const src: ParamSource = { account: req.account, isPlatform: req.isPlatform, params: sd, prefix: 'subscription_data' };
  const transferData = transferDataOf(b, src) ?? null;
  const applicationFeePercent = feePercentOf(src, transferData !== null) ?? null;
  const onBehalfOf = onBehalfOfParam(b, src) ?? null;
  const items = lineItems.map((li) => ({ price: (li.price as Stripe.Price).id, quantity: li.quantity ?? 1 }));
  // Checkout's own limits: a trial of at least a day, or ending at least 48 hours ahead.
  const trialEnd = resolveTrialEnd(
    b,
    src,
    prices.map((price) => ({ price, quantity: 1, metadata: {} })),
    { minLead: 48 * HOUR, minDays: 1 },
  );
  const trialPeriodDays = int(sd, 'trial_period_days') ?? null;
  const trial = trialEnd !== null;
  const firstAmount = trial ? 0 : lineItems.reduce((n, li) => n + li.amount_total, 0);
  const collection = str(pr, 'payment_method_collection') ?? 'always';
  const session = createCheckoutSession(b.pay, req.account, {
    mode: 'subscription',
    lineItems,
    currency,
    customer,
    ...commonInput(pr),
    extra: {
      amount_subtotal: firstAmount,
      amount_total: firstAmount,
      customer_creation: null,
      invoice_creation: null,
      payment_method_collection: collection,
    },
  });
  const state: BillingCheckoutState = {
    mode: 'subscription',
    subscription: {
      items,
      transferData,
      applicationFeePercent,
      onBehalfOf,
      trialEnd: trialPeriodDays === null ? trialEnd : null,
      trialPeriodDays,
      trialMissingPaymentMethod: str(sd, 'trial_settings.end_behavior.missing_payment_method') ?? 'create_invoice',
      description: str(sd, 'description') ?? null,
      metadata: mergeMetadata({}, sd),
    },
    createCustomer: customer === null,
  };
  setCheckoutState(b, session.id, state);
  return session;
}

function createSetupSession(b: Billing, req: ApiRequest): Stripe.Checkout.Session {
  const pr = req.params;
  checkUiMode(pr);
  refuse(pr, ['line_items', 'payment_intent_data', 'subscription_data'], 'setup');
  const allowed = arr(pr, 'allowed_payment_method_types')?.map(String);
  if (allowed && !allowed.includes('card')) throw invalidRequest('The emulator supports card payment methods only.', { param: 'allowed_payment_method_types' });
  const currency = str(pr, 'currency')?.toLowerCase();
  // Dynamic payment methods need a currency to choose from (fact sheet §5, Checkout setup mode).
  if (!currency && !allowed) throw missingParam('currency');
  const customer = customerOf(b, req);
  const sid = obj(pr, 'setup_intent_data') ?? {};
  const onBehalfOf = onBehalfOfParam(b, { account: req.account, isPlatform: req.isPlatform, params: sid, prefix: 'setup_intent_data' }) ?? null;
  const creation = str(pr, 'customer_creation') ?? 'if_required';
  const session = createCheckoutSession(b.pay, req.account, {
    mode: 'setup',
    lineItems: [],
    currency: currency ?? 'usd',
    customer,
    ...commonInput(pr),
    extra: {
      amount_subtotal: null,
      amount_total: null,
      currency: currency ?? null,
      customer_creation: creation,
      invoice_creation: null,
      payment_method_collection: 'always',
      ...(allowed ? { allowed_payment_method_types: allowed } : {}),
    },
  });
  setCheckoutState(b, session.id, {
    mode: 'setup',
    setup: { description: str(sid, 'description') ?? null, metadata: mergeMetadata({}, sid), onBehalfOf },
    createCustomer: customer === null && creation === 'always',
  });
  return session;
}

export function registerBillingCheckoutModes(b: Billing): void {
  b.core.extendRoute('POST', '/v1/checkout/sessions', { params: extraParams });
  b.pay.checkoutModes.set('subscription', {
    create: (req) => createSubscriptionSession(b, req),
    payWithCard: (session, card, email) => payWithCardInBillingMode(b, session, card, email),
    cardOptional: (session) => session.payment_method_collection === 'if_required' && (session.amount_total ?? 0) === 0,
  });
  b.pay.checkoutModes.set('setup', {
    create: (req) => createSetupSession(b, req),
    payWithCard: (session, card, email) => payWithCardInBillingMode(b, session, card, email),
  });
}
