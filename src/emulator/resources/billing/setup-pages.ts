/**
 * Hosted pages of SetupIntents (no API key; they act for the buyer's browser):
 *
 *   GET  /hosted/setup_3ds/:seti?client_secret=…       3DS challenge for saving a card
 *   POST /hosted/setup_3ds/:seti                        form: client_secret, action=complete|fail
 *                                                       → 303 to return_url?setup_intent=…&
 *                                                         setup_intent_client_secret=…&redirect_status=…
 *   GET  /hosted/js/setup_intents/:seti                 Stripe.js: retrieve (key=pk_test_…, client_secret)
 *   POST /hosted/js/setup_intents/:seti/confirm         Stripe.js: confirm (form: key, client_secret,
 *                                                       card_number, return_url?); CORS `*`
 */
import type Stripe from 'stripe';
import type { PageRequest, PageResponse } from '../../core/core.ts';
import { html } from '../../core/html.ts';
import { StripeError } from '../../core/errors.ts';
import { page } from '../payments/layout.ts';
import { lookupCardNumber } from '../payments/cards.ts';
import type { Billing } from './context.ts';
import { completeSetupAuthentication, confirmSetupIntent, setupIntentReturnUrl, setupReturnUrl } from './setup-intents.ts';

function field(form: PageRequest['form'], name: string): string | undefined {
  const v = form[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function registerSetupPages(b: Billing): void {
  const { core } = b;
  const find = (id: string, secret: string | undefined): { si: Stripe.SetupIntent; account: string } | undefined => {
    const si = b.setupIntents.get(id);
    if (!si || !secret || si.client_secret !== secret) return undefined;
    return { si, account: b.setupIntents.ownerOf(id) ?? core.platformAccount };
  };
  const unknown = (): PageResponse => ({ status: 404, html: page('3D Secure', html`<h1>Unknown or expired authentication</h1>`) });

  core.page('GET', '/hosted/setup_3ds/:id', (req) => {
    const found = find(req.pathParams.id ?? '', typeof req.query.client_secret === 'string' ? req.query.client_secret : undefined);
    if (!found) return unknown();
    const { si } = found;
    if (si.status !== 'requires_action') {
      return {
        html: page(
          '3D Secure',
          html`<h1 data-testid="3ds-done">Nothing to authenticate</h1>
            <p class="muted">SetupIntent <code>${si.id}</code> is ${si.status}.</p>`,
        ),
      };
    }
    const pm = si.payment_method ? b.pay.pms.get(String(si.payment_method)) : undefined;
    const body = html`<h1>3D Secure authentication</h1>
      <p>Your bank asks you to confirm that the card ending <strong data-testid="last4">${pm?.card?.last4 ?? ''}</strong> may be saved for future payments.</p>
      <p class="muted">This stands in for the card issuer's challenge page. SetupIntent <code>${si.id}</code>.</p>
      <form method="post" action="/hosted/setup_3ds/${si.id}">
        <input type="hidden" name="client_secret" value="${si.client_secret ?? ''}" />
        <button class="primary" type="submit" name="action" value="complete" data-testid="3ds-complete">Complete authentication</button>
        <button type="submit" name="action" value="fail" data-testid="3ds-fail">Fail authentication</button>
      </form>`;
    return { html: page('3D Secure', body) };
  });
  core.page('POST', '/hosted/setup_3ds/:id', (req) => {
    const found = find(req.pathParams.id ?? '', field(req.form, 'client_secret'));
    if (!found) return unknown();
    const action = field(req.form, 'action');
    if (action !== 'complete' && action !== 'fail') return { status: 400, html: page('3D Secure', html`<h1>Choose complete or fail</h1>`) };
    const returnUrl = setupIntentReturnUrl(b, found.si.id);
    const result = completeSetupAuthentication(b, found.account, found.si.id, action === 'complete');
    if (returnUrl) return { redirect: setupReturnUrl(returnUrl, result.si) };
    return {
      html: page(
        '3D Secure',
        html`<h1 data-testid="3ds-result">Authentication ${action === 'complete' ? 'completed' : 'failed'}</h1>
          <p class="muted">SetupIntent <code>${result.si.id}</code> is now ${result.si.status}. You can close this window.</p>`,
      ),
    };
  });

  // --- Stripe.js stand-in endpoints ------------------------------------------------------------
  const cors = { 'Access-Control-Allow-Origin': '*' };
  const jsonError = (status: number, error: Record<string, unknown>): PageResponse => ({ status, json: { error }, headers: cors });
  const checkKey = (key: string | undefined): PageResponse | undefined =>
    !key || !key.startsWith('pk_test_')
      ? jsonError(401, {
          type: 'invalid_request_error',
          message: `Invalid API Key provided: ${key ?? '(none)'}. Stripe.js needs a publishable key (pk_test_…).`,
        })
      : undefined;
  const fromSecret = (id: string, secret: string | undefined): { si: Stripe.SetupIntent; account: string } | PageResponse =>
    find(id, secret) ??
    jsonError(400, {
      type: 'invalid_request_error',
      code: 'setup_intent_invalid_parameter',
      param: 'client_secret',
      message: 'The client_secret provided does not match any associated SetupIntent on this account.',
    });
  core.page('GET', '/hosted/js/setup_intents/:id', (req) => {
    const bad = checkKey(typeof req.query.key === 'string' ? req.query.key : undefined);
    if (bad) return bad;
    const r = fromSecret(req.pathParams.id ?? '', typeof req.query.client_secret === 'string' ? req.query.client_secret : undefined);
    return 'si' in r ? { json: r.si, headers: cors } : r;
  });
  core.page('POST', '/hosted/js/setup_intents/:id/confirm', (req) => {
    const bad = checkKey(field(req.form, 'key'));
    if (bad) return bad;
    const r = fromSecret(req.pathParams.id ?? '', field(req.form, 'client_secret'));
    if (!('si' in r)) return r;
    const found = lookupCardNumber(field(req.form, 'card_number') ?? '');
    if (!found.ok) return jsonError(402, { type: 'card_error', code: found.code, message: found.message, param: 'number' });
    try {
      const pm = b.pay.createCardPaymentMethod(r.account, found.card);
      const result = confirmSetupIntent(b, r.account, r.si.id, { pm, returnUrl: field(req.form, 'return_url') });
      if (result.kind === 'failed') return { status: result.error.status, json: result.error.toBody(), headers: cors };
      return { json: result.si, headers: cors };
    } catch (err) {
      if (err instanceof StripeError) return { status: err.status, json: err.toBody(), headers: cors };
      throw err;
    }
  });
}
