/**
 * The hosted customer portal stand-in (`billing_portal.session.url`). No API key: the secret
 * token in the URL is the buyer's access, for an hour of emulator time.
 *
 *   GET  /hosted/portal/:token                         home (or the session's flow)
 *   POST /hosted/portal/:token/cancel                  form: subscription, reason?   (subscription_cancel)
 *   POST /hosted/portal/:token/renew                   form: subscription            (undo cancel at period end)
 *   POST /hosted/portal/:token/switch                  form: subscription, price     (subscription_update)
 *   POST /hosted/portal/:token/confirm_update          subscription_update_confirm flow
 *   POST /hosted/portal/:token/payment_methods         form: card_number             (payment_method_update)
 *   GET  /hosted/portal/:token/payment_methods/return  where the 3DS page sends the buyer back
 *   POST /hosted/portal/:token/payment_methods/:pm/default | /remove
 *   GET  /hosted/portal/:token/done                    hosted confirmation after a flow
 *
 * What each action does (and so which events Stripe sends): cancelling follows the
 * configuration's `mode` (`at_period_end`: `cancel_at_period_end: true`, one
 * `customer.subscription.updated`; `immediately`: `customer.subscription.deleted`, with the
 * unused time credited when `proration_behavior` is `create_prorations`); switching price is a
 * subscription update with the configuration's `proration_behavior` and `billing_cycle_anchor`;
 * a new card is saved through a SetupIntent (3DS on the challenge page when the card needs it:
 * `setup_intent.*`, `payment_method.attached`), then becomes the customer's default
 * (`customer.updated`) and the default of each subscription that had one
 * (`customer.subscription.updated`). The next renewal or retry charges it.
 */
import type Stripe from 'stripe';
import type { PageRequest, PageResponse } from '../../core/core.ts';
import { html, raw } from '../../core/html.ts';
import { StripeError } from '../../core/errors.ts';
import { createCardPaymentMethod, lookupCardNumber, page } from '../payments/api.ts';
import type { Billing } from './context.ts';
import { sessionForToken } from './portal-sessions.ts';
import { updateSubscription } from './subscription-update.ts';
import { cancelSubscription } from './subscription-lifecycle.ts';
import { requireSubscription } from './subscription-status.ts';
import { currentPeriod, idOf } from './subscription-objects.ts';
import { confirmSetupIntent, createSetupIntent } from './setup-intents.ts';
import { updateCustomer } from './customers.ts';
import { detachPaymentMethod } from './payment-methods.ts';

import { date, portalViews, type Ctx } from './portal-views.ts';

function field(form: PageRequest['form'], name: string): string | undefined {
  const v = form[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function registerPortalPage(b: Billing): void {
  const { core } = b;
  const expired = (): PageResponse => ({
    status: 404,
    html: page(
      'Customer portal',
      html`<h1 data-testid="portal-expired">This portal session has expired</h1>
        <p class="muted">Ask the site for a new link.</p>`,
    ),
  });
  const load = (req: PageRequest): Ctx | undefined => {
    const token = req.pathParams.token ?? '';
    const found = sessionForToken(b, token);
    if (!found) return undefined;
    const cfg = b.portalConfigurations.require(String(found.session.configuration), found.account);
    return { ...found, cfg, token };
  };
  const { base, render, subscriptionsOf, ownSubscription, switchOptions } = portalViews(b);
  /** Where the buyer goes after finishing an action. */
  const afterAction = (c: Ctx, notice: string): PageResponse => {
    const ac = c.session.flow?.after_completion;
    if (ac?.type === 'redirect' && ac.redirect) return { redirect: ac.redirect.return_url };
    if (ac?.type === 'hosted_confirmation') return { redirect: `${base(c.token)}/done` };
    return { redirect: `${base(c.token)}?notice=${encodeURIComponent(notice)}` };
  };
  const fail = (c: Ctx, message: string): PageResponse => ({ redirect: `${base(c.token)}?error=${encodeURIComponent(message)}` });

  // --- actions -------------------------------------------------------------------------------
  const act =
    (handler: (c: Ctx, req: PageRequest) => PageResponse) =>
    (req: PageRequest): PageResponse => {
      const c = load(req);
      if (!c) return expired();
      try {
        return handler(c, req);
      } catch (err) {
        if (err instanceof StripeError) return fail(c, err.message);
        throw err;
      }
    };

  /** The payment method `id`, if it is this portal customer's. */
  const ownPaymentMethod = (c: Ctx, id: string | undefined): Stripe.PaymentMethod | undefined => {
    const pm = b.pay.pms.get(id ?? '', c.account);
    return pm?.customer === c.session.customer ? pm : undefined;
  };

  /** A saved card becomes the customer's default and that of subscriptions that had their own. */
  const makeDefault = (c: Ctx, pmId: string): void => {
    updateCustomer(b, c.account, c.session.customer, { invoice_settings: { default_payment_method: pmId } });
    for (const sub of subscriptionsOf(c)) {
      if (sub.default_payment_method && sub.default_payment_method !== pmId) {
        updateSubscription(b, c.account, sub.id, { defaultPaymentMethod: pmId, prorationBehavior: 'none', resetAnchor: false, offSession: false });
      }
    }
  };

  core.page('GET', '/hosted/portal/:token', (req) => {
    const c = load(req);
    return c ? render(c, req) : expired();
  });
  core.page(
    'POST',
    '/hosted/portal/:token/cancel',
    act((c, req) => {
      const cancel = c.cfg.features.subscription_cancel;
      const sub = ownSubscription(c, field(req.form, 'subscription'));
      if (!cancel.enabled || !sub) return fail(c, 'This subscription cannot be cancelled here.');
      const reason = field(req.form, 'reason');
      if (cancel.mode === 'immediately') {
        cancelSubscription(b, c.account, sub.id, { feedback: reason ?? null, prorate: cancel.proration_behavior === 'create_prorations' });
        return afterAction(c, 'Your subscription has been cancelled.');
      }
      updateSubscription(b, c.account, sub.id, {
        cancelAtPeriodEnd: true,
        ...(reason ? { cancellationFeedback: reason } : {}),
        prorationBehavior: 'none',
        resetAnchor: false,
        offSession: false,
      });
      return afterAction(c, `Your subscription will be cancelled on ${date(currentPeriod(requireSubscription(b, sub.id, c.account)).end)}.`);
    }),
  );
  core.page(
    'POST',
    '/hosted/portal/:token/renew',
    act((c, req) => {
      const sub = ownSubscription(c, field(req.form, 'subscription'));
      if (!sub) return fail(c, 'Unknown subscription.');
      updateSubscription(b, c.account, sub.id, { cancelAtPeriodEnd: false, prorationBehavior: 'none', resetAnchor: false, offSession: false });
      return afterAction(c, 'Your subscription will renew.');
    }),
  );
  const switchPrice = (c: Ctx, sub: Stripe.Subscription, priceId: string, quantity?: number): void => {
    const su = c.cfg.features.subscription_update;
    const price = b.prices.get(priceId, c.account);
    const item = sub.items.data[0];
    if (!price || !item) throw new StripeError({ status: 400, type: 'invalid_request_error', message: 'Unknown plan.' });
    updateSubscription(b, c.account, sub.id, {
      items: [{ id: item.id, price, ...(quantity !== undefined ? { quantity } : {}) }],
      prorationBehavior:
        su.proration_behavior === 'always_invoice' ? 'always_invoice' : su.proration_behavior === 'create_prorations' ? 'create_prorations' : 'none',
      resetAnchor: su.billing_cycle_anchor === 'now',
      offSession: false,
    });
  };
  core.page(
    'POST',
    '/hosted/portal/:token/switch',
    act((c, req) => {
      const sub = ownSubscription(c, field(req.form, 'subscription'));
      const priceId = field(req.form, 'price');
      if (!sub || !priceId || !switchOptions(c, sub).some((p) => p.id === priceId)) return fail(c, 'This plan is not available.');
      switchPrice(c, sub, priceId);
      return afterAction(c, 'Your plan has been updated.');
    }),
  );
  core.page(
    'POST',
    '/hosted/portal/:token/confirm_update',
    act((c) => {
      const confirm = c.session.flow?.subscription_update_confirm;
      const sub = ownSubscription(c, confirm?.subscription);
      const item = confirm?.items[0];
      if (!confirm || !sub || !item) return fail(c, 'Nothing to confirm.');
      switchPrice(c, sub, item.price ?? sub.items.data[0]?.price.id ?? '', item.quantity);
      return afterAction(c, 'Your plan has been updated.');
    }),
  );
  core.page(
    'POST',
    '/hosted/portal/:token/payment_methods',
    act((c, req) => {
      if (!c.cfg.features.payment_method_update.enabled) return fail(c, 'Payment methods cannot be changed here.');
      const found = lookupCardNumber(field(req.form, 'card_number') ?? '');
      if (!found.ok) return fail(c, found.message);
      const pm = createCardPaymentMethod(b.pay, c.account, found.card);
      const si = createSetupIntent(b, c.account, {
        customer: c.session.customer,
        usage: 'off_session',
        metadata: {},
        onBehalfOf: c.session.on_behalf_of,
        description: null,
      });
      const result = confirmSetupIntent(b, c.account, si.id, { pm, returnUrl: core.pageUrl(`${base(c.token)}/payment_methods/return`) });
      if (result.kind === 'failed') return fail(c, result.error.message);
      if (result.kind === 'requires_action') return { redirect: result.si.next_action?.redirect_to_url?.url ?? base(c.token) };
      makeDefault(c, pm.id);
      return afterAction(c, 'Your payment method has been updated.');
    }),
  );
  core.page(
    'GET',
    '/hosted/portal/:token/payment_methods/return',
    act((c, req) => {
      const si = b.setupIntents.get(typeof req.query.setup_intent === 'string' ? req.query.setup_intent : '', c.account);
      if (!si || si.customer !== c.session.customer) return fail(c, 'Unknown setup.');
      if (si.status !== 'succeeded') return fail(c, si.last_setup_error?.message ?? 'We could not authenticate your card. Try another card.');
      const pmId = idOf(si.payment_method);
      if (pmId) makeDefault(c, pmId);
      return afterAction(c, 'Your payment method has been updated.');
    }),
  );
  core.page(
    'POST',
    '/hosted/portal/:token/payment_methods/:pm/default',
    act((c, req) => {
      const pm = ownPaymentMethod(c, req.pathParams.pm);
      if (!pm) return fail(c, 'Unknown payment method.');
      makeDefault(c, pm.id);
      return afterAction(c, 'Your default payment method has been updated.');
    }),
  );
  core.page(
    'POST',
    '/hosted/portal/:token/payment_methods/:pm/remove',
    act((c, req) => {
      const pm = ownPaymentMethod(c, req.pathParams.pm);
      if (!pm) return fail(c, 'Unknown payment method.');
      const customer = b.customers.get(c.session.customer, c.account);
      const live = subscriptionsOf(c).some((s) => s.status !== 'incomplete');
      if (customer?.invoice_settings.default_payment_method === pm.id && live)
        return fail(c, 'Your default payment method pays your subscriptions; add another one before removing it.');
      detachPaymentMethod(b, c.account, pm.id);
      return { redirect: `${base(c.token)}?notice=${encodeURIComponent('Payment method removed.')}` };
    }),
  );
  core.page('GET', '/hosted/portal/:token/done', (req) => {
    const c = load(req);
    if (!c) return expired();
    const message = c.session.flow?.after_completion.hosted_confirmation?.custom_message ?? 'All done.';
    const back = c.session.return_url ? html`<p><a href="${c.session.return_url}" data-testid="return">Return</a></p>` : raw('');
    return {
      html: page(
        'Customer portal',
        html`<h1 data-testid="portal-done">${message}</h1>
          ${back}`,
      ),
    };
  });
}
