/** `/v1/payment_intents` routes: create (optionally confirming), retrieve, update, confirm, capture, cancel, list. */
import type Stripe from 'stripe';
import type { EmulatorCore } from '../../../core/core.ts';
import { p, PAYMENT_METHOD_TYPES_REMOVED, str, int, bool, obj, mergeMetadata, type Params } from '../../../core/params.ts';
import { invalidRequest } from '../../../core/errors.ts';
import { MISSING_PAYMENT_METHOD, cancelIntent, captureIntent, confirmIntent, createIntent, requireIntent } from '../intents.ts';
import { resolvePaymentMethod } from '../payment-methods.ts';
import { validateConnectParams } from '../validation.ts';
import { metadataOf, transferDataOf } from '../param-readers.ts';
import { intentShippingOf } from '../shipping.ts';
import type { Payments } from '../state.ts';

const CAPTURE = p.enum('automatic', 'automatic_async', 'manual');
const SFU = p.enum('on_session', 'off_session', '');

export function registerIntentRoutes(core: EmulatorCore, pay: Payments): void {
  const piCommon = {
    metadata: p.hash,
    description: p.string,
    receipt_email: p.string,
    customer: p.string,
    payment_method: p.string,
    capture_method: CAPTURE,
    payment_method_types: PAYMENT_METHOD_TYPES_REMOVED,
    setup_future_usage: SFU,
    statement_descriptor: p.string,
    statement_descriptor_suffix: p.string,
    transfer_group: p.string,
    shipping: p.any,
    payment_method_options: p.any,
    excluded_payment_method_types: p.array(p.string),
  };
  core.route(
    'POST',
    '/v1/payment_intents',
    {
      required: ['amount', 'currency'],
      params: {
        ...piCommon,
        amount: p.integer,
        currency: p.string,
        automatic_payment_methods: p.object({ enabled: p.boolean, allow_redirects: p.enum('always', 'never') }, ['enabled']),
        application_fee_amount: p.integer,
        transfer_data: p.object({ destination: p.string, amount: p.integer }, ['destination']),
        on_behalf_of: p.string,
        confirm: p.boolean,
        return_url: p.string,
        confirmation_method: p.enum('automatic', 'manual'),
        error_on_requires_action: p.boolean,
        off_session: p.union(p.boolean, p.enum('one_off', 'recurring')),
        use_stripe_sdk: p.boolean,
        mandate_data: p.any,
      },
    },
    (req) => {
      const pr = req.params;
      if (bool(pr, 'confirm') && !str(pr, 'payment_method')) {
        // Checked before anything is created, as Stripe does.
        throw invalidRequest(MISSING_PAYMENT_METHOD, { code: 'payment_intent_unexpected_state', param: 'payment_method' });
      }
      const offSession = pr.off_session !== undefined && pr.off_session !== false;
      if (offSession && !bool(pr, 'confirm')) {
        throw invalidRequest('`off_session` can only be used when confirming the PaymentIntent (`confirm=true`).', { param: 'off_session' });
      }
      checkCustomer(pay, req.account, str(pr, 'customer'));
      const apm = obj(pr, 'automatic_payment_methods');
      const md = metadataOf(pr);
      const pi = createIntent(pay, {
        account: req.account,
        amount: int(pr, 'amount') ?? 0,
        currency: str(pr, 'currency') ?? '',
        application_fee_amount: int(pr, 'application_fee_amount'),
        transfer_data: transferDataOf(pr),
        on_behalf_of: str(pr, 'on_behalf_of'),
        metadata: md,
        description: str(pr, 'description'),
        receipt_email: str(pr, 'receipt_email'),
        customer: str(pr, 'customer'),
        capture_method: str(pr, 'capture_method'),
        automatic_payment_methods: apm
          ? { enabled: bool(apm, 'enabled') ?? true, allow_redirects: str(apm, 'allow_redirects') as 'always' | 'never' | undefined }
          : undefined,
        payment_method: str(pr, 'payment_method'),
        transfer_group: str(pr, 'transfer_group'),
        statement_descriptor: str(pr, 'statement_descriptor'),
        statement_descriptor_suffix: str(pr, 'statement_descriptor_suffix'),
        setup_future_usage: setupFutureUsageOf(pr),
        shipping: intentShippingOf(pr),
      });
      if (bool(pr, 'confirm')) {
        const result = confirmIntent(pay, req.account, pi.id, {
          return_url: str(pr, 'return_url'),
          off_session: offSession,
          errorOnRequiresAction: bool(pr, 'error_on_requires_action'),
        });
        if (result.kind === 'declined') throw result.error;
        return result.pi;
      }
      return pi;
    },
  );
  core.route('GET', '/v1/payment_intents/:id', { params: { client_secret: p.string } }, (req) => requireIntent(pay, req.pathParams.id ?? '', req.account));
  core.route(
    'POST',
    '/v1/payment_intents/:id',
    {
      params: {
        ...piCommon,
        amount: p.integer,
        currency: p.string,
        application_fee_amount: p.union(p.integer, p.enum('')),
        transfer_data: p.object({ amount: p.integer }),
      },
    },
    (req) => {
      const pr = req.params;
      const account = req.account;
      const pi = requireIntent(pay, req.pathParams.id ?? '', account);
      const money = ['amount', 'currency', 'application_fee_amount', 'transfer_data', 'payment_method', 'capture_method', 'customer'].filter(
        (k) => pr[k] !== undefined,
      );
      const editable: Stripe.PaymentIntent.Status[] = ['requires_payment_method', 'requires_confirmation', 'requires_action'];
      if (money.length > 0 && !editable.includes(pi.status)) {
        throw invalidRequest(
          `This PaymentIntent's ${money[0]} could not be updated because it has a status of ${pi.status}. You may only update the ${money[0]} of a PaymentIntent with one of the following statuses: requires_payment_method, requires_confirmation, requires_action.`,
          { code: 'payment_intent_unexpected_state', param: money[0] },
        );
      }
      const prev: Record<string, unknown> = {};
      const set = <K extends keyof Stripe.PaymentIntent>(k: K, v: Stripe.PaymentIntent[K]): void => {
        if (JSON.stringify(pi[k]) !== JSON.stringify(v)) {
          prev[k] = pi[k];
          pi[k] = v;
        }
      };
      const amount = int(pr, 'amount');
      const currency = str(pr, 'currency');
      const fee = pr.application_fee_amount === '' ? null : int(pr, 'application_fee_amount');
      const td = transferDataOf(pr);
      const newAmount = amount ?? pi.amount;
      const newCurrency = currency?.toLowerCase() ?? pi.currency;
      if (amount !== undefined || currency !== undefined || fee !== undefined || td !== undefined) {
        const feeAfter = fee === undefined ? pi.application_fee_amount : fee;
        const destination = pi.transfer_data ? String(pi.transfer_data.destination) : undefined;
        validateConnectParams(pay, {
          account,
          amount: newAmount,
          ...(feeAfter !== null ? { application_fee_amount: feeAfter } : {}),
          transfer_data: destination ? { destination, amount: td?.amount ?? pi.transfer_data?.amount } : td ? { amount: td.amount } : undefined,
        });
      }
      if (amount !== undefined) set('amount', amount);
      if (currency !== undefined) set('currency', newCurrency);
      if (fee !== undefined) set('application_fee_amount', fee);
      if (td?.amount !== undefined && pi.transfer_data) set('transfer_data', { ...pi.transfer_data, amount: td.amount });
      if (pr.metadata !== undefined) set('metadata', mergeMetadata(pi.metadata, pr));
      if (pr.description !== undefined) set('description', str(pr, 'description') ?? null);
      if (pr.receipt_email !== undefined) set('receipt_email', str(pr, 'receipt_email') ?? null);
      if (pr.customer !== undefined) {
        checkCustomer(pay, account, str(pr, 'customer'));
        set('customer', str(pr, 'customer') ?? null);
      }
      if (pr.setup_future_usage !== undefined) set('setup_future_usage', setupFutureUsageOf(pr) ?? null);
      if (pr.capture_method !== undefined) set('capture_method', str(pr, 'capture_method') ?? 'automatic_async');
      if (pr.transfer_group !== undefined) set('transfer_group', str(pr, 'transfer_group') ?? null);
      if (pr.payment_method !== undefined) {
        const pmId = str(pr, 'payment_method');
        const pm = pmId ? resolvePaymentMethod(pay, account, pmId) : undefined;
        set('payment_method', pm?.id ?? null);
        set('status', pm ? 'requires_confirmation' : 'requires_payment_method');
      }
      // Stripe has no `payment_intent.updated` event.
      return pay.pis.save(pi);
    },
  );
  core.route(
    'POST',
    '/v1/payment_intents/:id/confirm',
    {
      params: {
        payment_method: p.string,
        return_url: p.string,
        receipt_email: p.string,
        capture_method: CAPTURE,
        setup_future_usage: SFU,
        payment_method_types: PAYMENT_METHOD_TYPES_REMOVED,
        error_on_requires_action: p.boolean,
        off_session: p.union(p.boolean, p.enum('one_off', 'recurring')),
        use_stripe_sdk: p.boolean,
        mandate_data: p.any,
        payment_method_options: p.any,
        shipping: p.any,
        client_secret: p.string,
      },
    },
    (req) => {
      const pr = req.params;
      const id = req.pathParams.id ?? '';
      if (pr.setup_future_usage !== undefined) {
        const pi = requireIntent(pay, id, req.account);
        pi.setup_future_usage = setupFutureUsageOf(pr) ?? null;
        pay.pis.save(pi);
      }
      const result = confirmIntent(pay, req.account, id, {
        payment_method: str(pr, 'payment_method'),
        return_url: str(pr, 'return_url'),
        receipt_email: str(pr, 'receipt_email'),
        capture_method: str(pr, 'capture_method'),
        off_session: pr.off_session !== undefined && pr.off_session !== false,
        errorOnRequiresAction: bool(pr, 'error_on_requires_action'),
      });
      if (result.kind === 'declined') throw result.error;
      return result.pi;
    },
  );
  core.route(
    'POST',
    '/v1/payment_intents/:id/cancel',
    { params: { cancellation_reason: p.enum('duplicate', 'fraudulent', 'requested_by_customer', 'abandoned') } },
    (req) => cancelIntent(pay, req.account, req.pathParams.id ?? '', str(req.params, 'cancellation_reason')),
  );
  core.route(
    'POST',
    '/v1/payment_intents/:id/capture',
    {
      params: {
        amount_to_capture: p.integer,
        application_fee_amount: p.integer,
        metadata: p.hash,
        final_capture: p.boolean,
        statement_descriptor: p.string,
        statement_descriptor_suffix: p.string,
        transfer_data: { amount: p.integer },
      },
    },
    (req) =>
      captureIntent(pay, req.account, req.pathParams.id ?? '', {
        amount_to_capture: int(req.params, 'amount_to_capture'),
        application_fee_amount: int(req.params, 'application_fee_amount'),
        metadata: metadataOf(req.params),
      }),
  );
  core.route('GET', '/v1/payment_intents', { list: true, params: { customer: p.string } }, (req) => {
    const customer = str(req.params, 'customer');
    return core.paginate(
      req,
      pay.pis.list(req.account, (pi) => (customer ? pi.customer === customer : true)),
    );
  });
}

function setupFutureUsageOf(pr: Params): Stripe.PaymentIntent.SetupFutureUsage | undefined {
  const v = str(pr, 'setup_future_usage');
  return v === 'on_session' || v === 'off_session' ? v : undefined;
}

/** `customer` must be one of the account's customers (Customers live in billing: `pay.customerLookup`). */
function checkCustomer(pay: Payments, account: string, customer: string | undefined): void {
  if (!customer || !pay.customerLookup) return;
  if (!pay.customerLookup(account, customer)) throw invalidRequest(`No such customer: '${customer}'`, { code: 'resource_missing', param: 'customer' });
}
