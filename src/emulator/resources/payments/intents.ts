/**
 * PaymentIntents: create, confirm (3DS through the hosted challenge page), capture, cancel.
 * Authorising and capturing the card, and the money that moves, are in charges.ts.
 */
import type Stripe from 'stripe';
import { randomToken } from '../../core/ids.ts';
import { StripeError, cardError, invalidRequest } from '../../core/errors.ts';
import { afterSuccess, attemptCharge, captureCharge } from './charges.ts';
import { DETACHED_MESSAGE, cardOf, isDetached, isSetUpForOffSession, resolvePaymentMethod } from './payment-methods.ts';
import { validateAmount, validateConnectParams, validateCurrency } from './validation.ts';
import type { Payments } from './state.ts';

export const MISSING_PAYMENT_METHOD =
  "You cannot confirm this PaymentIntent because it's missing a payment method. You can either update the PaymentIntent with a payment method and then confirm it again, or confirm it again directly with a payment method.";

export interface PaymentIntentInternal {
  threeDS?: 'pending' | 'passed';
  checkoutSession?: string;
  /** Where the 3DS page sends the buyer back to. */
  returnUrl?: string | null;
}

export interface CreateIntentInput {
  account: string;
  amount: number;
  currency: string;
  application_fee_amount?: number | undefined;
  transfer_data?: { destination?: string | undefined; amount?: number | undefined } | undefined;
  on_behalf_of?: string | undefined;
  metadata?: Record<string, string> | undefined;
  description?: string | undefined;
  receipt_email?: string | undefined;
  customer?: string | undefined;
  capture_method?: Stripe.PaymentIntent.CaptureMethod | undefined;
  automatic_payment_methods?: { enabled: boolean; allow_redirects?: 'always' | 'never' | undefined } | undefined;
  payment_method?: string | undefined;
  transfer_group?: string | undefined;
  statement_descriptor?: string | undefined;
  statement_descriptor_suffix?: string | undefined;
  /** Field names for errors (Checkout reports `payment_intent_data[...]`). */
  paramPrefix?: string | undefined;
  /** Emulator-private data stored with the PaymentIntent (e.g. billing's `{invoice: 'in_…'}`), never returned. */
  internal?: Record<string, unknown> | undefined;
  /** Save the card for later on success (attached to `customer`; `off_session`: set up for off-session payments). */
  setup_future_usage?: Stripe.PaymentIntent.SetupFutureUsage | undefined;
  /** Where the goods go (`shipping`; Checkout sets it from the address its page collected). */
  shipping?: Stripe.PaymentIntent.Shipping | undefined;
}

export type ConfirmResult =
  | { kind: 'succeeded' | 'requires_capture' | 'requires_action' | 'processing'; pi: Stripe.PaymentIntent }
  | { kind: 'declined'; pi: Stripe.PaymentIntent; error: StripeError };

const CONFIRMABLE: Stripe.PaymentIntent.Status[] = ['requires_payment_method', 'requires_confirmation', 'requires_action'];

export function createIntent(pay: Payments, input: CreateIntentInput): Stripe.PaymentIntent {
  const currency = validateCurrency(input.currency);
  validateAmount(input.amount, currency);
  validateConnectParams(pay, {
    account: input.account,
    amount: input.amount,
    application_fee_amount: input.application_fee_amount,
    transfer_data: input.transfer_data,
    on_behalf_of: input.on_behalf_of,
    prefix: input.paramPrefix,
  });
  const id = pay.core.newId('pi');
  let pm: Stripe.PaymentMethod | undefined;
  if (input.payment_method) pm = resolvePaymentMethod(pay, input.account, input.payment_method);
  const pi: Stripe.PaymentIntent = {
    id,
    object: 'payment_intent',
    allowed_payment_method_types: null,
    amount: input.amount,
    amount_capturable: 0,
    amount_details: { tip: {} },
    amount_received: 0,
    application: null,
    application_fee_amount: input.application_fee_amount ?? null,
    automatic_payment_methods: {
      allow_redirects: input.automatic_payment_methods?.allow_redirects ?? 'always',
      enabled: input.automatic_payment_methods?.enabled ?? true,
    },
    canceled_at: null,
    cancellation_reason: null,
    capture_method: input.capture_method ?? 'automatic_async',
    client_secret: `${id}_secret_${randomToken(25)}`,
    confirmation_method: 'automatic',
    created: pay.core.now(),
    currency,
    customer: input.customer ?? null,
    customer_account: null,
    description: input.description ?? null,
    excluded_payment_method_types: null,
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    managed_payments: null,
    metadata: input.metadata ?? {},
    next_action: null,
    on_behalf_of: input.on_behalf_of ?? null,
    payment_method: pm?.id ?? null,
    payment_method_configuration_details: null,
    payment_method_options: { card: { installments: null, mandate_options: null, network: null, request_three_d_secure: 'automatic' } },
    payment_method_types: ['card'],
    payment_record: null,
    processing: null,
    receipt_email: input.receipt_email ?? null,
    review: null,
    setup_future_usage: input.setup_future_usage ?? null,
    shipping: input.shipping ?? null,
    source: null,
    statement_descriptor: input.statement_descriptor ?? null,
    statement_descriptor_suffix: input.statement_descriptor_suffix ?? null,
    status: pm ? 'requires_confirmation' : 'requires_payment_method',
    transfer_data: input.transfer_data?.destination
      ? { destination: input.transfer_data.destination, ...(input.transfer_data.amount !== undefined ? { amount: input.transfer_data.amount } : {}) }
      : null,
    transfer_group: input.transfer_group ?? null,
  };
  pay.pis.insert(input.account, pi, { internal: { ...(input.internal ?? {}) } });
  pay.core.emitEvent({ type: 'payment_intent.created', object: pi, account: input.account });
  return pi;
}

export function requireIntent(pay: Payments, id: string, account: string): Stripe.PaymentIntent {
  return pay.pis.require(id, account, 'intent');
}

export function intentInternal(pay: Payments, id: string): PaymentIntentInternal {
  return pay.pis.internal(id);
}

/**
 * Confirm a PaymentIntent. Declines don't throw: they come back as `{kind:'declined', error}`
 * (the API route throws the error, like Stripe's 402; hosted pages show the message).
 */
export function confirmIntent(
  pay: Payments,
  account: string,
  id: string,
  opts: {
    payment_method?: string | undefined;
    return_url?: string | undefined;
    receipt_email?: string | undefined;
    capture_method?: Stripe.PaymentIntent.CaptureMethod | undefined;
    pm?: Stripe.PaymentMethod | undefined;
    /** The customer is not present: no 3DS challenge is possible (see `offSessionAuthentication`). */
    off_session?: boolean | undefined;
    /**
     * When an off-session payment needs authentication: `decline` (the API's 402
     * `authentication_required`, status `requires_payment_method`; the default) or
     * `requires_action` (an invoice's PaymentIntent waits for the buyer, who authenticates on the
     * hosted invoice page).
     */
    offSessionAuthentication?: 'decline' | 'requires_action' | undefined;
    /** `error_on_requires_action`: fail instead of asking for 3DS. */
    errorOnRequiresAction?: boolean | undefined;
  },
): ConfirmResult {
  let pi = requireIntent(pay, id, account);
  if (!CONFIRMABLE.includes(pi.status)) {
    throw invalidRequest(
      `You cannot confirm this PaymentIntent because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be confirmed: requires_confirmation, requires_payment_method, requires_action.`,
      { code: 'payment_intent_unexpected_state', extra: { payment_intent: pi } },
    );
  }
  const pm =
    opts.pm ??
    (opts.payment_method
      ? resolvePaymentMethod(pay, account, opts.payment_method)
      : pi.payment_method
        ? pay.pms.get(String(pi.payment_method), account)
        : undefined);
  if (!pm) {
    throw invalidRequest(MISSING_PAYMENT_METHOD, { code: 'payment_intent_unexpected_state', extra: { payment_intent: pi } });
  }
  if (isDetached(pay, pm.id))
    throw invalidRequest(DETACHED_MESSAGE, { code: 'payment_method_unexpected_state', param: 'payment_method', extra: { payment_intent: pi } });
  const previousPm = pi.payment_method;
  pi.payment_method = pm.id;
  if (opts.receipt_email !== undefined) pi.receipt_email = opts.receipt_email;
  if (opts.capture_method !== undefined) pi.capture_method = opts.capture_method;
  pi.last_payment_error = null;
  pi.next_action = null;
  const card = cardOf(pay, pm.id);
  const internal = intentInternal(pay, pi.id);
  // A new payment method restarts authentication.
  if (previousPm !== pm.id && internal.threeDS === 'passed') pay.pis.setInternal(pi.id, { threeDS: undefined });

  if (card.threeDS === 'required' && intentInternal(pay, pi.id).threeDS !== 'passed') {
    const passesOffSession = card.offSession === 'passes' || (card.offSession === 'after_setup' && isSetUpForOffSession(pay, pm.id));
    if (opts.off_session && passesOffSession) {
      pay.pis.save(pi);
      return attemptCharge(pay, account, pi.id, false);
    }
    if ((opts.off_session && opts.offSessionAuthentication !== 'requires_action') || opts.errorOnRequiresAction) {
      return authenticationRequired(pay, account, pi, pm);
    }
    pi.status = 'requires_action';
    const url = pay.core.pageUrl(`/hosted/3ds/${pi.id}?client_secret=${encodeURIComponent(pi.client_secret ?? '')}`);
    pi.next_action = { type: 'redirect_to_url', redirect_to_url: { url, return_url: opts.return_url ?? null } };
    pay.pis.setInternal(pi.id, { threeDS: 'pending', returnUrl: opts.return_url ?? null });
    pi = pay.pis.save(pi);
    pay.core.emitEvent({ type: 'payment_intent.requires_action', object: pi, account });
    return { kind: 'requires_action', pi };
  }
  pay.pis.save(pi);
  return attemptCharge(pay, account, pi.id, false);
}

/**
 * An off-session payment (or `error_on_requires_action`) with a card that needs authentication:
 * 402 `authentication_required`, the PaymentIntent back to `requires_payment_method` with the card
 * in `last_payment_error.payment_method`, so the integration can bring the buyer back to confirm
 * it on-session (docs.stripe.com/payments/save-and-reuse, "Handle failures").
 */
function authenticationRequired(pay: Payments, account: string, pi: Stripe.PaymentIntent, pm: Stripe.PaymentMethod): ConfirmResult {
  const message = 'Your card was declined. This transaction requires authentication.';
  pi.status = 'requires_payment_method';
  pi.next_action = null;
  pi.payment_method = null;
  pi.last_payment_error = {
    code: 'authentication_required',
    decline_code: 'authentication_required',
    doc_url: 'https://stripe.com/docs/error-codes/authentication-required',
    message,
    payment_method: pm,
    type: 'card_error',
  };
  const saved = pay.pis.save(pi);
  pay.core.emitEvent({ type: 'payment_intent.payment_failed', object: saved, account });
  for (const listener of pay.hooks.intentPaymentFailed) listener(saved, account);
  const error = cardError(message, {
    code: 'authentication_required',
    decline_code: 'authentication_required',
    extra: { payment_intent: saved, payment_method: pm },
  });
  return { kind: 'declined', pi: saved, error };
}

/** Outcome of the 3DS challenge page. */
export function completeAuthentication(pay: Payments, account: string, id: string, success: boolean): ConfirmResult {
  let pi = requireIntent(pay, id, account);
  if (pi.status !== 'requires_action') {
    return { kind: pi.status === 'succeeded' ? 'succeeded' : 'processing', pi };
  }
  if (success) {
    pay.pis.setInternal(pi.id, { threeDS: 'passed' });
    pi.next_action = null;
    pay.pis.save(pi);
    return attemptCharge(pay, account, pi.id, true);
  }
  const pm = pi.payment_method ? pay.pms.get(String(pi.payment_method), account) : undefined;
  pay.pis.setInternal(pi.id, { threeDS: undefined });
  pi.status = 'requires_payment_method';
  pi.next_action = null;
  pi.last_payment_error = {
    code: 'payment_intent_authentication_failure',
    doc_url: 'https://stripe.com/docs/error-codes/payment-intent-authentication-failure',
    message:
      'The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again.',
    ...(pm ? { payment_method: pm } : {}),
    type: 'invalid_request_error',
  };
  pi.payment_method = null;
  pi = pay.pis.save(pi);
  pay.core.emitEvent({ type: 'payment_intent.payment_failed', object: pi, account });
  for (const listener of pay.hooks.intentPaymentFailed) listener(pi, account);
  const error = new StripeError({
    status: 400,
    type: 'invalid_request_error',
    code: 'payment_intent_authentication_failure',
    message: pi.last_payment_error?.message ?? 'Authentication failed',
    extra: { payment_intent: pi },
  });
  return { kind: 'declined', pi, error };
}

export function captureIntent(
  pay: Payments,
  account: string,
  id: string,
  opts: { amount_to_capture?: number | undefined; application_fee_amount?: number | undefined; metadata?: Record<string, string> | undefined },
): Stripe.PaymentIntent {
  let pi = requireIntent(pay, id, account);
  if (pi.status !== 'requires_capture') {
    throw invalidRequest(
      `This PaymentIntent could not be captured because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be captured: requires_capture.`,
      { code: 'payment_intent_unexpected_state', extra: { payment_intent: pi } },
    );
  }
  const amount = opts.amount_to_capture ?? pi.amount_capturable;
  if (amount > pi.amount_capturable) {
    throw invalidRequest(`The amount to capture (${amount}) is greater than the capturable amount (${pi.amount_capturable}).`, {
      code: 'amount_too_large',
      param: 'amount_to_capture',
    });
  }
  if (opts.application_fee_amount !== undefined) pi.application_fee_amount = opts.application_fee_amount;
  if (opts.metadata) pi.metadata = { ...pi.metadata, ...opts.metadata };
  pay.pis.save(pi);
  const chargeId = String(pi.latest_charge);
  let charge = captureCharge(pay, account, chargeId, amount, pi.application_fee_amount);
  if (amount < charge.amount) {
    charge.amount_refunded = charge.amount - amount;
    pay.charges.setInternal(chargeId, { released: charge.amount - amount });
    charge = pay.charges.save(charge);
  }
  pi = requireIntent(pay, id, account);
  pi.status = 'succeeded';
  pi.amount_received = amount;
  pi.amount_capturable = 0;
  pi = pay.pis.save(pi);
  pay.core.emitEvent({ type: 'charge.captured', object: charge, account });
  pay.core.emitEvent({ type: 'payment_intent.succeeded', object: pi, account });
  afterSuccess(pay, account, chargeId);
  for (const listener of pay.hooks.intentSucceeded) listener(pi, account);
  return pi;
}

export function cancelIntent(pay: Payments, account: string, id: string, reason?: Stripe.PaymentIntent.CancellationReason): Stripe.PaymentIntent {
  let pi = requireIntent(pay, id, account);
  const cancellable: Stripe.PaymentIntent.Status[] = ['requires_payment_method', 'requires_capture', 'requires_confirmation', 'requires_action', 'processing'];
  if (!cancellable.includes(pi.status)) {
    throw invalidRequest(
      `You cannot cancel this PaymentIntent because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be canceled: requires_payment_method, requires_capture, requires_confirmation, requires_action, processing.`,
      { code: 'payment_intent_unexpected_state', extra: { payment_intent: pi } },
    );
  }
  if (pi.status === 'requires_capture' && pi.latest_charge) {
    const charge = pay.charges.require(String(pi.latest_charge), account);
    charge.amount_refunded = charge.amount;
    charge.refunded = true;
    pay.charges.save(charge);
  }
  pi.status = 'canceled';
  pi.canceled_at = pay.core.now();
  pi.cancellation_reason = reason ?? null;
  pi.amount_capturable = 0;
  pi.next_action = null;
  pi = pay.pis.save(pi);
  pay.core.emitEvent({ type: 'payment_intent.canceled', object: pi, account });
  return pi;
}
