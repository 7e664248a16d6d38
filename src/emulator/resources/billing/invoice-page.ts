/**
 * The hosted invoice page stand-in (`invoice.hosted_invoice_url`): the buyer sees the invoice
 * and pays it, with the saved card or another one, authenticating on the 3DS page when the card
 * asks (the way to recover a renewal that ended in `invoice.payment_action_required`).
 *
 *   GET  /hosted/invoices/:id/:token        the invoice (number, lines, amount due, status)
 *   POST /hosted/invoices/:id/:token/pay    form: card_number? (none: the saved card)
 *                                           → 3DS page when needed, back here when done
 *   GET  /hosted/invoices/:id/:token/pdf    `invoice_pdf` (a plain-text stand-in)
 */
import type Stripe from 'stripe';
import type { PageRequest, PageResponse } from '../../core/core.ts';
import { html, raw } from '../../core/html.ts';
import { StripeError } from '../../core/errors.ts';
import { page } from '../payments/layout.ts';
import { lookupCardNumber } from '../payments/cards.ts';
import { formatMoney } from '../payments/fees.ts';
import type { Billing } from './context.ts';
import { hostedInvoiceUrl, invoiceInternal } from './invoices.ts';
import { collectInvoice, paymentMethodFor, reconcileIntent } from './collection.ts';

function field(form: PageRequest['form'], name: string): string | undefined {
  const v = form[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function registerInvoicePage(b: Billing): void {
  const { core } = b;
  const load = (req: PageRequest): { inv: Stripe.Invoice; account: string } | undefined => {
    const id = req.pathParams.id ?? '';
    const inv = b.invoices.get(id);
    if (!inv || inv.status === 'draft' || invoiceInternal(b, id).token !== req.pathParams.token) return undefined;
    return { inv, account: b.invoices.ownerOf(id) ?? core.platformAccount };
  };
  const unknown = (): PageResponse => ({ status: 404, html: page('Invoice', html`<h1>Unknown invoice</h1>`) });

  const render = (inv: Stripe.Invoice, account: string, error?: string): PageResponse => {
    const pmId = paymentMethodFor(b, account, inv);
    const pm = pmId ? b.pay.pms.get(pmId, account) : undefined;
    const piId = invoiceInternal(b, inv.id).paymentIntent;
    const pi = piId ? b.pay.pis.get(piId, account) : undefined;
    const payable = inv.status === 'open' || inv.status === 'uncollectible';
    const needsAuth = pi?.status === 'requires_action';
    const lines = inv.lines.data.map(
      (l) =>
        html`<tr>
          <td>${l.description ?? ''}</td>
          <td style="text-align:right">${formatMoney(l.amount, l.currency)}</td>
        </tr>`,
    );
    const action = !payable
      ? html`<p data-testid="invoice-status">This invoice is <strong>${inv.status ?? ''}</strong>.</p>`
      : html`${needsAuth ? html`<p data-testid="needs-auth">Your bank needs you to confirm this payment.</p>` : raw('')}
          <form method="post" action="/hosted/invoices/${inv.id}/${invoiceInternal(b, inv.id).token}/pay">
            ${pm ? html`<p class="muted">Saved card: ${pm.card?.brand ?? 'card'} •••• ${pm.card?.last4 ?? ''}</p>` : raw('')}
            <button class="primary" type="submit" data-testid="${needsAuth ? 'authenticate' : 'pay'}" ${pm ? raw('') : raw('disabled')}>
              ${needsAuth ? 'Authenticate and pay' : 'Pay'} ${formatMoney(inv.amount_remaining, inv.currency)}
            </button>
          </form>
          <form method="post" action="/hosted/invoices/${inv.id}/${invoiceInternal(b, inv.id).token}/pay">
            <label
              >Or pay with another card
              <input name="card_number" inputmode="numeric" autocomplete="cc-number" placeholder="4242 4242 4242 4242" data-testid="card-number"
            /></label>
            <button type="submit" data-testid="pay-with-card">Pay with this card</button>
          </form>`;
    const body = html`<h1>Invoice ${inv.number ?? ''}</h1>
      <p class="muted">${inv.account_name ?? ''} · <span data-testid="status">${inv.status ?? ''}</span></p>
      <table data-testid="lines">
        ${lines}
        <tr>
          <th>Amount due</th>
          <th style="text-align:right" data-testid="amount-due">${formatMoney(inv.amount_due, inv.currency)}</th>
        </tr>
      </table>
      ${error ? html`<p role="alert" data-testid="error" style="color:#df1b41">${error}</p>` : raw('')} ${action}`;
    return { status: error ? 402 : 200, html: page('Invoice', body) };
  };

  core.page('GET', '/hosted/invoices/:id/:token', (req) => {
    const found = load(req);
    if (!found) return unknown();
    // Back from the 3DS page: apply the PaymentIntent's outcome if nothing did yet.
    const piId = invoiceInternal(b, found.inv.id).paymentIntent;
    if (piId && b.pay.pis.get(piId)?.status === 'succeeded') reconcileIntent(b, piId, 'succeeded');
    const inv = b.invoices.require(found.inv.id);
    const error =
      typeof req.query.redirect_status === 'string' && req.query.redirect_status === 'failed'
        ? 'We are unable to authenticate your payment method. Please choose a different payment method and try again.'
        : undefined;
    return render(inv, found.account, error);
  });
  core.page('POST', '/hosted/invoices/:id/:token/pay', (req) => {
    const found = load(req);
    if (!found) return unknown();
    const { inv, account } = found;
    if (inv.status !== 'open' && inv.status !== 'uncollectible') return render(inv, account);
    const number = field(req.form, 'card_number');
    let paymentMethod: string | undefined;
    if (number) {
      const card = lookupCardNumber(number);
      if (!card.ok) return render(inv, account, card.message);
      paymentMethod = b.pay.createCardPaymentMethod(account, card.card).id;
    }
    const here = hostedInvoiceUrl(b, inv.id);
    try {
      const { outcome } = collectInvoice(b, account, inv.id, { automatic: false, offSession: false, paymentMethod, returnUrl: here, onPage: true });
      if (outcome.kind === 'requires_action') return { redirect: outcome.pi.next_action?.redirect_to_url?.url ?? here };
      if (outcome.kind === 'declined') return render(b.invoices.require(inv.id), account, outcome.pi.last_payment_error?.message ?? outcome.message);
      if (outcome.kind === 'no_payment_method') return render(b.invoices.require(inv.id), account, 'Enter a card to pay this invoice.');
      return { redirect: here };
    } catch (err) {
      if (err instanceof StripeError) return render(b.invoices.require(inv.id), account, err.message);
      throw err;
    }
  });
  core.page('GET', '/hosted/invoices/:id/:token/pdf', (req) => {
    const found = load(req);
    if (!found) return unknown();
    const { inv } = found;
    const lines = inv.lines.data.map((l) => `${l.description ?? ''}\t${formatMoney(l.amount, l.currency)}`).join('\n');
    return {
      text: `Invoice ${inv.number ?? inv.id} (Stripe emulator stand-in for the PDF)\n\n${lines}\n\nTotal\t${formatMoney(inv.total, inv.currency)}\nStatus\t${inv.status ?? ''}\n`,
    };
  });
}
