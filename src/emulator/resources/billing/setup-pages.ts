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
import {
  challengePage,
  challengeResultPage,
  chooseCompleteOrFailPage,
  createCardPaymentMethod,
  lookupCardNumber,
  nothingToAuthenticatePage,
  unknownChallengePage,
} from '../payments/api.ts';
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
  core.page('GET', '/hosted/setup_3ds/:id', (req) => {
    const found = find(req.pathParams.id ?? '', typeof req.query.client_secret === 'string' ? req.query.client_secret : undefined);
    if (!found) return unknownChallengePage();
    const { si } = found;
    if (si.status !== 'requires_action') return nothingToAuthenticatePage('SetupIntent', si);
    const pm = si.payment_method ? b.pay.pms.get(String(si.payment_method)) : undefined;
    return challengePage({
      kind: 'SetupIntent',
      id: si.id,
      clientSecret: si.client_secret,
      action: `/hosted/setup_3ds/${si.id}`,
      what: html`that the card ending <strong data-testid="last4">${pm?.card?.last4 ?? ''}</strong> may be saved for future payments`,
    });
  });
  core.page('POST', '/hosted/setup_3ds/:id', (req) => {
    const found = find(req.pathParams.id ?? '', field(req.form, 'client_secret'));
    if (!found) return unknownChallengePage();
    const action = field(req.form, 'action');
    if (action !== 'complete' && action !== 'fail') return chooseCompleteOrFailPage();
    const returnUrl = setupIntentReturnUrl(b, found.si.id);
    const result = completeSetupAuthentication(b, found.account, found.si.id, action === 'complete');
    if (returnUrl) return { redirect: setupReturnUrl(returnUrl, result.si) };
    return challengeResultPage('SetupIntent', result.si, action === 'complete');
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
      const pm = createCardPaymentMethod(b.pay, r.account, found.card);
      const result = confirmSetupIntent(b, r.account, r.si.id, { pm, returnUrl: field(req.form, 'return_url') });
      if (result.kind === 'failed') return { status: result.error.status, json: result.error.toBody(), headers: cors };
      return { json: result.si, headers: cors };
    } catch (err) {
      if (err instanceof StripeError) return { status: err.status, json: err.toBody(), headers: cors };
      throw err;
    }
  });
}
