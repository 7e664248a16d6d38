/**
 * `/v1` routes of the payments module: PaymentMethods, PaymentIntents, Charges, Refunds,
 * Transfers (+ reversals), Application fees (+ refunds) and Disputes.
 */
import type Stripe from 'stripe';
import type { EmulatorCore, ApiRequest } from '../../core/core.ts';
import { p, PAYMENT_METHOD_TYPES_REMOVED, str, int, bool, obj, mergeMetadata, type Params } from '../../core/params.ts';
import { invalidRequest, resourceMissing } from '../../core/errors.ts';
import { MISSING_PAYMENT_METHOD, type Payments } from './service.ts';
import { EVIDENCE_FIELDS } from './objects.ts';
import { lookupCardNumber } from './cards.ts';

const CAPTURE = p.enum('automatic', 'automatic_async', 'manual');
const SFU = p.enum('on_session', 'off_session', '');

export function metadataOf(params: Params, key = 'metadata'): Record<string, string> | undefined {
  const m = params[key];
  if (m === undefined) return undefined;
  return mergeMetadata({}, params, key);
}

function transferDataOf(params: Params, key = 'transfer_data'): { destination?: string; amount?: number } | undefined {
  const td = obj(params, key);
  if (!td) return undefined;
  const out: { destination?: string; amount?: number } = {};
  const d = str(td, 'destination');
  const a = int(td, 'amount');
  if (d !== undefined) out.destination = d;
  if (a !== undefined) out.amount = a;
  return out;
}

export function registerPaymentRoutes(core: EmulatorCore, pay: Payments): void {
  // ------------------------------------------------------------------------------------------
  // PaymentMethods
  // ------------------------------------------------------------------------------------------
  core.route(
    'POST',
    '/v1/payment_methods',
    {
      required: ['type'],
      params: {
        type: p.enum('card'),
        card: { token: p.string, number: p.string, exp_month: p.integer, exp_year: p.integer, cvc: p.string },
        billing_details: { email: p.string, name: p.string, phone: p.string, address: p.any },
        metadata: p.hash,
        allow_redisplay: p.enum('always', 'limited', 'unspecified'),
      },
    },
    (req) => {
      const card = obj(req.params, 'card');
      const token = card ? str(card, 'token') : undefined;
      const number = card ? str(card, 'number') : undefined;
      let cardNumber: string | undefined;
      if (token) {
        const map: Record<string, string> = {
          tok_visa: '4242424242424242',
          tok_chargeDeclined: '4000000000000002',
          tok_chargeDeclinedInsufficientFunds: '4000000000009995',
          tok_threeDSecure2Required: '4000000000003220',
          tok_bypassPending: '4000000000000077',
          tok_createDispute: '4000000000000259',
        };
        cardNumber = map[token];
        if (!cardNumber) throw invalidRequest(`No such token: '${token}'`, { code: 'resource_missing', param: 'card[token]' });
      } else if (number) {
        cardNumber = number;
      } else {
        throw invalidRequest('Missing required param: card.', { code: 'parameter_missing', param: 'card' });
      }
      const found = lookupCardNumber(cardNumber);
      if (!found.ok) throw invalidRequest(found.message, { code: 'incorrect_number', param: 'card[number]' });
      const md = metadataOf(req.params);
      return pay.createCardPaymentMethod(req.account, found.card, { email: str(req.params, 'billing_details.email') ?? null, ...(md ? { metadata: md } : {}) });
    },
  );
  core.route('GET', '/v1/payment_methods/:id', {}, (req) => pay.retrievePaymentMethod(req.account, req.pathParams.id ?? ''));
  core.route('POST', '/v1/payment_methods/:id', { params: { metadata: p.hash, billing_details: p.any, allow_redisplay: p.enum('always', 'limited', 'unspecified') } }, (req) => {
    const pm = pay.pms.require(req.pathParams.id ?? '', req.account);
    pm.metadata = mergeMetadata(pm.metadata ?? {}, req.params);
    return pay.pms.save(pm);
  });
  core.route('GET', '/v1/payment_methods', { list: true, params: { customer: p.string, type: p.string } }, (req) => {
    const customer = str(req.params, 'customer');
    return core.paginate(req, pay.pms.list(req.account, (pm) => (customer ? pm.customer === customer : true)));
  });

  // ------------------------------------------------------------------------------------------
  // PaymentIntents
  // ------------------------------------------------------------------------------------------
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
      const apm = obj(pr, 'automatic_payment_methods');
      const md = metadataOf(pr);
      const pi = pay.createIntent({
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
        capture_method: str(pr, 'capture_method') as Stripe.PaymentIntent.CaptureMethod | undefined,
        automatic_payment_methods: apm ? { enabled: bool(apm, 'enabled') ?? true, allow_redirects: str(apm, 'allow_redirects') as 'always' | 'never' | undefined } : undefined,
        payment_method: str(pr, 'payment_method'),
        transfer_group: str(pr, 'transfer_group'),
        statement_descriptor: str(pr, 'statement_descriptor'),
        statement_descriptor_suffix: str(pr, 'statement_descriptor_suffix'),
      });
      if (bool(pr, 'confirm')) {
        const result = pay.confirmIntent(req.account, pi.id, { return_url: str(pr, 'return_url') });
        if (result.kind === 'declined') throw result.error;
        return result.pi;
      }
      return pi;
    },
  );
  core.route('GET', '/v1/payment_intents/:id', { params: { client_secret: p.string } }, (req) => pay.requireIntent(req.pathParams.id ?? '', req.account));
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
      const pi = pay.requireIntent(req.pathParams.id ?? '', account);
      const money = ['amount', 'currency', 'application_fee_amount', 'transfer_data', 'payment_method', 'capture_method', 'customer'].filter((k) => pr[k] !== undefined);
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
        pay.validateConnectParams({
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
      if (pr.customer !== undefined) set('customer', str(pr, 'customer') ?? null);
      if (pr.capture_method !== undefined) set('capture_method', (str(pr, 'capture_method') ?? 'automatic_async') as Stripe.PaymentIntent.CaptureMethod);
      if (pr.transfer_group !== undefined) set('transfer_group', str(pr, 'transfer_group') ?? null);
      if (pr.payment_method !== undefined) {
        const pmId = str(pr, 'payment_method');
        const pm = pmId ? pay.resolvePaymentMethod(account, pmId) : undefined;
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
      const result = pay.confirmIntent(req.account, req.pathParams.id ?? '', {
        payment_method: str(pr, 'payment_method'),
        return_url: str(pr, 'return_url'),
        receipt_email: str(pr, 'receipt_email'),
        capture_method: str(pr, 'capture_method') as Stripe.PaymentIntent.CaptureMethod | undefined,
      });
      if (result.kind === 'declined') throw result.error;
      return result.pi;
    },
  );
  core.route(
    'POST',
    '/v1/payment_intents/:id/cancel',
    { params: { cancellation_reason: p.enum('duplicate', 'fraudulent', 'requested_by_customer', 'abandoned') } },
    (req) => pay.cancelIntent(req.account, req.pathParams.id ?? '', str(req.params, 'cancellation_reason') as Stripe.PaymentIntent.CancellationReason | undefined),
  );
  core.route(
    'POST',
    '/v1/payment_intents/:id/capture',
    { params: { amount_to_capture: p.integer, application_fee_amount: p.integer, metadata: p.hash, final_capture: p.boolean, statement_descriptor: p.string, statement_descriptor_suffix: p.string, transfer_data: { amount: p.integer } } },
    (req) =>
      pay.captureIntent(req.account, req.pathParams.id ?? '', {
        amount_to_capture: int(req.params, 'amount_to_capture'),
        application_fee_amount: int(req.params, 'application_fee_amount'),
        metadata: metadataOf(req.params),
      }),
  );
  core.route('GET', '/v1/payment_intents', { list: true, params: { customer: p.string } }, (req) => {
    const customer = str(req.params, 'customer');
    return core.paginate(req, pay.pis.list(req.account, (pi) => (customer ? pi.customer === customer : true)));
  });

  // ------------------------------------------------------------------------------------------
  // Charges
  // ------------------------------------------------------------------------------------------
  core.route('GET', '/v1/charges/:id', {}, (req) => pay.charges.require(req.pathParams.id ?? '', req.account));
  core.route('POST', '/v1/charges/:id', { params: { metadata: p.hash, description: p.string, receipt_email: p.string, fraud_details: p.any, shipping: p.any, transfer_group: p.string } }, (req) => {
    const c = pay.charges.require(req.pathParams.id ?? '', req.account);
    const prev: Record<string, unknown> = {};
    if (req.params.metadata !== undefined) {
      prev.metadata = c.metadata;
      c.metadata = mergeMetadata(c.metadata, req.params);
    }
    if (req.params.description !== undefined) {
      prev.description = c.description;
      c.description = str(req.params, 'description') ?? null;
    }
    if (req.params.receipt_email !== undefined) {
      prev.receipt_email = c.receipt_email;
      c.receipt_email = str(req.params, 'receipt_email') ?? null;
    }
    const saved = pay.charges.save(c);
    core.emitEvent({ type: 'charge.updated', object: saved, account: req.account, previousAttributes: prev });
    return saved;
  });
  core.route('GET', '/v1/charges', { list: true, params: { payment_intent: p.string, customer: p.string, transfer_group: p.string } }, (req) => {
    const pi = str(req.params, 'payment_intent');
    const tg = str(req.params, 'transfer_group');
    return core.paginate(
      req,
      pay.charges.list(req.account, (c) => (pi ? c.payment_intent === pi : true) && (tg ? c.transfer_group === tg : true)),
    );
  });
  core.route('POST', '/v1/charges', { params: { amount: p.integer, currency: p.string, source: p.string } }, () => {
    throw invalidRequest('The emulator supports PaymentIntents only; create a PaymentIntent instead of a Charge.', { param: 'source' });
  });

  // ------------------------------------------------------------------------------------------
  // Refunds
  // ------------------------------------------------------------------------------------------
  core.route(
    'POST',
    '/v1/refunds',
    {
      params: {
        charge: p.string,
        payment_intent: p.string,
        amount: p.integer,
        reason: p.enum('duplicate', 'fraudulent', 'requested_by_customer'),
        reverse_transfer: p.boolean,
        refund_application_fee: p.boolean,
        metadata: p.hash,
        instructions_email: p.string,
        origin: p.enum('customer_balance'),
        customer: p.string,
      },
    },
    (req) =>
      pay.createRefund(req.account, {
        charge: str(req.params, 'charge'),
        payment_intent: str(req.params, 'payment_intent'),
        amount: int(req.params, 'amount'),
        reason: str(req.params, 'reason') as Stripe.RefundCreateParams.Reason | undefined,
        reverse_transfer: bool(req.params, 'reverse_transfer'),
        refund_application_fee: bool(req.params, 'refund_application_fee'),
        metadata: metadataOf(req.params),
      }),
  );
  core.route('GET', '/v1/refunds/:id', {}, (req) => pay.refunds.require(req.pathParams.id ?? '', req.account));
  core.route('POST', '/v1/refunds/:id', { params: { metadata: p.hash } }, (req) => {
    const r = pay.refunds.require(req.pathParams.id ?? '', req.account);
    const prev = { metadata: r.metadata };
    r.metadata = mergeMetadata(r.metadata ?? {}, req.params);
    const saved = pay.refunds.save(r);
    core.emitEvent({ type: 'refund.updated', object: saved, account: req.account, previousAttributes: prev });
    return saved;
  });
  core.route('POST', '/v1/refunds/:id/cancel', {}, (req) => pay.cancelRefund(req.account, req.pathParams.id ?? ''));
  core.route('GET', '/v1/refunds', { list: true, params: { charge: p.string, payment_intent: p.string } }, (req) => {
    const ch = str(req.params, 'charge');
    const pi = str(req.params, 'payment_intent');
    return core.paginate(req, pay.refunds.list(req.account, (r) => (ch ? r.charge === ch : true) && (pi ? r.payment_intent === pi : true)));
  });

  // ------------------------------------------------------------------------------------------
  // Transfers and reversals
  // ------------------------------------------------------------------------------------------
  const platformOnly = (req: ApiRequest, what: string): void => {
    if (!req.isPlatform) throw invalidRequest(`${what} can only be made by the platform (without the Stripe-Account header).`);
  };
  core.route(
    'POST',
    '/v1/transfers',
    {
      required: ['amount', 'currency', 'destination'],
      params: { amount: p.integer, currency: p.string, destination: p.string, source_transaction: p.string, transfer_group: p.string, metadata: p.hash, description: p.string, source_type: p.enum('bank_account', 'card', 'fpx') },
    },
    (req) => {
      platformOnly(req, 'Transfers');
      return pay.createTransfer({
        amount: int(req.params, 'amount') ?? 0,
        currency: str(req.params, 'currency') ?? '',
        destination: str(req.params, 'destination') ?? '',
        source_transaction: str(req.params, 'source_transaction'),
        transfer_group: str(req.params, 'transfer_group'),
        metadata: metadataOf(req.params),
        description: str(req.params, 'description'),
      });
    },
  );
  core.route('GET', '/v1/transfers/:id', {}, (req) => pay.transfers.require(req.pathParams.id ?? '', req.account));
  core.route('POST', '/v1/transfers/:id', { params: { metadata: p.hash, description: p.string } }, (req) => {
    const t = pay.transfers.require(req.pathParams.id ?? '', req.account);
    const prev: Record<string, unknown> = {};
    if (req.params.metadata !== undefined) {
      prev.metadata = t.metadata;
      t.metadata = mergeMetadata(t.metadata, req.params);
    }
    if (req.params.description !== undefined) {
      prev.description = t.description;
      t.description = str(req.params, 'description') ?? null;
    }
    const saved = pay.transfers.save(t);
    core.emitEvent({ type: 'transfer.updated', object: saved, previousAttributes: prev });
    return saved;
  });
  core.route('GET', '/v1/transfers', { list: true, params: { destination: p.string, transfer_group: p.string } }, (req) => {
    const dest = str(req.params, 'destination');
    const tg = str(req.params, 'transfer_group');
    return core.paginate(req, pay.transfers.list(req.account, (t) => (dest ? t.destination === dest : true) && (tg ? t.transfer_group === tg : true)));
  });
  core.route('POST', '/v1/transfers/:id/reversals', { params: { amount: p.integer, refund_application_fee: p.boolean, metadata: p.hash, description: p.string } }, (req) => {
    platformOnly(req, 'Transfer reversals');
    const t = pay.transfers.require(req.pathParams.id ?? '', req.account);
    const amount = int(req.params, 'amount') ?? t.amount - t.amount_reversed;
    const { transfer, reversal } = pay.reverseTransfer(t.id, amount, { metadata: metadataOf(req.params) ?? {}, sourceRefund: null, refundFee: !!bool(req.params, 'refund_application_fee') });
    core.emitEvent({ type: 'transfer.reversed', object: transfer });
    return reversal;
  });
  core.route('GET', '/v1/transfers/:id/reversals', { list: true }, (req) => {
    const t = pay.transfers.require(req.pathParams.id ?? '', req.account);
    return core.paginate(req, pay.reversals.list(req.account, (r) => r.transfer === t.id), `/v1/transfers/${t.id}/reversals`);
  });
  core.route('GET', '/v1/transfers/:id/reversals/:rid', {}, (req) => {
    const t = pay.transfers.require(req.pathParams.id ?? '', req.account);
    const r = pay.reversals.get(req.pathParams.rid ?? '', req.account);
    if (!r || r.transfer !== t.id) throw resourceMissing('transfer reversal', req.pathParams.rid ?? '');
    return r;
  });
  core.route('POST', '/v1/transfers/:id/reversals/:rid', { params: { metadata: p.hash } }, (req) => {
    const r = pay.reversals.get(req.pathParams.rid ?? '', req.account);
    if (!r || r.transfer !== req.pathParams.id) throw resourceMissing('transfer reversal', req.pathParams.rid ?? '');
    r.metadata = mergeMetadata(r.metadata ?? {}, req.params);
    return pay.reversals.save(r);
  });

  // ------------------------------------------------------------------------------------------
  // Application fees
  // ------------------------------------------------------------------------------------------
  core.route('GET', '/v1/application_fees/:id', {}, (req) => pay.fees.require(req.pathParams.id ?? '', req.account));
  core.route('GET', '/v1/application_fees', { list: true, params: { charge: p.string } }, (req) => {
    const ch = str(req.params, 'charge');
    return core.paginate(req, pay.fees.list(req.account, (f) => (ch ? f.charge === ch || f.originating_transaction === ch : true)));
  });
  core.route('POST', '/v1/application_fees/:id/refunds', { params: { amount: p.integer, metadata: p.hash } }, (req) => {
    const fee = pay.fees.require(req.pathParams.id ?? '', req.account);
    const { fee: updated, refund } = pay.refundFee(fee.id, int(req.params, 'amount'), metadataOf(req.params) ?? {});
    core.emitEvent({ type: 'application_fee.refunded', object: updated });
    return refund;
  });
  // The SDK's legacy `applicationFees.refund` (POST /v1/application_fees/:id/refund) returns the fee.
  core.route('POST', '/v1/application_fees/:id/refund', { params: { amount: p.integer, directive: p.string } }, (req) => {
    const fee = pay.fees.require(req.pathParams.id ?? '', req.account);
    const { fee: updated } = pay.refundFee(fee.id, int(req.params, 'amount'), {});
    core.emitEvent({ type: 'application_fee.refunded', object: updated });
    return updated;
  });
  core.route('GET', '/v1/application_fees/:id/refunds', { list: true }, (req) => {
    const fee = pay.fees.require(req.pathParams.id ?? '', req.account);
    return core.paginate(req, pay.feeRefunds.list(req.account, (r) => r.fee === fee.id), `/v1/application_fees/${fee.id}/refunds`);
  });
  core.route('GET', '/v1/application_fees/:id/refunds/:rid', {}, (req) => {
    const r = pay.feeRefunds.get(req.pathParams.rid ?? '', req.account);
    if (!r || r.fee !== req.pathParams.id) throw resourceMissing('fee refund', req.pathParams.rid ?? '');
    return r;
  });
  core.route('POST', '/v1/application_fees/:id/refunds/:rid', { params: { metadata: p.hash } }, (req) => {
    const r = pay.feeRefunds.get(req.pathParams.rid ?? '', req.account);
    if (!r || r.fee !== req.pathParams.id) throw resourceMissing('fee refund', req.pathParams.rid ?? '');
    r.metadata = mergeMetadata(r.metadata ?? {}, req.params);
    return pay.feeRefunds.save(r);
  });

  // ------------------------------------------------------------------------------------------
  // Disputes
  // ------------------------------------------------------------------------------------------
  const evidenceSpec = Object.fromEntries([...EVIDENCE_FIELDS.map((k) => [k, p.string] as const), ['shipping_address', p.any] as const, ['enhanced_evidence', p.any] as const]);
  core.route('GET', '/v1/disputes/:id', {}, (req) => pay.disputes.require(req.pathParams.id ?? '', req.account));
  core.route(
    'POST',
    '/v1/disputes/:id',
    { params: { evidence: p.object(evidenceSpec), submit: p.boolean, metadata: p.hash, intended_submission_method: p.enum('manual', 'prefer_manual', 'prefer_smart_disputes', 'smart_disputes') } },
    (req) => {
      const ev = obj(req.params, 'evidence');
      const evidence: Record<string, string> | undefined = ev ? Object.fromEntries(Object.entries(ev).filter(([, v]) => typeof v === 'string').map(([k, v]) => [k, String(v)])) : undefined;
      const total = evidence ? Object.values(evidence).reduce((n, v) => n + v.length, 0) : 0;
      if (total > 150_000) throw invalidRequest('The evidence is too long: the combined text may be at most 150,000 characters.', { param: 'evidence' });
      const d = pay.disputes.require(req.pathParams.id ?? '', req.account);
      return pay.updateDispute(req.account, d.id, {
        evidence,
        submit: bool(req.params, 'submit'),
        metadata: req.params.metadata !== undefined ? mergeMetadata(d.metadata, req.params) : undefined,
      });
    },
  );
  core.route('POST', '/v1/disputes/:id/close', {}, (req) => pay.closeDispute(req.account, req.pathParams.id ?? ''));
  core.route('GET', '/v1/disputes', { list: true, params: { charge: p.string, payment_intent: p.string } }, (req) => {
    const ch = str(req.params, 'charge');
    const pi = str(req.params, 'payment_intent');
    return core.paginate(req, pay.disputes.list(req.account, (d) => (ch ? d.charge === ch : true) && (pi ? d.payment_intent === pi : true)));
  });
}
