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
import { html, raw, type RawHtml } from '../../core/html.ts';
import { StripeError } from '../../core/errors.ts';
import { page } from '../payments/layout.ts';
import { lookupCardNumber, TEST_CARDS } from '../payments/cards.ts';
import { formatMoney } from '../payments/fees.ts';
import type { Billing } from './context.ts';
import { sessionForToken } from './portal-sessions.ts';
import { cancelSubscription, updateSubscription } from './subscriptions.ts';
import { requireSubscription } from './subscription-status.ts';
import { currentPeriod, idOf } from './subscription-objects.ts';
import { confirmSetupIntent, createSetupIntent } from './setup-intents.ts';
import { updateCustomer } from './customers.ts';
import { detachPaymentMethod } from './payment-methods.ts';
import { productName } from './invoices.ts';
import { describeInterval } from './periods.ts';

type Ctx = { session: Stripe.BillingPortal.Session; account: string; cfg: Stripe.BillingPortal.Configuration; token: string };

const SHOWN: Stripe.Subscription.Status[] = ['active', 'trialing', 'past_due', 'unpaid', 'paused', 'incomplete'];

function field(form: PageRequest['form'], name: string): string | undefined {
  const v = form[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function date(t: number): string {
  return new Date(t * 1000).toISOString().slice(0, 10);
}

export function registerPortalPage(b: Billing): void {
  const { core } = b;
  const base = (token: string): string => `/hosted/portal/${token}`;
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
  const subscriptionsOf = (c: Ctx): Stripe.Subscription[] =>
    b.subscriptions.list(
      c.account,
      (s) => s.customer === c.session.customer && SHOWN.includes(s.status) && (!c.session.on_behalf_of || s.on_behalf_of === c.session.on_behalf_of),
    );
  const ownSubscription = (c: Ctx, id: string | undefined): Stripe.Subscription | undefined => subscriptionsOf(c).find((s) => s.id === id);

  /** Where the buyer goes after finishing an action. */
  const afterAction = (c: Ctx, notice: string): PageResponse => {
    const ac = c.session.flow?.after_completion;
    if (ac?.type === 'redirect' && ac.redirect) return { redirect: ac.redirect.return_url };
    if (ac?.type === 'hosted_confirmation') return { redirect: `${base(c.token)}/done` };
    return { redirect: `${base(c.token)}?notice=${encodeURIComponent(notice)}` };
  };
  const fail = (c: Ctx, message: string): PageResponse => ({ redirect: `${base(c.token)}?error=${encodeURIComponent(message)}` });

  // --- rendering -----------------------------------------------------------------------------
  const priceLabel = (price: Stripe.Price, quantity = 1): string => {
    const r = price.recurring;
    return `${quantity > 1 ? `${quantity} × ` : ''}${productName(b, price)} · ${formatMoney(price.unit_amount ?? 0, price.currency)}${r ? ` / ${describeInterval(r.interval, r.interval_count)}` : ''}`;
  };
  const switchOptions = (c: Ctx, sub: Stripe.Subscription): Stripe.Price[] => {
    const su = c.cfg.features.subscription_update;
    if (!su.enabled || !su.default_allowed_updates.includes('price')) return [];
    const current = sub.items.data[0]?.price.id;
    return (su.products ?? [])
      .flatMap((prod) => prod.prices)
      .map((id) => b.prices.get(id, c.account))
      .filter((x): x is Stripe.Price => !!x && x.active && x.id !== current);
  };
  const subscriptionCard = (c: Ctx, sub: Stripe.Subscription, only?: 'cancel' | 'update'): RawHtml => {
    const item = sub.items.data[0];
    const period = currentPeriod(sub);
    const cancel = c.cfg.features.subscription_cancel;
    const options = switchOptions(c, sub);
    const note =
      sub.cancel_at_period_end || sub.cancel_at
        ? html`<p data-testid="cancel-note">Cancels on ${date(sub.cancel_at ?? period.end)}.</p>`
        : sub.status === 'trialing'
          ? html`<p>Trial ends ${date(sub.trial_end ?? period.end)}.</p>`
          : html`<p>Renews on ${date(period.end)}.</p>`;
    const reasons = cancel.cancellation_reason.enabled
      ? html`<label
          >Why are you cancelling?
          <select name="reason">
            <option value="">—</option>
            ${cancel.cancellation_reason.options.map((o) => html`<option value="${o}">${o.replace(/_/g, ' ')}</option>`)}
          </select></label
        >`
      : raw('');
    const cancelForm =
      cancel.enabled && !sub.cancel_at_period_end && only !== 'update'
        ? html`<form method="post" action="${base(c.token)}/cancel">
            <input type="hidden" name="subscription" value="${sub.id}" />${reasons}<button type="submit" data-testid="cancel-${sub.id}">
              Cancel subscription${cancel.mode === 'immediately' ? ' now' : ''}
            </button>
          </form>`
        : raw('');
    const renewForm =
      sub.cancel_at_period_end && only === undefined
        ? html`<form method="post" action="${base(c.token)}/renew">
            <input type="hidden" name="subscription" value="${sub.id}" /><button type="submit" data-testid="renew-${sub.id}">Renew subscription</button>
          </form>`
        : raw('');
    const switchForm =
      options.length > 0 && only !== 'cancel'
        ? html`<form method="post" action="${base(c.token)}/switch">
            <input type="hidden" name="subscription" value="${sub.id}" />
            <label
              >Change plan
              <select name="price" data-testid="switch-price-${sub.id}">
                ${options.map((p) => html`<option value="${p.id}">${priceLabel(p)}</option>`)}
              </select></label
            >
            <button type="submit" data-testid="switch-${sub.id}">Update plan</button>
          </form>`
        : raw('');
    return html`<section data-testid="subscription-${sub.id}" data-status="${sub.status}">
      <h2>${item ? priceLabel(item.price, item.quantity ?? 1) : sub.id}</h2>
      <p class="muted">Status: <strong data-testid="status-${sub.id}">${sub.status.replace(/_/g, ' ')}</strong></p>
      ${note}${cancelForm}${renewForm}${switchForm}
    </section>`;
  };
  const cardsSection = (c: Ctx): RawHtml => {
    if (!c.cfg.features.payment_method_update.enabled) return raw('');
    const customer = b.customers.get(c.session.customer, c.account);
    const def = customer?.invoice_settings.default_payment_method;
    const pms = b.pay.pms.list(c.account, (pm) => pm.customer === c.session.customer);
    const rows = pms.map(
      (pm) =>
        html`<li data-testid="card-${pm.card?.last4 ?? ''}">
          ${pm.card?.brand ?? 'card'} ••••
          ${pm.card?.last4 ?? ''}${
            pm.id === def
              ? html` <strong data-testid="default-card">Default</strong>`
              : html` <form method="post" action="${base(c.token)}/payment_methods/${pm.id}/default" style="display:inline">
                    <button type="submit" data-testid="make-default-${pm.card?.last4 ?? ''}">Make default</button>
                  </form>
                  <form method="post" action="${base(c.token)}/payment_methods/${pm.id}/remove" style="display:inline">
                    <button type="submit" data-testid="remove-${pm.card?.last4 ?? ''}">Remove</button>
                  </form>`
          }
        </li>`,
    );
    const cards = Object.values(TEST_CARDS).map((card) => html`<li><code>${card.number}</code> — ${card.label}</li>`);
    return html`<section data-testid="payment-methods">
      <h2>Payment method</h2>
      <ul>
        ${rows}
      </ul>
      <form method="post" action="${base(c.token)}/payment_methods">
        <label
          >Card number
          <input name="card_number" inputmode="numeric" autocomplete="cc-number" placeholder="4242 4242 4242 4242" required data-testid="card-number"
        /></label>
        <button class="primary" type="submit" data-testid="add-card">Add payment method</button>
      </form>
      <details>
        <summary class="muted">Test cards</summary>
        <ul class="muted">
          ${cards}
        </ul>
      </details>
    </section>`;
  };
  const invoicesSection = (c: Ctx): RawHtml => {
    if (!c.cfg.features.invoice_history.enabled) return raw('');
    const invoices = b.invoices.list(c.account, (i) => i.customer === c.session.customer && i.status !== 'draft');
    const rows = invoices.map(
      (i) =>
        html`<tr data-testid="invoice-${i.id}">
          <td>${date(i.created)}</td>
          <td>${formatMoney(i.total, i.currency)}</td>
          <td data-testid="invoice-status-${i.id}">${i.status ?? ''}</td>
          <td>${i.hosted_invoice_url ? html`<a href="${i.hosted_invoice_url}">View</a>` : raw('')}</td>
        </tr>`,
    );
    return html`<section data-testid="invoice-history">
      <h2>Invoice history</h2>
      <table>
        ${rows}
      </table>
    </section>`;
  };
  const render = (c: Ctx, req: PageRequest): PageResponse => {
    const notice = typeof req.query.notice === 'string' ? req.query.notice : undefined;
    const error = typeof req.query.error === 'string' ? req.query.error : undefined;
    const customer = b.customers.get(c.session.customer, c.account);
    const flow = c.session.flow;
    let main: RawHtml;
    if (flow?.type === 'payment_method_update') main = cardsSection(c);
    else if (flow?.type === 'subscription_cancel' || flow?.type === 'subscription_update') {
      const id = flow.subscription_cancel?.subscription ?? flow.subscription_update?.subscription;
      const sub = ownSubscription(c, id ?? undefined);
      main = sub
        ? subscriptionCard(c, sub, flow.type === 'subscription_cancel' ? 'cancel' : 'update')
        : html`<p>This subscription can no longer be changed.</p>`;
    } else if (flow?.type === 'subscription_update_confirm' && flow.subscription_update_confirm) {
      const confirm = flow.subscription_update_confirm;
      const item = confirm.items[0];
      const price = item?.price ? b.prices.get(item.price, c.account) : undefined;
      main = html`<section data-testid="confirm-update">
        <h2>Confirm your new plan</h2>
        <p>${price ? priceLabel(price, item?.quantity ?? 1) : 'Quantity change'}</p>
        <form method="post" action="${base(c.token)}/confirm_update">
          <button class="primary" type="submit" data-testid="confirm-update-button">Confirm</button>
        </form>
      </section>`;
    } else {
      const subs = subscriptionsOf(c);
      main = html`<section data-testid="subscriptions">
          <h2>Subscriptions</h2>
          ${subs.length ? subs.map((s) => subscriptionCard(c, s)) : html`<p class="muted">No subscriptions.</p>`}
        </section>
        ${cardsSection(c)}${invoicesSection(c)}`;
    }
    const back = c.session.return_url
      ? html`<p><a href="${c.session.return_url}" data-testid="return">← Return to ${c.cfg.business_profile.headline ?? 'the site'}</a></p>`
      : raw('');
    const body = html`${back}
      <h1>${customer?.email ?? customer?.name ?? 'Your account'}</h1>
      ${notice ? html`<p role="status" data-testid="notice">${notice}</p>` : raw('')}
      ${error ? html`<p role="alert" data-testid="error" style="color:#df1b41">${error}</p>` : raw('')} ${main}`;
    return { html: page('Customer portal', body) };
  };

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
      const reason = field(req.form, 'reason') as Stripe.Subscription.CancellationDetails.Feedback | undefined;
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
      const pm = b.pay.createCardPaymentMethod(c.account, found.card);
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
      const pm = b.pay.pms.get(req.pathParams.pm ?? '', c.account);
      if (!pm || pm.customer !== c.session.customer) return fail(c, 'Unknown payment method.');
      makeDefault(c, pm.id);
      return afterAction(c, 'Your default payment method has been updated.');
    }),
  );
  core.page(
    'POST',
    '/hosted/portal/:token/payment_methods/:pm/remove',
    act((c, req) => {
      const pm = b.pay.pms.get(req.pathParams.pm ?? '', c.account);
      if (!pm || pm.customer !== c.session.customer) return fail(c, 'Unknown payment method.');
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
