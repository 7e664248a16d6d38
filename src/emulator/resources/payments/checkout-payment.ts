/**
 * A Checkout Session's life after creation: the buyer pays on the hosted page (a PaymentIntent
 * created on the first attempt, reused after a decline or a failed 3DS), the session completes
 * (`checkout.session.completed`, after the `checkoutCompleting` hooks), or it expires (by API
 * call or on the clock, canceling an unfinished PaymentIntent). Card payments are never
 * asynchronous, so `checkout.session.async_payment_*` are not emitted.
 */
import type Stripe from 'stripe';
import { invalidRequest } from '../../core/errors.ts';
import { lookupCardNumber, type TestCard } from './cards.ts';
import { offeredPaymentMethods, sessionInternal } from './checkout.ts';
import { cancelIntent, confirmIntent, createIntent, requireIntent } from './intents.ts';
import { createCardPaymentMethod } from './payment-methods.ts';
import type { Payments } from './state.ts';
import { collectedInformation, intentShipping } from './shipping.ts';

/** Expire an open session (`viaTicker`: by the clock, so the event has no request). */
export function expireCheckoutSession(pay: Payments, id: string, account: string, viaTicker: boolean): Stripe.Checkout.Session {
  let s = pay.sessions.require(id, account);
  if (s.status !== 'open') {
    throw invalidRequest(`Only Checkout Sessions with a status in ["open"] can be expired (this one is ${s.status}).`, { param: 'session' });
  }
  if (s.payment_intent) {
    const pi = pay.pis.get(String(s.payment_intent), account);
    if (pi && !['succeeded', 'canceled', 'processing', 'requires_capture'].includes(pi.status)) cancelIntent(pay, account, pi.id, 'abandoned');
  }
  s.status = 'expired';
  s.url = null;
  s = pay.sessions.save(s);
  pay.core.emitEvent({ type: 'checkout.session.expired', object: s, account, ...(viaTicker ? { request: { id: null, idempotency_key: null } } : {}) });
  return s;
}

/** Ticker: open sessions past `expires_at` expire. */
export function expireDueCheckoutSessions(pay: Payments, now: number): void {
  for (const s of pay.sessions.list(undefined, (x) => x.status === 'open' && x.expires_at <= now)) {
    expireCheckoutSession(pay, s.id, pay.sessions.ownerOf(s.id) ?? pay.platform, true);
  }
}

/** Create (first attempt) or reuse the session's PaymentIntent. */
function intentFor(pay: Payments, session: Stripe.Checkout.Session, email: string | null): Stripe.PaymentIntent {
  const internal = sessionInternal(pay, session.id);
  if (session.payment_intent) {
    const pi = requireIntent(pay, String(session.payment_intent), internal.account);
    if (email && pi.receipt_email !== email) {
      pi.receipt_email = email;
      return pay.pis.save(pi);
    }
    return pi;
  }
  const d = internal.paymentIntentData;
  const pi = createIntent(pay, {
    account: internal.account,
    amount: session.amount_total ?? 0,
    currency: session.currency ?? 'usd',
    application_fee_amount: d.application_fee_amount,
    transfer_data: d.transfer_data,
    on_behalf_of: d.on_behalf_of,
    metadata: d.metadata,
    description: d.description,
    receipt_email: d.receipt_email ?? email ?? undefined,
    customer: typeof session.customer === 'string' ? session.customer : undefined,
    capture_method: d.capture_method ?? 'automatic_async',
    transfer_group: d.transfer_group,
    statement_descriptor: d.statement_descriptor,
    statement_descriptor_suffix: d.statement_descriptor_suffix,
    setup_future_usage: d.setup_future_usage,
    paramPrefix: 'payment_intent_data',
    internal: { checkoutSession: session.id },
  });
  session.payment_intent = pi.id;
  pay.sessions.save(session);
  return pi;
}

/**
 * Mark the session complete once its PaymentIntent succeeded (or is authorised); a session with
 * no PaymentIntent (billing's modes) is `no_payment_required` unless `paymentStatus` says
 * otherwise. Runs the `checkoutCompleting` hooks, then emits `checkout.session.completed`.
 */
export function completeCheckoutSession(
  pay: Payments,
  sessionId: string,
  opts: { paymentStatus?: Stripe.Checkout.Session.PaymentStatus } = {},
): Stripe.Checkout.Session {
  let s = pay.sessions.require(sessionId);
  if (s.status !== 'open') return s;
  const account = sessionInternal(pay, sessionId).account;
  const pi = s.payment_intent ? requireIntent(pay, String(s.payment_intent), account) : undefined;
  const pm = pi?.payment_method ? pay.pms.get(String(pi.payment_method), account) : undefined;
  const email = s.customer_details?.email ?? pi?.receipt_email ?? s.customer_email ?? null;
  s.status = 'complete';
  s.payment_status = opts.paymentStatus ?? (pi ? (pi.status === 'succeeded' || pi.status === 'requires_capture' ? 'paid' : 'unpaid') : 'no_payment_required');
  s.customer_details = {
    address: null,
    business_name: null,
    email,
    individual_name: null,
    name: pm?.billing_details.name ?? null,
    phone: null,
    tax_exempt: 'none',
    tax_ids: [],
  };
  s.url = null;
  for (const listener of pay.hooks.checkoutCompleting) listener(s, pi, account);
  s = pay.sessions.save(s);
  pay.core.emitEvent({ type: 'checkout.session.completed', object: s, account });
  return s;
}

/** Where the buyer goes after paying: `success_url` with `{CHECKOUT_SESSION_ID}`, or our page. */
export function successRedirect(pay: Payments, s: Stripe.Checkout.Session): string {
  if (s.success_url) return s.success_url.replace(/\{CHECKOUT_SESSION_ID\}/g, s.id);
  return pay.core.pageUrl(`/hosted/checkout/${s.id}/complete`);
}

/**
 * Pay with a typed card number on the hosted page (or, in payment mode, a saved card the page
 * offered; `saveCard`: the buyer ticked "Save my card"). Returns where the browser goes next, or
 * an error to show.
 */
export function payCheckoutSession(
  pay: Payments,
  sessionId: string,
  cardNumber: string,
  email: string | null,
  opts: {
    savedPaymentMethod?: string | undefined;
    saveCard?: boolean;
    shipping?: Stripe.Checkout.Session.CollectedInformation.ShippingDetails | undefined;
  } = {},
): { redirect: string } | { error: string } {
  let session = pay.sessions.require(sessionId);
  if (session.status !== 'open') return { error: `This Checkout Session is ${session.status}.` };
  if (opts.shipping) {
    session.collected_information = collectedInformation(opts.shipping);
    session = pay.sessions.save(session);
  }
  if (opts.savedPaymentMethod && session.mode === 'payment') {
    const saved = offeredPaymentMethods(pay, session).find((pm) => pm.id === opts.savedPaymentMethod);
    if (!saved) return { error: 'This saved card is not available.' };
    return payWithPaymentIntent(pay, session, saved, email, false);
  }
  const extension = pay.checkoutModes.get(session.mode);
  const noCard = cardNumber === '' && extension?.cardOptional?.(session) === true;
  const found = noCard ? undefined : lookupCardNumber(cardNumber);
  if (found && !found.ok) return { error: found.message };
  if (email) {
    session.customer_details = { address: null, business_name: null, email, individual_name: null, name: null, phone: null, tax_exempt: 'none', tax_ids: null };
    session = pay.sessions.save(session);
  }
  if (!found) return extension?.payWithCard?.(session, null, email) ?? { error: 'Your card number is incomplete.' };
  if (extension?.payWithCard) return extension.payWithCard(session, found.card, email);
  const save = opts.saveCard === true && session.saved_payment_method_options?.payment_method_save === 'enabled' && typeof session.customer === 'string';
  return payWithPaymentIntent(pay, session, found.card, email, save);
}

function payWithPaymentIntent(
  pay: Payments,
  session: Stripe.Checkout.Session,
  card: TestCard | Stripe.PaymentMethod,
  email: string | null,
  save: boolean,
): { redirect: string } | { error: string } {
  const account = sessionInternal(pay, session.id).account;
  let pi = intentFor(pay, session, email);
  const shipping = session.collected_information?.shipping_details;
  if (shipping) {
    // As at Stripe, the address the page collected becomes the PaymentIntent's `shipping`.
    pi.shipping = intentShipping(shipping);
    pi = pay.pis.save(pi);
  }
  if (save && !pi.setup_future_usage) {
    // "Save my card": the card is attached to the customer on success and may be shown again.
    pi.setup_future_usage = 'off_session';
    pi = pay.pis.save(pi);
  }
  let pm = 'object' in card ? card : createCardPaymentMethod(pay, account, card, { email });
  if (save) pm = pay.pms.save({ ...pm, allow_redisplay: 'always' });
  const result = confirmIntent(pay, account, pi.id, { pm, return_url: pay.core.pageUrl(`/hosted/checkout/${session.id}/return`) });
  if (result.kind === 'declined') return { error: result.error.message };
  if (result.kind === 'requires_action') return { redirect: result.pi.next_action?.redirect_to_url?.url ?? '' };
  const done = completeCheckoutSession(pay, session.id);
  return { redirect: successRedirect(pay, done) };
}
