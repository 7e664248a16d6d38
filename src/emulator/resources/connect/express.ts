/** Login links (`POST /v1/accounts/:id/login_links`) and the Express Dashboard stand-in. */
import type Stripe from 'stripe';
import type { EmulatorCore } from '../../core/core.ts';
import { invalidRequest, StripeError } from '../../core/errors.ts';
import { randomToken } from '../../core/ids.ts';
import { html, layout } from '../../core/html.ts';
import { accountsOf } from './model.ts';
import { payoutsOf } from './payouts.ts';

interface LoginRecord {
  id: string;
  account: string;
  created: number;
}

function money(amount: number, currency: string): string {
  const zeroDecimal = ['bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf'].includes(currency);
  const value = zeroDecimal ? amount : amount / 100;
  return `${value.toFixed(zeroDecimal ? 0 : 2)} ${currency.toUpperCase()}`;
}

export function registerExpress(core: EmulatorCore): void {
  const logins = core.collection<LoginRecord>('emulator.login_link', 'login link');
  const accounts = accountsOf(core);

  core.route('POST', '/v1/accounts/:id/login_links', {}, (req) => {
    const id = req.pathParams.id ?? '';
    if (!req.isPlatform) throw invalidRequest('Login links can only be created by the platform.');
    const acct = accounts.get(id);
    if (!acct || id === core.platformAccount) {
      throw new StripeError({
        status: 403,
        type: 'invalid_request_error',
        code: 'account_invalid',
        param: 'account',
        message: `The provided key does not have access to account '${id}' (or that account does not exist).`,
      });
    }
    if (acct.controller?.stripe_dashboard?.type !== 'express') {
      throw invalidRequest(
        'Cannot create a login link for an account that does not have access to the Express Dashboard (controller[stripe_dashboard][type] must be `express`).',
        { param: 'account' },
      );
    }
    if (!acct.details_submitted) {
      throw invalidRequest('Cannot create a login link for an account that has not completed onboarding.', { param: 'account' });
    }
    const rec: LoginRecord = { id: `login_${randomToken(24)}`, account: id, created: core.now() };
    logins.insert(core.platformAccount, rec, { created: rec.created });
    const link: Stripe.LoginLink = { object: 'login_link', created: rec.created, url: core.pageUrl(`/hosted/express/${rec.id}`) };
    return link;
  });

  core.page('GET', '/hosted/express/:login', (req) => {
    const rec = logins.get(req.pathParams.login ?? '');
    if (!rec) return { status: 404, html: layout('Express Dashboard', html`<h1>Unknown login link</h1>`) };
    const acct = accounts.get(rec.account);
    if (!acct) return { status: 404, html: layout('Express Dashboard', html`<h1>Account no longer exists</h1>`) };
    const bal = core.ledger.balance(acct.id);
    const payouts = payoutsOf(core).list(acct.id).slice(0, 20);
    const balRows = bal.available.map((a) => {
      const pending = bal.pending.find((x) => x.currency === a.currency)?.amount ?? 0;
      return html`<tr>
        <td>${a.currency.toUpperCase()}</td>
        <td data-testid="available-${a.currency}">${money(a.amount, a.currency)}</td>
        <td data-testid="pending-${a.currency}">${money(pending, a.currency)}</td>
      </tr>`;
    });
    const payoutRows = payouts.length
      ? payouts.map(
          (po) =>
            html`<tr data-payout="${po.id}">
              <td><code>${po.id}</code></td>
              <td>${money(po.amount, po.currency)}</td>
              <td>${po.status}</td>
              <td>${new Date(po.arrival_date * 1000).toISOString().slice(0, 10)}</td>
              <td>${po.automatic ? 'automatic' : 'manual'}</td>
            </tr>`,
        )
      : [
          html`<tr>
            <td colspan="5" class="muted">No payouts yet</td>
          </tr>`,
        ];
    const schedule = acct.settings?.payouts?.schedule;
    return {
      html: layout(
        'Express Dashboard',
        html`<h1>${acct.business_profile?.name ?? acct.email ?? acct.id}</h1>
          <p class="muted">
            Account <code>${acct.id}</code> · payouts ${acct.payouts_enabled ? 'enabled' : 'disabled'} · schedule
            ${schedule?.interval ?? 'daily'}${schedule?.interval === 'weekly' ? ` (${schedule.weekly_anchor ?? ''})` : ''}
          </p>
          <h2>Balance</h2>
          <table>
            <tr>
              <th>Currency</th>
              <th>Available</th>
              <th>Pending</th>
            </tr>
            ${balRows}
          </table>
          <h2>Payouts</h2>
          <table>
            <tr>
              <th>Id</th>
              <th>Amount</th>
              <th>Status</th>
              <th>Arrival</th>
              <th>Type</th>
            </tr>
            ${payoutRows}
          </table>`,
      ),
    };
  });
}
