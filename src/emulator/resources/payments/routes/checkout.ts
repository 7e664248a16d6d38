/** `/v1/checkout/sessions` routes. Modes other than `payment` go to `pay.checkoutModes` (billing). */
import type { EmulatorCore } from '../../../core/core.ts';
import { p, PAYMENT_METHOD_TYPES_REMOVED, str, arr, mergeMetadata, type Params } from '../../../core/params.ts';
import { invalidRequest } from '../../../core/errors.ts';
import { checkoutInputFromParams, createCheckoutSession, sessionInternal, withLineItems } from '../checkout.ts';
import { expireCheckoutSession } from '../checkout-payment.ts';
import type { Payments } from '../state.ts';

const paymentIntentDataSpec = p.object({
  application_fee_amount: p.integer,
  transfer_data: p.object({ destination: p.string, amount: p.integer }, ['destination']),
  on_behalf_of: p.string,
  metadata: p.hash,
  description: p.string,
  capture_method: p.enum('automatic', 'automatic_async', 'manual'),
  transfer_group: p.string,
  receipt_email: p.string,
  statement_descriptor: p.string,
  statement_descriptor_suffix: p.string,
  setup_future_usage: p.enum('on_session', 'off_session'),
  shipping: p.any,
});

const createSpec = {
  mode: p.enum('payment', 'setup', 'subscription'),
  ui_mode: p.enum('hosted_page', 'embedded_page', 'elements', 'form'),
  line_items: p.array({
    price: p.string,
    quantity: p.integer,
    price_data: p.object({
      currency: p.string,
      unit_amount: p.integer,
      unit_amount_decimal: p.string,
      tax_behavior: p.enum('exclusive', 'inclusive', 'unspecified'),
      product: p.string,
      product_data: p.object({ name: p.string, description: p.string, images: p.array(p.string), metadata: p.hash, tax_code: p.string }),
    }),
    adjustable_quantity: p.any,
    tax_rates: p.array(p.string),
  }),
  payment_intent_data: paymentIntentDataSpec,
  metadata: p.hash,
  client_reference_id: p.string,
  customer_email: p.string,
  customer: p.string,
  customer_creation: p.enum('always', 'if_required'),
  success_url: p.string,
  cancel_url: p.string,
  expires_at: p.integer,
  payment_method_types: PAYMENT_METHOD_TYPES_REMOVED,
  excluded_payment_method_types: p.array(p.string),
  currency: p.string,
  locale: p.string,
  submit_type: p.enum('auto', 'book', 'donate', 'pay', 'subscribe'),
  billing_address_collection: p.enum('auto', 'required'),
  shipping_address_collection: p.object({ allowed_countries: p.array(p.string) }, ['allowed_countries']),
  allow_promotion_codes: p.boolean,
  automatic_tax: p.any,
  phone_number_collection: p.any,
  custom_text: p.any,
  saved_payment_method_options: {
    allow_redisplay_filters: p.array(p.enum('always', 'limited', 'unspecified')),
    payment_method_remove: p.enum('enabled', 'disabled'),
    payment_method_save: p.enum('enabled', 'disabled'),
  },
};

export function registerCheckoutRoutes(core: EmulatorCore, pay: Payments): void {
  core.route('POST', '/v1/checkout/sessions', { params: createSpec, required: ['mode'] }, (req) => {
    const mode = str(req.params, 'mode');
    const extension = mode ? pay.checkoutModes.get(mode) : undefined;
    if (extension) return extension.create(req);
    if (mode !== 'payment') throw invalidRequest(`The emulator supports Checkout in \`payment\` mode only (got \`${mode}\`).`, { param: 'mode' });
    // Params other modes add to this route (billing's `extendRoute`) are refused here, as Stripe does.
    for (const name of ['subscription_data', 'setup_intent_data', 'payment_method_collection']) {
      if (req.params[name] !== undefined) throw invalidRequest(`You can not pass \`${name}\` in \`payment\` mode.`, { param: name });
    }
    return createCheckoutSession(pay, req.account, checkoutInputFromParams(pay, req.account, req.params));
  });
  const expandsLineItems = (params: Params): boolean => (arr(params, 'expand') ?? []).some((e) => e === 'line_items');
  core.route('GET', '/v1/checkout/sessions/:id', {}, (req) => {
    const s = pay.sessions.require(req.pathParams.id ?? '', req.account, 'session');
    return expandsLineItems(req.params) ? withLineItems(pay, s) : s;
  });
  core.route('POST', '/v1/checkout/sessions/:id', { params: { metadata: p.hash } }, (req) => {
    const s = pay.sessions.require(req.pathParams.id ?? '', req.account, 'session');
    s.metadata = mergeMetadata(s.metadata ?? {}, req.params);
    return pay.sessions.save(s);
  });
  core.route(
    'GET',
    '/v1/checkout/sessions',
    {
      list: true,
      params: {
        payment_intent: p.string,
        status: p.enum('open', 'complete', 'expired'),
        customer: p.string,
        customer_details: p.any,
        payment_link: p.string,
        subscription: p.string,
      },
    },
    (req) => {
      const pi = str(req.params, 'payment_intent');
      const status = str(req.params, 'status');
      const customer = str(req.params, 'customer');
      const subscription = str(req.params, 'subscription');
      return core.paginate(
        req,
        pay.sessions.list(
          req.account,
          (s) =>
            (pi ? s.payment_intent === pi : true) &&
            (status ? s.status === status : true) &&
            (customer ? s.customer === customer : true) &&
            (subscription ? s.subscription === subscription : true),
        ),
      );
    },
  );
  core.route('GET', '/v1/checkout/sessions/:id/line_items', { list: true }, (req) => {
    const s = pay.sessions.require(req.pathParams.id ?? '', req.account, 'session');
    const items = sessionInternal(pay, s.id).lineItems.map((li) => ({ ...li, created: s.created }));
    const listPage = core.paginate(req, items, `/v1/checkout/sessions/${s.id}/line_items`);
    return { ...listPage, data: listPage.data.map(({ created: _c, ...li }) => li) };
  });
  core.route('POST', '/v1/checkout/sessions/:id/expire', {}, (req) => {
    const s = pay.sessions.require(req.pathParams.id ?? '', req.account, 'session');
    return expireCheckoutSession(pay, s.id, req.account, false);
  });
}
