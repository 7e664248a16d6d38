/**
 * SetupIntents: save a card for later (off-session) use. `POST/GET /v1/setup_intents`,
 * `GET/POST /v1/setup_intents/:id`, `POST …/confirm`, `POST …/cancel`.
 *
 * Statuses: requires_payment_method → requires_confirmation → (requires_action → 3DS page) →
 * succeeded | back to requires_payment_method with `last_setup_error`; canceled. Cards that
 * need 3DS (3155, 3184, 3220) get `next_action.redirect_to_url` to the challenge page
 * (/hosted/setup_3ds/:seti); declining cards fail with 402 `card_declined`
 * (`setup_intent.setup_failed`); 0341 sets up fine and fails later, when charged. On success the
 * card is attached to the customer (`payment_method.attached`) and, with `usage: off_session`,
 * counts as set up for off-session payments: 3155 then pays renewals without authentication
 * (docs.stripe.com/testing: "After you set it up, off-session payments no longer require
 * authentication"), 3184 still needs it every time.
 */
import type Stripe from 'stripe';
import { p, PAYMENT_METHOD_TYPES_REMOVED, str, bool, obj, mergeMetadata, type Params } from '../../core/params.ts';
import { invalidRequest, cardError, StripeError } from '../../core/errors.ts';
import { randomToken } from '../../core/ids.ts';
import type { Billing } from './context.ts';
import { cardOf, DETACHED_MESSAGE, isDetached, markSetUpForOffSession, resolvePaymentMethod } from '../payments/api.ts';
import { requireCustomer } from './customers.ts';
import { attachPaymentMethod } from './payment-methods.ts';

export type SetupResult = { kind: 'succeeded' | 'requires_action'; si: Stripe.SetupIntent } | { kind: 'failed'; si: Stripe.SetupIntent; error: StripeError };

interface SetupInternal {
  threeDS?: 'pending' | 'passed';
  returnUrl?: string | null;
}

function internalOf(b: Billing, id: string): SetupInternal {
  return b.setupIntents.internal(id);
}

export function createSetupIntent(
  b: Billing,
  account: string,
  o: {
    customer: string | null;
    usage: 'on_session' | 'off_session';
    metadata: Record<string, string>;
    onBehalfOf: string | null;
    description: string | null;
    paymentMethod?: string | undefined;
    automaticPaymentMethods?: boolean | undefined;
  },
): Stripe.SetupIntent {
  if (o.customer) requireCustomer(b, o.customer, account, 'customer');
  if (o.onBehalfOf && !b.core.getAccount(o.onBehalfOf))
    throw invalidRequest(`No such account: '${o.onBehalfOf}'`, { code: 'resource_missing', param: 'on_behalf_of' });
  const pm = o.paymentMethod ? resolvePaymentMethod(b.pay, account, o.paymentMethod) : undefined;
  const id = b.core.newId('seti');
  const si: Stripe.SetupIntent = {
    id,
    object: 'setup_intent',
    allowed_payment_method_types: null,
    application: null,
    automatic_payment_methods: o.automaticPaymentMethods === false ? null : { allow_redirects: 'always', enabled: true },
    cancellation_reason: null,
    client_secret: `${id}_secret_${randomToken(25)}`,
    created: b.core.now(),
    customer: o.customer,
    description: o.description,
    excluded_payment_method_types: null,
    flow_directions: null,
    last_setup_error: null,
    latest_attempt: null,
    livemode: false,
    mandate: null,
    metadata: o.metadata,
    next_action: null,
    on_behalf_of: o.onBehalfOf,
    payment_method: pm?.id ?? null,
    payment_method_configuration_details: null,
    payment_method_options: { card: { mandate_options: null, network: null, request_three_d_secure: 'automatic' } },
    payment_method_types: ['card'],
    single_use_mandate: null,
    status: pm ? 'requires_confirmation' : 'requires_payment_method',
    usage: o.usage,
  };
  b.setupIntents.insert(account, si, { internal: {} });
  b.core.emitEvent({ type: 'setup_intent.created', object: si, account });
  return si;
}

const CONFIRMABLE: Stripe.SetupIntent.Status[] = ['requires_payment_method', 'requires_confirmation', 'requires_action'];

export function confirmSetupIntent(
  b: Billing,
  account: string,
  id: string,
  o: { paymentMethod?: string | undefined; pm?: Stripe.PaymentMethod | undefined; returnUrl?: string | undefined },
): SetupResult {
  const si = b.setupIntents.require(id, account, 'intent');
  if (!CONFIRMABLE.includes(si.status)) {
    throw invalidRequest(
      `You cannot confirm this SetupIntent because it has a status of ${si.status}. Only a SetupIntent with one of the following statuses may be confirmed: requires_confirmation, requires_payment_method, requires_action.`,
      { code: 'setup_intent_unexpected_state', extra: { setup_intent: si } },
    );
  }
  const pm =
    o.pm ??
    (o.paymentMethod
      ? resolvePaymentMethod(b.pay, account, o.paymentMethod)
      : si.payment_method
        ? b.pay.pms.get(String(si.payment_method), account)
        : undefined);
  if (!pm) {
    throw invalidRequest(
      "You cannot confirm this SetupIntent because it's missing a payment method. You can either update the SetupIntent with a payment method and then confirm it again, or confirm it again directly with a payment method.",
      { code: 'setup_intent_unexpected_state', extra: { setup_intent: si } },
    );
  }
  if (isDetached(b.pay, pm.id)) throw invalidRequest(DETACHED_MESSAGE, { code: 'payment_method_unexpected_state', param: 'payment_method' });
  if (pm.customer && si.customer && pm.customer !== si.customer) {
    throw invalidRequest('The provided PaymentMethod is attached to another customer.', { code: 'payment_method_unexpected_state', param: 'payment_method' });
  }
  if (si.payment_method !== pm.id) b.setupIntents.setInternal(si.id, { threeDS: undefined });
  si.payment_method = pm.id;
  si.last_setup_error = null;
  si.next_action = null;
  const card = cardOf(b.pay, pm.id);
  if (card.decline && !card.attachable) {
    return fail(b, account, si, pm, { code: 'card_declined', decline_code: card.decline.decline_code, message: card.decline.message, type: 'card_error' });
  }
  if (card.threeDS === 'required' && internalOf(b, si.id).threeDS !== 'passed') {
    const url = b.core.pageUrl(`/hosted/setup_3ds/${si.id}?client_secret=${encodeURIComponent(si.client_secret ?? '')}`);
    si.status = 'requires_action';
    si.next_action = { type: 'redirect_to_url', redirect_to_url: { url, return_url: o.returnUrl ?? null } };
    b.setupIntents.setInternal(si.id, { threeDS: 'pending', returnUrl: o.returnUrl ?? null });
    const saved = b.setupIntents.save(si);
    b.core.emitEvent({ type: 'setup_intent.requires_action', object: saved, account });
    return { kind: 'requires_action', si: saved };
  }
  b.setupIntents.save(si);
  return succeed(b, account, si.id);
}

function fail(
  b: Billing,
  account: string,
  si: Stripe.SetupIntent,
  pm: Stripe.PaymentMethod,
  err: { code: Stripe.SetupIntent.LastSetupError.Code; decline_code?: string; message: string; type: Stripe.SetupIntent.LastSetupError.Type },
): SetupResult {
  si.status = 'requires_payment_method';
  si.payment_method = null;
  si.next_action = null;
  si.last_setup_error = {
    code: err.code,
    ...(err.decline_code ? { decline_code: err.decline_code } : {}),
    doc_url: `https://stripe.com/docs/error-codes/${err.code.replace(/_/g, '-')}`,
    message: err.message,
    payment_method: pm,
    type: err.type,
  };
  b.setupIntents.setInternal(si.id, { threeDS: undefined });
  const saved = b.setupIntents.save(si);
  b.core.emitEvent({ type: 'setup_intent.setup_failed', object: saved, account });
  const error =
    err.type === 'card_error'
      ? cardError(err.message, {
          code: err.code,
          ...(err.decline_code ? { decline_code: err.decline_code } : {}),
          extra: { setup_intent: saved, payment_method: pm },
        })
      : new StripeError({ status: 400, type: 'invalid_request_error', code: err.code, message: err.message, extra: { setup_intent: saved } });
  return { kind: 'failed', si: saved, error };
}

function succeed(b: Billing, account: string, id: string): SetupResult {
  const si = b.setupIntents.require(id, account);
  const pmId = String(si.payment_method);
  if (typeof si.customer === 'string') attachPaymentMethod(b, account, pmId, si.customer);
  if (si.usage === 'off_session') markSetUpForOffSession(b.pay, pmId);
  si.status = 'succeeded';
  si.next_action = null;
  const saved = b.setupIntents.save(si);
  b.core.emitEvent({ type: 'setup_intent.succeeded', object: saved, account });
  return { kind: 'succeeded', si: saved };
}

/** Outcome of the 3DS challenge page. */
export function completeSetupAuthentication(b: Billing, account: string, id: string, success: boolean): SetupResult {
  const si = b.setupIntents.require(id, account);
  if (si.status !== 'requires_action') return { kind: si.status === 'succeeded' ? 'succeeded' : 'requires_action', si };
  const pm = b.pay.pms.require(String(si.payment_method), account);
  if (success) {
    b.setupIntents.setInternal(si.id, { threeDS: 'passed' });
    return succeed(b, account, si.id);
  }
  return fail(b, account, si, pm, {
    code: 'setup_intent_authentication_failure',
    message: 'The latest attempt to set up the payment method has failed because authentication failed.',
    type: 'invalid_request_error',
  });
}

export function cancelSetupIntent(b: Billing, account: string, id: string, reason: Stripe.SetupIntent.CancellationReason | null): Stripe.SetupIntent {
  const si = b.setupIntents.require(id, account, 'intent');
  if (si.status === 'succeeded' || si.status === 'canceled') {
    throw invalidRequest(`You cannot cancel this SetupIntent because it has a status of ${si.status}.`, {
      code: 'setup_intent_unexpected_state',
      extra: { setup_intent: si },
    });
  }
  si.status = 'canceled';
  si.cancellation_reason = reason;
  si.next_action = null;
  const saved = b.setupIntents.save(si);
  b.core.emitEvent({ type: 'setup_intent.canceled', object: saved, account });
  return saved;
}

export function setupReturnUrl(returnUrl: string, si: Stripe.SetupIntent): string {
  const u = new URL(returnUrl);
  u.searchParams.set('setup_intent', si.id);
  u.searchParams.set('setup_intent_client_secret', si.client_secret ?? '');
  u.searchParams.set('redirect_status', si.status === 'succeeded' ? 'succeeded' : 'failed');
  return u.toString();
}

export function setupIntentReturnUrl(b: Billing, id: string): string | null {
  const v = internalOf(b, id).returnUrl;
  return typeof v === 'string' && v ? v : null;
}

// ---------------------------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------------------------

const cardOptions = { card: { request_three_d_secure: p.enum('any', 'automatic', 'challenge'), mandate_options: p.any, network: p.string, moto: p.boolean } };

export function registerSetupIntents(b: Billing): void {
  const { core } = b;
  core.route(
    'POST',
    '/v1/setup_intents',
    {
      params: {
        customer: p.string,
        usage: p.enum('on_session', 'off_session'),
        automatic_payment_methods: p.object({ enabled: p.boolean, allow_redirects: p.enum('always', 'never') }, ['enabled']),
        allowed_payment_method_types: p.array(p.string),
        excluded_payment_method_types: p.array(p.string),
        payment_method_types: PAYMENT_METHOD_TYPES_REMOVED,
        on_behalf_of: p.string,
        metadata: p.hash,
        description: p.string,
        payment_method: p.string,
        payment_method_options: cardOptions,
        confirm: p.boolean,
        return_url: p.string,
        mandate_data: p.any,
        use_stripe_sdk: p.boolean,
        flow_directions: p.array(p.enum('inbound', 'outbound')),
        attach_to_self: p.boolean,
      },
    },
    (req) => {
      const pr = req.params;
      const apm = obj(pr, 'automatic_payment_methods');
      if (apm && pr.allowed_payment_method_types !== undefined) {
        throw invalidRequest('You may only specify one of these parameters: allowed_payment_method_types, automatic_payment_methods.', {
          param: 'allowed_payment_method_types',
        });
      }
      const allowed = Array.isArray(pr.allowed_payment_method_types) ? pr.allowed_payment_method_types.map(String) : undefined;
      if (allowed && !allowed.includes('card'))
        throw invalidRequest('The emulator supports card payment methods only.', { param: 'allowed_payment_method_types' });
      if (bool(pr, 'confirm') && !str(pr, 'payment_method')) {
        throw invalidRequest("You cannot confirm this SetupIntent because it's missing a payment method.", {
          code: 'setup_intent_unexpected_state',
          param: 'payment_method',
        });
      }
      const si = createSetupIntent(b, req.account, {
        customer: str(pr, 'customer') ?? null,
        usage: (str(pr, 'usage') as 'on_session' | 'off_session' | undefined) ?? 'off_session',
        metadata: mergeMetadata({}, pr),
        onBehalfOf: str(pr, 'on_behalf_of') ?? null,
        description: str(pr, 'description') ?? null,
        paymentMethod: str(pr, 'payment_method'),
        automaticPaymentMethods: allowed ? false : undefined,
      });
      if (allowed) b.setupIntents.update(si.id, (x) => void (x.allowed_payment_method_types = allowed as Stripe.SetupIntent.AllowedPaymentMethodType[]));
      if (!bool(pr, 'confirm')) return b.setupIntents.require(si.id, req.account);
      const result = confirmSetupIntent(b, req.account, si.id, { returnUrl: str(pr, 'return_url') });
      if (result.kind === 'failed') throw result.error;
      return result.si;
    },
  );
  core.route('GET', '/v1/setup_intents/:id', { params: { client_secret: p.string } }, (req) =>
    b.setupIntents.require(req.pathParams.id ?? '', req.account, 'intent'),
  );
  core.route(
    'POST',
    '/v1/setup_intents/:id',
    {
      params: {
        customer: p.string,
        description: p.string,
        metadata: p.hash,
        payment_method: p.string,
        payment_method_options: cardOptions,
        payment_method_types: PAYMENT_METHOD_TYPES_REMOVED,
        excluded_payment_method_types: p.array(p.string),
        flow_directions: p.array(p.enum('inbound', 'outbound')),
        attach_to_self: p.boolean,
      },
    },
    (req) => {
      const si = b.setupIntents.require(req.pathParams.id ?? '', req.account, 'intent');
      const pr: Params = req.params;
      if (si.status === 'succeeded' || si.status === 'canceled') {
        const k = Object.keys(pr).find((x) => x !== 'metadata' && x !== 'expand');
        if (k)
          throw invalidRequest(`You cannot update this SetupIntent because it has a status of ${si.status}.`, {
            code: 'setup_intent_unexpected_state',
            param: k,
          });
      }
      if (pr.customer !== undefined) {
        const c = str(pr, 'customer');
        if (c) requireCustomer(b, c, req.account, 'customer');
        si.customer = c ?? null;
      }
      if (pr.description !== undefined) si.description = str(pr, 'description') ?? null;
      if (pr.metadata !== undefined) si.metadata = mergeMetadata(si.metadata ?? {}, pr);
      if (pr.payment_method !== undefined) {
        const id = str(pr, 'payment_method');
        const pm = id ? resolvePaymentMethod(b.pay, req.account, id) : undefined;
        si.payment_method = pm?.id ?? null;
        si.status = pm ? 'requires_confirmation' : 'requires_payment_method';
      }
      return b.setupIntents.save(si);
    },
  );
  core.route(
    'POST',
    '/v1/setup_intents/:id/confirm',
    {
      params: {
        payment_method: p.string,
        return_url: p.string,
        mandate_data: p.any,
        use_stripe_sdk: p.boolean,
        payment_method_options: cardOptions,
        client_secret: p.string,
      },
    },
    (req) => {
      const result = confirmSetupIntent(b, req.account, req.pathParams.id ?? '', {
        paymentMethod: str(req.params, 'payment_method'),
        returnUrl: str(req.params, 'return_url'),
      });
      if (result.kind === 'failed') throw result.error;
      return result.si;
    },
  );
  core.route('POST', '/v1/setup_intents/:id/cancel', { params: { cancellation_reason: p.enum('abandoned', 'requested_by_customer', 'duplicate') } }, (req) =>
    cancelSetupIntent(b, req.account, req.pathParams.id ?? '', str(req.params, 'cancellation_reason') ?? null),
  );
  core.route('GET', '/v1/setup_intents', { list: true, params: { customer: p.string, payment_method: p.string, attach_to_self: p.boolean } }, (req) => {
    const customer = str(req.params, 'customer');
    const pm = str(req.params, 'payment_method');
    return core.paginate(
      req,
      b.setupIntents.list(req.account, (x) => (!customer || x.customer === customer) && (!pm || x.payment_method === pm)),
    );
  });
}
