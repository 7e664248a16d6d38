/**
 * The hosted Checkout page in billing's modes: what happens when the buyer submits a card.
 *
 * - subscription, something to pay now: the first attempt creates the customer (when the session
 *   has none) and the subscription (`default_incomplete`, its card saved as the subscription's
 *   default on payment), then confirms the first invoice's PaymentIntent on-session with the
 *   card (3DS on the challenge page when the card asks: 3155, 3184, 3220). A decline or a failed
 *   challenge shows the error and the buyer tries another card against the same subscription
 *   and invoice. Paid → `checkout.session.completed` with `subscription`, `invoice`,
 *   `payment_status: 'paid'`.
 * - subscription with a trial (nothing to pay now): the card is saved with a SetupIntent (3DS
 *   where needed), then the subscription starts `trialing` with it as default;
 *   `payment_status: 'no_payment_required'`, `setup_intent` set. With
 *   `payment_method_collection: 'if_required'` no card is asked for.
 * - setup: a SetupIntent for the session's customer (if any) saves the card (3DS for 3155 and
 *   3184); `setup_intent` is set; `payment_status: 'no_payment_required'`.
 *
 *   GET /hosted/billing_checkout/:cs/return   where the 3DS pages send the buyer back to
 */
import type Stripe from 'stripe';
import { StripeError } from '../../core/errors.ts';
import { completeCheckoutSession, createCardPaymentMethod, sessionInternal, successRedirect, type TestCard } from '../payments/api.ts';
import type { Billing } from './context.ts';
import { createCustomer } from './customers.ts';
import { createSubscription } from './subscriptions.ts';
import { requireSubscription } from './subscription-status.ts';
import { collectInvoice, reconcileIntent } from './collection.ts';
import { invoiceInternal } from './invoices.ts';
import { idOf } from './subscription-objects.ts';
import { confirmSetupIntent, createSetupIntent } from './setup-intents.ts';
import { checkoutStateOf, setCheckoutState, type BillingCheckoutState } from './checkout-state.ts';

type Outcome = { redirect: string } | { error: string };

const AUTH_FAILED = 'We are unable to authenticate your payment method. Please choose a different payment method and try again.';

function returnUrl(b: Billing, sessionId: string): string {
  return b.core.pageUrl(`/hosted/billing_checkout/${sessionId}/return`);
}

/** The session's customer, created from the entered email on the first attempt when it has none. */
function customerFor(b: Billing, session: Stripe.Checkout.Session, account: string, state: BillingCheckoutState, email: string | null): string | null {
  const existing = idOf(session.customer);
  if (existing) return existing;
  if (!state.createCustomer) return null;
  // `customer_email` is locked on Stripe's page and becomes the customer's email.
  const address = session.customer_email ?? email;
  const customer = createCustomer(b, account, address ? { email: address } : {});
  b.pay.sessions.update(session.id, (s) => void (s.customer = customer.id));
  return customer.id;
}

/** Stripe's `trial_period_days` counts from when the buyer subscribes, not from session creation. */
function trialEndOf(b: Billing, sub: NonNullable<BillingCheckoutState['subscription']>): number | null {
  if (sub.trialPeriodDays !== null) return b.core.now() + sub.trialPeriodDays * 86_400;
  return sub.trialEnd;
}

function startSubscription(
  b: Billing,
  account: string,
  customer: string,
  state: BillingCheckoutState,
  defaultPaymentMethod: string | null,
): Stripe.Subscription {
  const sd = state.subscription;
  if (!sd) throw new Error('not a subscription session');
  return createSubscription(b, account, {
    customer,
    items: sd.items.map((it) => ({ price: b.prices.require(it.price, account), quantity: it.quantity, metadata: {} })),
    defaultPaymentMethod,
    paymentBehavior: 'default_incomplete',
    offSession: false,
    applicationFeePercent: sd.applicationFeePercent,
    transferData: sd.transferData,
    onBehalfOf: sd.onBehalfOf,
    trialEnd: trialEndOf(b, sd),
    trialMissingPaymentMethod: sd.trialMissingPaymentMethod,
    cancelAtPeriodEnd: false,
    cancelAt: null,
    description: sd.description,
    metadata: sd.metadata,
    saveDefaultPaymentMethod: 'on_subscription',
  });
}

/** Complete the session with what billing produced, then go to `success_url`. */
function finish(b: Billing, sessionId: string, fields: Partial<Stripe.Checkout.Session>, paymentStatus: Stripe.Checkout.Session.PaymentStatus): Outcome {
  b.pay.sessions.update(sessionId, (s) => void Object.assign(s, fields));
  const done = completeCheckoutSession(b.pay, sessionId, { paymentStatus });
  return { redirect: successRedirect(b.pay, done) };
}

function finishSubscription(b: Billing, sessionId: string, account: string, subId: string, setupIntent: string | null): Outcome {
  const sub = requireSubscription(b, subId, account);
  const invoice = idOf(sub.latest_invoice);
  const paid = invoice ? b.invoices.get(invoice, account) : undefined;
  const status = paid && paid.amount_paid > 0 ? 'paid' : 'no_payment_required';
  return finish(b, sessionId, { subscription: sub.id, invoice, customer: idOf(sub.customer), ...(setupIntent ? { setup_intent: setupIntent } : {}) }, status);
}

/** Save the card with a SetupIntent (the session's, reused after a failure). */
function saveCard(
  b: Billing,
  session: Stripe.Checkout.Session,
  account: string,
  customer: string | null,
  pm: Stripe.PaymentMethod,
  state: BillingCheckoutState,
): Outcome | { si: Stripe.SetupIntent } {
  let siId = idOf(session.setup_intent);
  const existing = siId ? b.setupIntents.get(siId, account) : undefined;
  if (!existing || existing.status === 'canceled' || existing.status === 'succeeded') {
    const si = createSetupIntent(b, account, {
      customer,
      usage: 'off_session',
      metadata: state.setup?.metadata ?? {},
      onBehalfOf: state.setup?.onBehalfOf ?? state.subscription?.onBehalfOf ?? null,
      description: state.setup?.description ?? null,
    });
    siId = si.id;
    b.pay.sessions.update(session.id, (s) => void (s.setup_intent = si.id));
  }
  const result = confirmSetupIntent(b, account, siId ?? '', { pm, returnUrl: returnUrl(b, session.id) });
  if (result.kind === 'failed') return { error: result.error.message };
  if (result.kind === 'requires_action') return { redirect: result.si.next_action?.redirect_to_url?.url ?? returnUrl(b, session.id) };
  return { si: result.si };
}

function paySubscription(
  b: Billing,
  session: Stripe.Checkout.Session,
  account: string,
  customer: string,
  pm: Stripe.PaymentMethod,
  state: BillingCheckoutState,
): Outcome {
  const trial = (session.amount_total ?? 0) === 0;
  if (trial) {
    const saved = saveCard(b, session, account, customer, pm, state);
    if (!('si' in saved)) return saved;
    const sub = startSubscription(b, account, customer, state, pm.id);
    return finishSubscription(b, session.id, account, sub.id, saved.si.id);
  }
  let subId = state.subscriptionId;
  if (!subId) {
    subId = startSubscription(b, account, customer, state, null).id;
    setCheckoutState(b, session.id, { subscriptionId: subId });
  }
  const invoiceId = idOf(requireSubscription(b, subId, account).latest_invoice) ?? '';
  if (b.invoices.require(invoiceId, account).status === 'paid') return finishSubscription(b, session.id, account, subId, null);
  const { outcome } = collectInvoice(b, account, invoiceId, {
    automatic: false,
    offSession: false,
    paymentMethod: pm.id,
    returnUrl: returnUrl(b, session.id),
    onPage: true,
  });
  if (outcome.kind === 'succeeded') return finishSubscription(b, session.id, account, subId, null);
  if (outcome.kind === 'requires_action') return { redirect: outcome.pi.next_action?.redirect_to_url?.url ?? returnUrl(b, session.id) };
  if (outcome.kind === 'declined') return { error: outcome.pi.last_payment_error?.message ?? outcome.message };
  return { error: 'Enter a card to subscribe.' };
}

/** `payWithCard` of billing's Checkout modes (the hosted page's Pay button). */
export function payWithCardInBillingMode(b: Billing, session: Stripe.Checkout.Session, card: TestCard | null, email: string | null): Outcome {
  const account = sessionInternal(b.pay, session.id).account;
  const state = checkoutStateOf(b, session.id);
  if (!state) return { error: 'Unknown Checkout Session.' };
  try {
    const customer = customerFor(b, session, account, state, email);
    const current = b.pay.sessions.require(session.id, account);
    if (state.mode === 'subscription' && customer) {
      if (!card) {
        // payment_method_collection: 'if_required' and nothing to pay now: no card is collected.
        if ((current.amount_total ?? 0) > 0 || current.payment_method_collection !== 'if_required') return { error: 'Your card number is incomplete.' };
        const sub = startSubscription(b, account, customer, state, null);
        return finishSubscription(b, session.id, account, sub.id, null);
      }
      return paySubscription(b, current, account, customer, createCardPaymentMethod(b.pay, account, card, { email }), state);
    }
    if (state.mode === 'setup') {
      if (!card) return { error: 'Your card number is incomplete.' };
      const saved = saveCard(b, current, account, customer, createCardPaymentMethod(b.pay, account, card, { email }), state);
      if (!('si' in saved)) return saved;
      return finish(b, session.id, { setup_intent: saved.si.id }, 'no_payment_required');
    }
    return { error: 'This Checkout Session has no customer.' };
  } catch (err) {
    if (err instanceof StripeError) return { error: err.message };
    throw err;
  }
}

/** Back from a 3DS page: complete the session if the payment or setup went through, else show the error. */
function afterChallenge(b: Billing, sessionId: string): Outcome {
  const session = b.pay.sessions.require(sessionId);
  if (session.status === 'complete') return { redirect: successRedirect(b.pay, session) };
  const account = sessionInternal(b.pay, sessionId).account;
  const state = checkoutStateOf(b, sessionId);
  const siId = idOf(session.setup_intent);
  const si = siId ? b.setupIntents.get(siId, account) : undefined;
  if (state?.mode === 'setup' || (state?.mode === 'subscription' && (session.amount_total ?? 0) === 0)) {
    if (!si || si.status !== 'succeeded') return { error: si?.last_setup_error?.message ?? AUTH_FAILED };
    if (state.mode === 'setup') return finish(b, sessionId, { setup_intent: si.id }, 'no_payment_required');
    const customer = idOf(session.customer);
    if (!customer) return { error: AUTH_FAILED };
    const sub = startSubscription(b, account, customer, state, idOf(si.payment_method));
    return finishSubscription(b, sessionId, account, sub.id, si.id);
  }
  const subId = state?.subscriptionId;
  if (!subId) return { error: AUTH_FAILED };
  const invoiceId = idOf(requireSubscription(b, subId, account).latest_invoice) ?? '';
  const piId = invoiceInternal(b, invoiceId).paymentIntent;
  const pi = piId ? b.pay.pis.get(piId, account) : undefined;
  if (pi?.status === 'succeeded') {
    // The payment hook has normally paid the invoice already; this is a no-op then.
    reconcileIntent(b, pi.id, 'succeeded');
    return finishSubscription(b, sessionId, account, subId, null);
  }
  return { error: pi?.last_payment_error?.message ?? AUTH_FAILED };
}

export function registerBillingCheckoutPages(b: Billing): void {
  b.core.page('GET', '/hosted/billing_checkout/:id/return', (req) => {
    const id = req.pathParams.id ?? '';
    if (!b.pay.sessions.get(id) || !checkoutStateOf(b, id)) return { status: 404, text: 'Unknown Checkout Session' };
    const out = afterChallenge(b, id);
    return 'redirect' in out ? out : { redirect: `/hosted/checkout/${id}?error=${encodeURIComponent(out.error)}` };
  });
}
