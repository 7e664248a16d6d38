/**
 * Hosted pages of the payments module (no API key; they act for the buyer's browser):
 *
 *   GET  /hosted/3ds/:pi?client_secret=…        3DS challenge ("Complete" / "Fail authentication")
 *   POST /hosted/3ds/:pi                         form: client_secret, action=complete|fail
 *                                                → 303 to return_url?payment_intent=…&
 *                                                  payment_intent_client_secret=…&redirect_status=…
 *   GET  /hosted/receipts/:charge                Charge.receipt_url
 *   GET  /js/v3.js  (alias /js/v3)               Stripe.js stand-in (see stripejs.ts)
 *   GET  /hosted/js/payment_intents/:pi          Stripe.js: retrieve (key=pk_test_…, client_secret)
 *   POST /hosted/js/payment_intents/:pi/confirm  Stripe.js: confirm (form: key, client_secret,
 *                                                card_number, return_url?, receipt_email?)
 */
import type Stripe from 'stripe';
import type { EmulatorCore, PageRequest, PageResponse } from '../../core/core.ts';
import { html } from '../../core/html.ts';
import { page } from './layout.ts';
import { challengePage, challengeResultPage, chooseCompleteOrFailPage, nothingToAuthenticatePage, unknownChallengePage } from './challenge-pages.ts';
import { StripeError } from '../../core/errors.ts';
import type { Payments } from './state.ts';
import { completeAuthentication, confirmIntent } from './intents.ts';
import { createCardPaymentMethod } from './payment-methods.ts';
import { lookupCardNumber } from './cards.ts';
import { formatMoney } from './fees.ts';
import { STRIPE_JS } from './stripejs.ts';

function field(form: PageRequest['form'], name: string): string | undefined {
  const v = form[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** `return_url` + Stripe's redirect parameters. */
export function returnUrlFor(returnUrl: string, pi: Stripe.PaymentIntent): string {
  const u = new URL(returnUrl);
  u.searchParams.set('payment_intent', pi.id);
  u.searchParams.set('payment_intent_client_secret', pi.client_secret ?? '');
  u.searchParams.set(
    'redirect_status',
    pi.status === 'succeeded' || pi.status === 'requires_capture' ? 'succeeded' : pi.status === 'processing' ? 'processing' : 'failed',
  );
  return u.toString();
}

export function registerPaymentPages(core: EmulatorCore, pay: Payments): void {
  const findIntent = (id: string, secret: string | undefined): { pi: Stripe.PaymentIntent; account: string } | undefined => {
    const pi = pay.pis.get(id);
    if (!pi || !secret || pi.client_secret !== secret) return undefined;
    return { pi, account: pay.pis.ownerOf(id) ?? core.platformAccount };
  };

  // --- 3DS challenge -------------------------------------------------------------------------
  core.page('GET', '/hosted/3ds/:id', (req) => {
    const secret = typeof req.query.client_secret === 'string' ? req.query.client_secret : undefined;
    const found = findIntent(req.pathParams.id ?? '', secret);
    if (!found) return unknownChallengePage();
    const { pi } = found;
    if (pi.status !== 'requires_action') return nothingToAuthenticatePage('PaymentIntent', pi);
    return challengePage({
      kind: 'PaymentIntent',
      id: pi.id,
      clientSecret: pi.client_secret,
      action: `/hosted/3ds/${pi.id}`,
      what: html`the payment of <strong data-testid="amount">${formatMoney(pi.amount, pi.currency)}</strong>`,
    });
  });
  core.page('POST', '/hosted/3ds/:id', (req) => {
    const found = findIntent(req.pathParams.id ?? '', field(req.form, 'client_secret'));
    if (!found) return unknownChallengePage();
    const action = field(req.form, 'action');
    if (action !== 'complete' && action !== 'fail') return chooseCompleteOrFailPage();
    const returnUrl = pay.pis.internal(found.pi.id).returnUrl;
    const result = completeAuthentication(pay, found.account, found.pi.id, action === 'complete');
    if (typeof returnUrl === 'string' && returnUrl) return { redirect: returnUrlFor(returnUrl, result.pi) };
    return challengeResultPage('PaymentIntent', result.pi, action === 'complete');
  });

  // --- receipts ------------------------------------------------------------------------------
  core.page('GET', '/hosted/receipts/:id', (req) => {
    const c = pay.charges.get(req.pathParams.id ?? '');
    if (!c) return { status: 404, html: page('Receipt', html`<h1>Unknown receipt</h1>`) };
    const card = c.payment_method_details?.card;
    return {
      html: page(
        'Receipt',
        html`<h1>Receipt</h1>
          <table>
            <tr>
              <td>Amount paid</td>
              <td>${formatMoney(c.amount, c.currency)}</td>
            </tr>
            <tr>
              <td>Refunded</td>
              <td>${formatMoney(c.amount_refunded, c.currency)}</td>
            </tr>
            <tr>
              <td>Date</td>
              <td>${new Date(c.created * 1000).toISOString()}</td>
            </tr>
            <tr>
              <td>Payment method</td>
              <td>${card ? `${card.brand ?? ''} •••• ${card.last4 ?? ''}` : '—'}</td>
            </tr>
            <tr>
              <td>Charge</td>
              <td><code>${c.id}</code></td>
            </tr>
          </table>`,
      ),
    };
  });

  // --- Stripe.js stand-in --------------------------------------------------------------------
  const js = (): PageResponse => ({ text: STRIPE_JS, contentType: 'application/javascript; charset=utf-8', headers: { 'Access-Control-Allow-Origin': '*' } });
  core.page('GET', '/js/v3.js', js);
  core.page('GET', '/js/v3', js);

  const cors = { 'Access-Control-Allow-Origin': '*' };
  const jsonError = (status: number, error: Record<string, unknown>): PageResponse => ({ status, json: { error }, headers: cors });
  const checkKey = (key: string | undefined): PageResponse | undefined => {
    if (!key || !key.startsWith('pk_test_')) {
      return jsonError(401, {
        type: 'invalid_request_error',
        message: `Invalid API Key provided: ${key ?? '(none)'}. Stripe.js needs a publishable key (pk_test_…).`,
      });
    }
    return undefined;
  };
  const intentFromSecret = (id: string, secret: string | undefined): { pi: Stripe.PaymentIntent; account: string } | PageResponse => {
    const found = findIntent(id, secret);
    if (!found) {
      return jsonError(400, {
        type: 'invalid_request_error',
        code: 'payment_intent_invalid_parameter',
        param: 'client_secret',
        message: `The client_secret provided does not match any associated PaymentIntent on this account. Ensure the publishable key used belongs to the same account that created the PaymentIntent.`,
      });
    }
    return found;
  };
  core.page('GET', '/hosted/js/payment_intents/:id', (req) => {
    const bad = checkKey(typeof req.query.key === 'string' ? req.query.key : undefined);
    if (bad) return bad;
    const r = intentFromSecret(req.pathParams.id ?? '', typeof req.query.client_secret === 'string' ? req.query.client_secret : undefined);
    if (!('pi' in r)) return r;
    return { json: r.pi, headers: cors };
  });
  core.page('POST', '/hosted/js/payment_intents/:id/confirm', (req) => {
    const bad = checkKey(field(req.form, 'key'));
    if (bad) return bad;
    const r = intentFromSecret(req.pathParams.id ?? '', field(req.form, 'client_secret'));
    if (!('pi' in r)) return r;
    const number = field(req.form, 'card_number') ?? '';
    const found = lookupCardNumber(number);
    if (!found.ok) return jsonError(402, { type: 'card_error', code: found.code, message: found.message, param: 'number' });
    try {
      const pm = createCardPaymentMethod(pay, r.account, found.card, { email: field(req.form, 'receipt_email') ?? null });
      const result = confirmIntent(pay, r.account, r.pi.id, { pm, return_url: field(req.form, 'return_url'), receipt_email: field(req.form, 'receipt_email') });
      if (result.kind === 'declined') return { status: result.error.status, json: result.error.toBody(), headers: cors };
      return { json: result.pi, headers: cors };
    } catch (err) {
      if (err instanceof StripeError) return { status: err.status, json: err.toBody(), headers: cors };
      throw err;
    }
  });
}
