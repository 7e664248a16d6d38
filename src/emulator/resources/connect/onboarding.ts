/**
 * Account Links and the hosted onboarding stand-in. A link URL is single-use: the first visit
 * opens an onboarding session (the page), later visits — and visits after `expires_at` on the
 * emulator clock — redirect to `refresh_url`. Choosing an outcome updates the account and
 * redirects to `return_url`.
 */
import type Stripe from 'stripe';
import type { EmulatorCore } from '../../core/core.ts';
import { p, str } from '../../core/params.ts';
import { invalidRequest, StripeError } from '../../core/errors.ts';
import { randomToken } from '../../core/ids.ts';
import { html, layout, raw } from '../../core/html.ts';
import { accountsOf, applyOutcome, OUTCOMES, type Outcome } from './model.ts';

/** Account Links expire this many seconds after creation. */
export const ACCOUNT_LINK_TTL = 300;

interface LinkRecord {
  id: string;
  account: string;
  type: 'account_onboarding' | 'account_update';
  refresh_url: string | null;
  return_url: string | null;
  created: number;
  expires_at: number;
  /** First visit opens a session; any later GET goes to refresh_url. */
  visited: boolean;
  session: string | null;
  completed: boolean;
  collection_fields: string;
}

const OUTCOME_LABELS: Record<Outcome, [string, string]> = {
  verified: ['Verified', 'All information provided and verified: charges and payouts enabled.'],
  pending_verification: ['Pending verification', 'Details submitted; Stripe is still verifying identity (capabilities pending).'],
  requirements_due: ['Requirements still due', 'Details submitted but an identity document is still due before a deadline.'],
  rejected: ['Rejected', 'Stripe rejected the account (rejected.other).'],
  incomplete: ['Leave without finishing', 'Return to the platform with onboarding incomplete.'],
};

export function registerOnboarding(core: EmulatorCore): void {
  const links = core.collection<LinkRecord>('emulator.account_link', 'account link');
  const accounts = accountsOf(core);

  core.route(
    'POST',
    '/v1/account_links',
    {
      required: ['account', 'type'],
      params: {
        account: p.string,
        type: p.enum('account_onboarding', 'account_update'),
        refresh_url: p.string,
        return_url: p.string,
        collect: p.enum('currently_due', 'eventually_due'),
        collection_options: { fields: p.enum('currently_due', 'eventually_due'), future_requirements: p.enum('omit', 'include') },
      },
    },
    (req) => {
      if (!req.isPlatform) throw invalidRequest('Account Links can only be created by the platform.');
      const accountId = str(req.params, 'account') ?? '';
      const acct = accounts.get(accountId);
      if (!acct || accountId === core.platformAccount) {
        throw new StripeError({
          status: 400,
          type: 'invalid_request_error',
          code: 'account_invalid',
          param: 'account',
          message: `The account '${accountId}' does not exist or is not connected to your platform.`,
        });
      }
      const type = str(req.params, 'type') as LinkRecord['type'];
      if (req.params.collect !== undefined && req.params.collection_options !== undefined) {
        throw invalidRequest('You cannot specify both `collect` and `collection_options`.', { param: 'collection_options' });
      }
      if (type === 'account_update' && acct.controller?.stripe_dashboard?.type !== 'none') {
        throw invalidRequest('You cannot create `account_update` type Account Links for accounts with access to a Stripe-hosted Dashboard.', { param: 'type' });
      }
      for (const k of ['refresh_url', 'return_url']) {
        const u = str(req.params, k);
        if (u && !/^https?:\/\//i.test(u)) throw invalidRequest(`Invalid URL: ${u}`, { param: k, code: 'url_invalid' });
      }
      const now = core.now();
      const token = randomToken(24);
      const rec: LinkRecord = {
        id: `acctlink_${token}`,
        account: accountId,
        type,
        refresh_url: str(req.params, 'refresh_url') ?? null,
        return_url: str(req.params, 'return_url') ?? null,
        created: now,
        expires_at: now + ACCOUNT_LINK_TTL,
        visited: false,
        session: null,
        completed: false,
        collection_fields: str(req.params, 'collection_options.fields') ?? str(req.params, 'collect') ?? 'currently_due',
      };
      links.insert(core.platformAccount, rec, { created: now });
      accounts.setInternal(accountId, { onboardingStarted: true });
      const link: Stripe.AccountLink = { object: 'account_link', created: now, expires_at: rec.expires_at, url: core.pageUrl(`/hosted/onboarding/${rec.id}`) };
      return link;
    },
  );

  const toRefresh = (rec: LinkRecord | undefined) => {
    if (rec?.refresh_url) return { redirect: rec.refresh_url };
    return {
      status: 410,
      html: layout(
        'Link expired',
        html`<h1>This link has expired or was already used</h1>
          <p class="muted">No <code>refresh_url</code> was given when the Account Link was created.</p>`,
      ),
    };
  };

  core.page('GET', '/hosted/onboarding/:link', (req) => {
    const rec = links.get(req.pathParams.link ?? '');
    if (!rec) return { status: 404, html: layout('Not found', html`<h1>Unknown onboarding link</h1>`) };
    if (rec.visited || rec.completed || core.now() >= rec.expires_at) {
      links.save({ ...rec, visited: true });
      return toRefresh(rec);
    }
    const session = randomToken(20);
    links.save({ ...rec, visited: true, session });
    const acct = accounts.get(rec.account);
    const due = acct?.requirements?.currently_due ?? [];
    const buttons = OUTCOMES.map(
      (o) =>
        html`<button type="submit" name="outcome" value="${o}" data-outcome="${o}" class="${o === 'verified' ? 'primary' : ''}">
          <strong>${OUTCOME_LABELS[o][0]}</strong><br /><span class="muted">${OUTCOME_LABELS[o][1]}</span>
        </button>`,
    );
    return {
      html: layout(
        'Connect onboarding',
        html`<h1>Set up payouts for ${acct?.business_profile?.name ?? acct?.email ?? rec.account}</h1>
          <table>
            <tr>
              <th>Account</th>
              <td><code data-testid="account-id">${rec.account}</code></td>
            </tr>
            <tr>
              <th>Email</th>
              <td>${acct?.email ?? '—'}</td>
            </tr>
            <tr>
              <th>Country</th>
              <td>${acct?.country ?? '—'}</td>
            </tr>
            <tr>
              <th>Link type</th>
              <td>${rec.type}</td>
            </tr>
            <tr>
              <th>Currently due</th>
              <td class="muted">${due.length ? due.join(', ') : 'nothing'}</td>
            </tr>
          </table>
          <p>Choose how this onboarding ends:</p>
          <form method="post" action="/hosted/onboarding/${rec.id}">
            <input type="hidden" name="session" value="${session}" />
            ${buttons}
          </form>
          ${raw('')}`,
      ),
    };
  });

  core.page('POST', '/hosted/onboarding/:link', (req) => {
    const rec = links.get(req.pathParams.link ?? '');
    if (!rec) return { status: 404, html: layout('Not found', html`<h1>Unknown onboarding link</h1>`) };
    const session = typeof req.form.session === 'string' ? req.form.session : '';
    if (rec.completed || !rec.session || session !== rec.session) return toRefresh(rec);
    const outcome = typeof req.form.outcome === 'string' ? req.form.outcome : '';
    if (!OUTCOMES.includes(outcome as Outcome)) return { status: 400, html: layout('Onboarding', html`<h1>Unknown outcome</h1>`) };
    applyOutcome(core, rec.account, outcome as Outcome);
    links.save({ ...rec, completed: true });
    if (rec.return_url) return { redirect: rec.return_url };
    return {
      html: layout(
        'Onboarding finished',
        html`<h1>Onboarding finished: ${outcome}</h1>
          <p class="muted">No <code>return_url</code> was given.</p>`,
      ),
    };
  });

  core.control('POST', '/_emulator/accounts/:id/onboarding', ({ pathParams, body }) => {
    const outcome = String(body.outcome ?? 'verified');
    if (!OUTCOMES.includes(outcome as Outcome)) throw invalidRequest(`Invalid outcome: ${outcome}. Use one of ${OUTCOMES.join(', ')}`, { param: 'outcome' });
    const id = pathParams.id ?? '';
    if (id === core.platformAccount) throw invalidRequest('The platform account is already onboarded.');
    return applyOutcome(core, id, outcome as Outcome);
  });
}
