/**
 * What the hosted customer portal shows (portal-page.ts has the routes and actions): the
 * buyer's subscriptions with cancel / renew / switch-price forms as the configuration allows,
 * saved cards, and invoice history with links to the hosted invoice pages.
 */
import type Stripe from 'stripe';
import type { PageRequest, PageResponse } from '../../core/core.ts';
import { html, raw, type RawHtml } from '../../core/html.ts';

import { formatMoney, page, TEST_CARDS } from '../payments/api.ts';
import type { Billing } from './context.ts';

import { currentPeriod } from './subscription-objects.ts';

import { productName } from './invoices.ts';
import { describeInterval } from './periods.ts';

export type Ctx = { session: Stripe.BillingPortal.Session; account: string; cfg: Stripe.BillingPortal.Configuration; token: string };

const SHOWN: Stripe.Subscription.Status[] = ['active', 'trialing', 'past_due', 'unpaid', 'paused', 'incomplete'];

export function date(t: number): string {
  return new Date(t * 1000).toISOString().slice(0, 10);
}

export function portalViews(b: Billing) {
  const base = (token: string): string => `/hosted/portal/${token}`;
  const subscriptionsOf = (c: Ctx): Stripe.Subscription[] =>
    b.subscriptions.list(
      c.account,
      (s) => s.customer === c.session.customer && SHOWN.includes(s.status) && (!c.session.on_behalf_of || s.on_behalf_of === c.session.on_behalf_of),
    );
  const ownSubscription = (c: Ctx, id: string | undefined): Stripe.Subscription | undefined => subscriptionsOf(c).find((s) => s.id === id);

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

  return { base, render, subscriptionsOf, ownSubscription, switchOptions };
}
