/**
 * The hosted Checkout page stand-in (`session.url`): line items, total, email and card number,
 * Pay and Cancel, and the list of test cards.
 *
 *   GET  /hosted/checkout/:cs            the page (an `error` query shows a message)
 *   POST /hosted/checkout/:cs            Pay (form `email`, `card_number`, `save_card=yes`; or
 *                                        `saved_payment_method` of the customer) → 303 to success_url,
 *                                        or to the 3DS page; a decline re-renders the page (402)
 *   GET|POST /hosted/checkout/:cs/cancel → 303 to cancel_url (the session stays open)
 *   GET  /hosted/checkout/:cs/return     where the 3DS page returns to
 *   GET  /hosted/checkout/:cs/complete   shown after payment when there is no success_url
 */
import type Stripe from 'stripe';
import type { EmulatorCore, PageRequest, PageResponse } from '../../core/core.ts';
import { html, raw, type RawHtml } from '../../core/html.ts';
import { page } from './layout.ts';
import { TEST_CARDS } from './cards.ts';
import { formatMoney } from './fees.ts';
import { offeredPaymentMethods, sessionInternal } from './checkout.ts';
import { completeCheckoutSession, payCheckoutSession, successRedirect } from './checkout-payment.ts';
import type { Payments } from './state.ts';
import { shippingFieldsHtml, shippingFromForm, typedShipping } from './shipping.ts';

export function registerCheckoutPage(core: EmulatorCore, pay: Payments): void {
  const render = (s: Stripe.Checkout.Session, error?: string, email?: string, typed: Record<string, string> = {}): PageResponse => {
    const items = sessionInternal(pay, s.id).lineItems;
    const cur = s.currency ?? 'usd';
    if (s.status !== 'open') {
      return {
        status: s.status === 'expired' ? 410 : 200,
        html: page(
          'Checkout',
          html`<h1 data-testid="checkout-closed">This Checkout Session is ${s.status}.</h1>
            <p class="muted">Session <code>${s.id}</code></p>`,
        ),
      };
    }
    const rows: RawHtml[] = items.map(
      (li) =>
        html`<tr>
          <td>${li.description}</td>
          <td>× ${li.quantity}</td>
          <td style="text-align:right">${formatMoney(li.amount_total, cur)}</td>
        </tr>`,
    );
    const cards: RawHtml[] = Object.values(TEST_CARDS).map((c) => html`<li><code>${c.number}</code> — ${c.label}</li>`);
    const extension = pay.checkoutModes.get(s.mode);
    const cardOptional = extension?.cardOptional?.(s) === true;
    const total = formatMoney(s.amount_total ?? 0, cur);
    // Billing's modes: a subscription is started, a setup only saves the card.
    const action =
      s.mode === 'setup' ? 'Save card' : s.mode === 'subscription' ? (s.amount_total ? `Subscribe and pay ${total}` : 'Start trial') : `Pay ${total}`;
    // Payment mode: a returning customer's saved cards, and "save my card" when enabled.
    const saved = s.mode === 'payment' ? offeredPaymentMethods(pay, s) : [];
    const collectsShipping = s.mode === 'payment' && s.shipping_address_collection != null;
    // A session that collects an address sends it with a saved card too: the buttons go in the main form.
    const savedButtons: RawHtml[] = collectsShipping
      ? saved.map(
          (pm) =>
            html`<button type="submit" name="saved_payment_method" value="${pm.id}" formnovalidate data-testid="pay-saved-${pm.card?.last4 ?? ''}">
              Pay ${total} with ${pm.card?.brand ?? 'card'} •••• ${pm.card?.last4 ?? ''}
            </button>`,
        )
      : [];
    const savedForms: RawHtml[] = (collectsShipping ? [] : saved).map(
      (pm) =>
        html`<form method="post" action="/hosted/checkout/${s.id}">
          <input type="hidden" name="saved_payment_method" value="${pm.id}" />
          <button type="submit" data-testid="pay-saved-${pm.card?.last4 ?? ''}">
            Pay ${total} with ${pm.card?.brand ?? 'card'} •••• ${pm.card?.last4 ?? ''}
          </button>
        </form>`,
    );
    const offerSave = s.mode === 'payment' && s.saved_payment_method_options?.payment_method_save === 'enabled' && typeof s.customer === 'string';
    const body = html`<h1>${s.mode === 'setup' ? 'Save a card for later' : s.mode === 'subscription' ? 'Subscribe' : `Pay ${total}`}</h1>
      <table data-testid="line-items">
        ${rows}
        <tr>
          <th>Total</th>
          <th></th>
          <th style="text-align:right" data-testid="total">${formatMoney(s.amount_total ?? 0, cur)}</th>
        </tr>
      </table>
      ${error ? html`<p role="alert" data-testid="error" style="color:#df1b41">${error}</p>` : raw('')}
      ${
        savedForms.length
          ? html`<section data-testid="saved-cards">
              <h2>Your saved cards</h2>
              ${savedForms}
            </section>`
          : raw('')
      }
      <form method="post" action="/hosted/checkout/${s.id}">
        ${shippingFieldsHtml(s, typed)}
        ${
          savedButtons.length
            ? html`<section data-testid="saved-cards">
                <h2>Your saved cards</h2>
                ${savedButtons}
              </section>`
            : raw('')
        }
        <label>Email <input type="email" name="email" value="${email ?? s.customer_details?.email ?? s.customer_email ?? ''}" required /></label>
        <label
          >Card number${cardOptional ? ' (optional: no card is needed now)' : ''}
          <input name="card_number" inputmode="numeric" autocomplete="cc-number" placeholder="4242 4242 4242 4242" ${cardOptional ? raw('') : raw('required')}
        /></label>
        ${
          offerSave
            ? html`<label><input type="checkbox" name="save_card" value="yes" data-testid="save-card" /> Save my card for future purchases</label>`
            : raw('')
        }
        <button class="primary" type="submit" data-testid="pay">${action}</button>
      </form>
      <form method="post" action="/hosted/checkout/${s.id}/cancel"><button type="submit" data-testid="cancel">Cancel and go back</button></form>
      <details>
        <summary class="muted">Test cards</summary>
        <ul class="muted">
          ${cards}
        </ul>
      </details>`;
    return { status: error ? 402 : 200, html: page('Checkout', body) };
  };
  const sessionFor = (req: PageRequest): Stripe.Checkout.Session | undefined => pay.sessions.get(req.pathParams.id ?? '');
  const notFound = (): PageResponse => ({ status: 404, html: page('Checkout', html`<h1>Unknown Checkout Session</h1>`) });

  core.page('GET', '/hosted/checkout/:id', (req) => {
    const s = sessionFor(req);
    if (!s) return notFound();
    const error = typeof req.query.error === 'string' ? req.query.error : undefined;
    return render(s, error);
  });
  core.page('POST', '/hosted/checkout/:id', (req) => {
    const s = sessionFor(req);
    if (!s) return notFound();
    const number = typeof req.form.card_number === 'string' ? req.form.card_number : '';
    const email = typeof req.form.email === 'string' && req.form.email ? req.form.email : null;
    const savedPaymentMethod = typeof req.form.saved_payment_method === 'string' && req.form.saved_payment_method ? req.form.saved_payment_method : undefined;
    // A session that collects a shipping address takes no payment without one.
    const typed = typedShipping(req.form);
    const collected = s.mode === 'payment' && s.shipping_address_collection ? shippingFromForm(req.form, s.shipping_address_collection) : undefined;
    if (collected && 'error' in collected) return render(s, collected.error, email ?? undefined, typed);
    const shipping = collected?.details;
    if (savedPaymentMethod) {
      const out = payCheckoutSession(pay, s.id, '', email, { savedPaymentMethod, shipping });
      return 'error' in out ? render(pay.sessions.require(s.id), out.error, undefined, typed) : { redirect: out.redirect };
    }
    if (!number && pay.checkoutModes.get(s.mode)?.cardOptional?.(s) !== true) return render(s, 'Your card number is incomplete.', email ?? undefined, typed);
    const out = payCheckoutSession(pay, s.id, number, email, { saveCard: req.form.save_card === 'yes', shipping });
    if ('error' in out) return render(pay.sessions.require(s.id), out.error, email ?? undefined, typed);
    return { redirect: out.redirect };
  });
  const cancel = (req: PageRequest): PageResponse => {
    const s = sessionFor(req);
    if (!s) return notFound();
    if (s.cancel_url) return { redirect: s.cancel_url.replace(/\{CHECKOUT_SESSION_ID\}/g, s.id) };
    return {
      html: page(
        'Checkout',
        html`<h1>Payment canceled</h1>
          <p class="muted">No cancel_url was set for <code>${s.id}</code>.</p>`,
      ),
    };
  };
  core.page('POST', '/hosted/checkout/:id/cancel', cancel);
  core.page('GET', '/hosted/checkout/:id/cancel', cancel);
  /** Where the 3DS page sends the buyer back to. */
  core.page('GET', '/hosted/checkout/:id/return', (req) => {
    const s = sessionFor(req);
    if (!s) return notFound();
    if (s.status === 'complete') return { redirect: successRedirect(pay, s) };
    const account = sessionInternal(pay, s.id).account;
    const pi = s.payment_intent ? pay.pis.get(String(s.payment_intent), account) : undefined;
    if (pi && (pi.status === 'succeeded' || pi.status === 'requires_capture')) return { redirect: successRedirect(pay, completeCheckoutSession(pay, s.id)) };
    const message =
      pi?.last_payment_error?.message ?? 'We are unable to authenticate your payment method. Please choose a different payment method and try again.';
    return { redirect: `/hosted/checkout/${s.id}?error=${encodeURIComponent(message)}` };
  });
  core.page('GET', '/hosted/checkout/:id/complete', (req) => {
    const s = sessionFor(req);
    if (!s) return notFound();
    return {
      html: page(
        'Checkout',
        html`<h1 data-testid="checkout-complete">Thanks for your payment</h1>
          <p class="muted">Session <code>${s.id}</code> is ${s.status}.</p>`,
      ),
    };
  });
}
