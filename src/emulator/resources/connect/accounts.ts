/** `/v1/accounts` (+ `/v1/account`, capabilities, external accounts) with controller properties. */
import type Stripe from 'stripe';
import type { EmulatorCore, ApiRequest } from '../../core/core.ts';
import { p, str, bool, obj } from '../../core/params.ts';
import { invalidRequest, resourceMissing, StripeError } from '../../core/errors.ts';
import {
  accountsOf,
  commitAccount,
  capabilityObject,
  deriveFlags,
  emptyBusinessProfile,
  emptyFutureRequirements,
  emptyRequirements,
  initialRequirements,
  makeBankAccount,
  type AccountInternal,
} from './model.ts';
import { applyCommon, CAPABILITY_NAMES, commonUpdatable, createSpec, defaultSettings, resolveController } from './account-params.ts';

/** The platform's own account (seeded). Its payouts are manual in the emulator. */
export function platformAccountObject(core: EmulatorCore): Stripe.Account {
  const settings = defaultSettings();
  settings.payouts = { debit_negative_balances: true, schedule: { delay_days: 2, interval: 'manual' }, statement_descriptor: null };
  settings.dashboard.display_name = 'Marketplace platform (emulator)';
  const acct: Stripe.Account = {
    id: core.platformAccount,
    object: 'account',
    business_profile: { ...emptyBusinessProfile(), name: 'Marketplace platform (emulator)', mcc: '5734', url: 'https://example.com' },
    business_type: 'company',
    capabilities: { card_payments: 'active', transfers: 'active' },
    charges_enabled: true,
    controller: { type: 'account' },
    country: 'US',
    created: core.now(),
    default_currency: 'usd',
    details_submitted: true,
    email: 'platform@example.com',
    external_accounts: { object: 'list', data: [], has_more: false, url: `/v1/accounts/${core.platformAccount}/external_accounts` },
    future_requirements: emptyFutureRequirements(),
    metadata: {},
    payouts_enabled: true,
    requirements: emptyRequirements(),
    settings,
    tos_acceptance: { date: core.now(), ip: '127.0.0.1', user_agent: 'Stripe emulator' },
    type: 'standard',
  };
  acct.external_accounts = { object: 'list', data: [makeBankAccount(core, acct, { last4: '6789' })], has_more: false, url: acct.external_accounts?.url ?? '' };
  return acct;
}

/** A connected account is visible to the platform and to itself (via Stripe-Account). */
function visibleAccount(core: EmulatorCore, req: ApiRequest, id: string, param = 'account'): Stripe.Account {
  const accounts = accountsOf(core);
  const a = accounts.get(id);
  if (!a || (!req.isPlatform && id !== req.account)) {
    throw new StripeError({
      status: 403,
      type: 'invalid_request_error',
      code: 'account_invalid',
      param,
      message: `The provided key does not have access to account '${id}' (or that account does not exist). Application access may have been revoked.`,
    });
  }
  return a;
}

export function registerAccounts(core: EmulatorCore): void {
  const accounts = accountsOf(core);

  core.seed(() => {
    if (!accounts.get(core.platformAccount)) accounts.insert(core.platformAccount, platformAccountObject(core));
  });
  core.addAccountResolver((id) => accounts.get(id) !== undefined);

  core.route('POST', '/v1/accounts', { params: createSpec }, (req) => {
    if (!req.isPlatform) throw invalidRequest('Connected accounts cannot create other connected accounts.', { status: 400 });
    const { controller, type } = resolveController(req.params);
    const country = (str(req.params, 'country') ?? 'US').toUpperCase();
    if (!/^[A-Z]{2}$/.test(country)) throw invalidRequest(`Invalid country: ${country}`, { param: 'country' });
    const id = core.newId('acct');
    const settings = defaultSettings();
    const acct: Stripe.Account = {
      id,
      object: 'account',
      business_profile: emptyBusinessProfile(),
      business_type: null,
      capabilities: {},
      charges_enabled: false,
      controller,
      country,
      created: core.now(),
      default_currency:
        country === 'US'
          ? 'usd'
          : country === 'GB'
            ? 'gbp'
            : country === 'JP'
              ? 'jpy'
              : ['CA'].includes(country)
                ? 'cad'
                : ['AU'].includes(country)
                  ? 'aud'
                  : 'eur',
      details_submitted: false,
      email: null,
      external_accounts: { object: 'list', data: [], has_more: false, url: `/v1/accounts/${id}/external_accounts` },
      future_requirements: emptyFutureRequirements(),
      metadata: {},
      payouts_enabled: false,
      requirements: emptyRequirements(),
      settings,
      tos_acceptance: { date: null, ip: null, user_agent: null },
      type,
    };
    const internal: AccountInternal = { requested: {} };
    applyCommon(core, acct, req.params, internal);
    if (controller.stripe_dashboard?.type === 'express' && !obj(req.params, 'capabilities')) {
      // Express-style accounts get transfers requested by default.
      acct.capabilities = { transfers: 'inactive' };
      internal.requested.transfers = core.now();
    }
    const due = initialRequirements(acct);
    acct.requirements = { ...emptyRequirements(), currently_due: due, eventually_due: due, past_due: due, disabled_reason: 'requirements.past_due' };
    deriveFlags(acct);
    const saved = accounts.insert(core.platformAccount, acct, { internal: { ...internal } });
    // account.updated is not sent for creation; Stripe has no account.created event.
    return saved;
  });

  core.route('GET', '/v1/accounts', { list: true }, (req) => {
    if (!req.isPlatform) return core.paginate(req, [], '/v1/accounts');
    return core.paginate(
      req,
      accounts.list(core.platformAccount, (a) => a.id !== core.platformAccount),
      '/v1/accounts',
    );
  });

  core.route('GET', '/v1/account', {}, (req) => accounts.require(req.account, undefined, 'account'));

  core.route('GET', '/v1/accounts/:id', {}, (req) => visibleAccount(core, req, req.pathParams.id ?? ''));

  core.route('POST', '/v1/accounts/:id', { params: commonUpdatable }, (req) => {
    const id = req.pathParams.id ?? '';
    const before = visibleAccount(core, req, id);
    if (id === core.platformAccount) throw invalidRequest('The platform account cannot be updated through the emulator API.');
    const internal = accounts.internal(id) as AccountInternal;
    const collectedByStripe = before.controller?.requirement_collection !== 'application';
    if (collectedByStripe && internal.onboardingStarted) {
      for (const k of ['business_type', 'individual', 'company', 'tos_acceptance'] as const) {
        if (req.params[k] !== undefined) {
          throw invalidRequest(
            `This account's requirements are collected by Stripe and onboarding has started, so \`${k}\` can no longer be updated by the platform. Send the account through an Account Link instead.`,
            { param: k },
          );
        }
      }
    }
    const acct: Stripe.Account = JSON.parse(JSON.stringify(before)) as Stripe.Account;
    const requestedBefore = { ...internal.requested };
    applyCommon(core, acct, req.params, internal);
    if (JSON.stringify(requestedBefore) !== JSON.stringify(internal.requested)) accounts.setInternal(id, { requested: internal.requested });
    if (req.params.business_type !== undefined && !before.details_submitted) {
      const due = initialRequirements(acct);
      acct.requirements = { ...(acct.requirements ?? emptyRequirements()), currently_due: due, eventually_due: due, past_due: due };
    }
    return commitAccount(core, before, acct);
  });

  core.route('DELETE', '/v1/accounts/:id', {}, (req) => {
    const id = req.pathParams.id ?? '';
    if (!req.isPlatform || id === core.platformAccount) throw invalidRequest('You can only delete connected accounts from the platform.');
    accounts.require(id, undefined, 'account');
    accounts.delete(id);
    const deleted: Stripe.DeletedAccount = { id, object: 'account', deleted: true };
    return deleted;
  });

  core.route('POST', '/v1/accounts/:id/reject', { params: { reason: p.enum('fraud', 'terms_of_service', 'other') }, required: ['reason'] }, (req) => {
    const id = req.pathParams.id ?? '';
    const before = visibleAccount(core, req, id);
    const acct: Stripe.Account = JSON.parse(JSON.stringify(before)) as Stripe.Account;
    const reason = str(req.params, 'reason') ?? 'other';
    acct.requirements = { ...emptyRequirements(), disabled_reason: `rejected.${reason}` as Stripe.Account.Requirements.DisabledReason };
    const caps = { ...((acct.capabilities ?? {}) as Record<string, string>) };
    for (const k of Object.keys(caps)) caps[k] = 'inactive';
    acct.capabilities = caps;
    return commitAccount(core, before, acct);
  });

  // Capabilities inside an account
  core.route('GET', '/v1/accounts/:id/capabilities', {}, (req) => {
    const acct = visibleAccount(core, req, req.pathParams.id ?? '');
    const internal = accounts.internal(acct.id) as AccountInternal;
    const data = Object.keys(acct.capabilities ?? {})
      .sort()
      .map((n) => capabilityObject(core, acct, n, internal.requested?.[n] ?? null));
    const list: Stripe.ApiList<Stripe.Capability> = { object: 'list', data, has_more: false, url: `/v1/accounts/${acct.id}/capabilities` };
    return list;
  });
  core.route('GET', '/v1/accounts/:id/capabilities/:cap', {}, (req) => {
    const acct = visibleAccount(core, req, req.pathParams.id ?? '');
    const name = req.pathParams.cap ?? '';
    if (!CAPABILITY_NAMES.includes(name)) throw resourceMissing('capability', name, 'capability');
    const internal = accounts.internal(acct.id) as AccountInternal;
    return capabilityObject(core, acct, name, internal.requested?.[name] ?? null);
  });
  core.route('POST', '/v1/accounts/:id/capabilities/:cap', { params: { requested: p.boolean } }, (req) => {
    const id = req.pathParams.id ?? '';
    const name = req.pathParams.cap ?? '';
    if (!CAPABILITY_NAMES.includes(name)) throw resourceMissing('capability', name, 'capability');
    const before = visibleAccount(core, req, id);
    const internal = accounts.internal(id) as AccountInternal;
    const acct: Stripe.Account = JSON.parse(JSON.stringify(before)) as Stripe.Account;
    const requested = bool(req.params, 'requested');
    if (requested !== undefined) {
      applyCommon(core, acct, { capabilities: { [name]: { requested } } }, internal);
      accounts.setInternal(id, { requested: internal.requested });
    }
    const saved = commitAccount(core, before, acct);
    return capabilityObject(core, saved, name, internal.requested?.[name] ?? null);
  });

  // External accounts (read side)
  core.route('GET', '/v1/accounts/:id/external_accounts', { list: true, params: { object: p.enum('bank_account', 'card') } }, (req) => {
    const acct = visibleAccount(core, req, req.pathParams.id ?? '');
    const data = (acct.external_accounts?.data ?? []).map((x) => ({ ...x, created: 0 }));
    const page = core.paginate(req, data, `/v1/accounts/${acct.id}/external_accounts`);
    const list: Stripe.ApiList<Stripe.ExternalAccount> = {
      ...page,
      data: acct.external_accounts?.data.filter((x) => page.data.some((d) => d.id === x.id)) ?? [],
    };
    return list;
  });
}
