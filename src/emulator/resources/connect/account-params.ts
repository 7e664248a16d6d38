/**
 * Account params: what `POST /v1/accounts` and `POST /v1/accounts/:id` accept (specs), and how
 * they become the Account's fields: controller properties with Stripe's defaults and rules, the
 * payout schedule, the updatable details (with the lock after an Account Link).
 */
import type Stripe from 'stripe';
import type { EmulatorCore } from '../../core/core.ts';
import { p, str, int, bool, obj, mergeMetadata, type Params, type Spec } from '../../core/params.ts';
import { invalidRequest } from '../../core/errors.ts';
import { emptyBusinessProfile, makeBankAccount, MINIMUM_DELAY_DAYS, type AccountInternal } from './model.ts';

export const CAPABILITY_NAMES = [
  'card_payments',
  'transfers',
  'link_payments',
  'us_bank_account_ach_payments',
  'sepa_debit_payments',
  'bancontact_payments',
  'ideal_payments',
  'klarna_payments',
  'affirm_payments',
  'afterpay_clearpay_payments',
  'cashapp_payments',
  'tax_reporting_us_1099_k',
];
const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

const address = { line1: p.string, line2: p.string, city: p.string, state: p.string, postal_code: p.string, country: p.string };
const dob = { day: p.integer, month: p.integer, year: p.integer };
const person = {
  first_name: p.string,
  last_name: p.string,
  email: p.string,
  phone: p.string,
  dob,
  address,
  id_number: p.string,
  ssn_last_4: p.string,
  metadata: p.hash,
  verification: p.any,
};
const scheduleSpec = {
  interval: p.enum('daily', 'weekly', 'monthly', 'manual'),
  delay_days: p.union(p.enum('minimum'), p.int(0, 365)),
  weekly_anchor: p.enum(...WEEKDAYS),
  monthly_anchor: p.int(1, 31),
  weekly_payout_days: p.array(p.enum('monday', 'tuesday', 'wednesday', 'thursday', 'friday')),
  monthly_payout_days: p.array(p.int(1, 31)),
};
const settingsSpec = {
  payouts: { schedule: scheduleSpec, statement_descriptor: p.string, debit_negative_balances: p.boolean },
  payments: { statement_descriptor: p.string },
  card_payments: { statement_descriptor_prefix: p.string },
  branding: { primary_color: p.string, secondary_color: p.string, icon: p.string, logo: p.string },
  dashboard: { display_name: p.string, timezone: p.string },
};
const bankSpec: Spec = p.union(p.string, {
  object: p.enum('bank_account'),
  country: p.string,
  currency: p.string,
  account_number: p.string,
  routing_number: p.string,
  account_holder_name: p.string,
  account_holder_type: p.enum('individual', 'company'),
});
export const commonUpdatable: Record<string, Spec> = {
  email: p.string,
  business_type: p.enum('company', 'government_entity', 'individual', 'non_profit'),
  business_profile: p.object({
    name: p.string,
    url: p.string,
    mcc: p.string,
    product_description: p.string,
    support_email: p.string,
    support_phone: p.string,
    support_url: p.string,
  }),
  capabilities: p.object(Object.fromEntries(CAPABILITY_NAMES.map((n) => [n, { requested: p.boolean }]))),
  company: p.object({
    name: p.string,
    phone: p.string,
    tax_id: p.string,
    address,
    directors_provided: p.boolean,
    owners_provided: p.boolean,
    executives_provided: p.boolean,
  }),
  individual: p.object(person),
  default_currency: p.string,
  external_account: bankSpec,
  metadata: p.hash,
  settings: p.object(settingsSpec),
  tos_acceptance: p.object({ date: p.integer, ip: p.string, user_agent: p.string, service_agreement: p.enum('full', 'recipient') }),
};
export const createSpec: Record<string, Spec> = {
  ...commonUpdatable,
  type: p.enum('standard', 'express', 'custom'),
  country: p.string,
  controller: p.object({
    fees: { payer: p.enum('account', 'application') },
    losses: { payments: p.enum('application', 'stripe') },
    requirement_collection: p.enum('application', 'stripe'),
    stripe_dashboard: { type: p.enum('express', 'full', 'none') },
  }),
};

type ControllerInput = {
  payer: 'account' | 'application';
  losses: 'application' | 'stripe';
  collection: 'application' | 'stripe';
  dashboard: 'express' | 'full' | 'none';
};

/** Controller properties from `controller` (with Stripe's defaults and rules) or a legacy `type`. */
export function resolveController(params: Params): { controller: Stripe.Account.Controller; type: Stripe.Account.Type } {
  const legacy = str(params, 'type');
  const ctl = obj(params, 'controller');
  if (legacy && ctl) throw invalidRequest('You cannot specify both `type` and `controller`. Use `controller` properties only.', { param: 'controller' });
  if (legacy) {
    const map: Record<string, ControllerInput> = {
      express: { payer: 'application', losses: 'application', collection: 'stripe', dashboard: 'express' },
      custom: { payer: 'application', losses: 'application', collection: 'application', dashboard: 'none' },
      standard: { payer: 'account', losses: 'stripe', collection: 'stripe', dashboard: 'full' },
    };
    const c = map[legacy] ?? map.standard!;
    return {
      controller: {
        type: 'application',
        is_controller: true,
        fees: { payer: legacy === 'express' ? 'application_express' : c.payer },
        losses: { payments: c.losses },
        requirement_collection: c.collection,
        stripe_dashboard: { type: c.dashboard },
      },
      type: legacy,
    };
  }
  const c: ControllerInput = {
    payer: (str(params, 'controller.fees.payer') as ControllerInput['payer'] | undefined) ?? 'account',
    losses: (str(params, 'controller.losses.payments') as ControllerInput['losses'] | undefined) ?? 'stripe',
    collection: (str(params, 'controller.requirement_collection') as ControllerInput['collection'] | undefined) ?? 'stripe',
    dashboard: (str(params, 'controller.stripe_dashboard.type') as ControllerInput['dashboard'] | undefined) ?? 'full',
  };
  if (c.losses === 'application' && c.payer !== 'application') {
    throw invalidRequest('`controller[losses][payments]=application` requires `controller[fees][payer]=application`.', {
      param: 'controller[losses][payments]',
    });
  }
  if (c.dashboard === 'express' && c.losses !== 'application') {
    throw invalidRequest(
      'Accounts with access to the Express Dashboard require `controller[losses][payments]=application` (and `controller[fees][payer]=application`).',
      { param: 'controller[stripe_dashboard][type]' },
    );
  }
  if (c.collection === 'application' && c.dashboard !== 'none') {
    throw invalidRequest('`controller[requirement_collection]=application` is only available with `controller[stripe_dashboard][type]=none`.', {
      param: 'controller[requirement_collection]',
    });
  }
  if (c.dashboard === 'none' && !obj(params, 'capabilities')) {
    throw invalidRequest('`capabilities` is required when `controller[stripe_dashboard][type]` is `none`.', { param: 'capabilities' });
  }
  let type: Stripe.Account.Type = 'none';
  if (c.dashboard === 'express' && c.payer === 'application' && c.losses === 'application' && c.collection === 'stripe') type = 'express';
  else if (c.dashboard === 'none' && c.payer === 'application' && c.losses === 'application' && c.collection === 'application') type = 'custom';
  else if (c.dashboard === 'full' && c.payer === 'account' && c.losses === 'stripe' && c.collection === 'stripe') type = 'standard';
  return {
    controller: {
      type: 'application',
      is_controller: true,
      fees: { payer: c.payer },
      losses: { payments: c.losses },
      requirement_collection: c.collection,
      stripe_dashboard: { type: c.dashboard },
    },
    type,
  };
}

function scheduleFrom(
  params: Params,
  current: Stripe.Account.Settings.Payouts.Schedule | undefined,
  param = 'settings[payouts][schedule]',
): Stripe.Account.Settings.Payouts.Schedule {
  const s: Stripe.Account.Settings.Payouts.Schedule = current ? { ...current } : { delay_days: MINIMUM_DELAY_DAYS, interval: 'daily' };
  const sp = obj(params, 'settings.payouts.schedule');
  if (!sp) return s;
  const interval = str(sp, 'interval');
  if (interval) s.interval = interval;
  const dd = sp.delay_days;
  if (dd === 'minimum') s.delay_days = MINIMUM_DELAY_DAYS;
  else if (typeof dd === 'number') {
    if (dd < MINIMUM_DELAY_DAYS) throw invalidRequest(`The minimum delay_days for this account is ${MINIMUM_DELAY_DAYS}.`, { param: `${param}[delay_days]` });
    s.delay_days = dd;
  }
  const wa = str(sp, 'weekly_anchor');
  const ma = int(sp, 'monthly_anchor');
  const wpd = Array.isArray(sp.weekly_payout_days) ? sp.weekly_payout_days.map(String) : undefined;
  const mpd = Array.isArray(sp.monthly_payout_days) ? sp.monthly_payout_days.map(Number) : undefined;
  if (wa && wpd) throw invalidRequest('You cannot specify both `weekly_anchor` and `weekly_payout_days`.', { param: `${param}[weekly_payout_days]` });
  if (ma !== undefined && mpd)
    throw invalidRequest('You cannot specify both `monthly_anchor` and `monthly_payout_days`.', { param: `${param}[monthly_payout_days]` });
  if (s.interval === 'weekly') {
    if (wpd) {
      s.weekly_payout_days = wpd;
      delete s.weekly_anchor;
    } else if (wa || !s.weekly_payout_days?.length) {
      s.weekly_anchor = wa ?? s.weekly_anchor ?? 'monday';
      delete s.weekly_payout_days;
    }
  } else {
    if (wa) throw invalidRequest('`weekly_anchor` is only allowed when `interval` is `weekly`.', { param: `${param}[weekly_anchor]` });
    if (wpd) throw invalidRequest('`weekly_payout_days` is only allowed when `interval` is `weekly`.', { param: `${param}[weekly_payout_days]` });
    delete s.weekly_anchor;
    delete s.weekly_payout_days;
  }
  if (s.interval === 'monthly') {
    if (mpd) {
      s.monthly_payout_days = mpd;
      delete s.monthly_anchor;
    } else if (ma !== undefined || !s.monthly_payout_days?.length) {
      s.monthly_anchor = ma ?? s.monthly_anchor ?? 1;
      delete s.monthly_payout_days;
    }
  } else {
    if (ma !== undefined) throw invalidRequest('`monthly_anchor` is only allowed when `interval` is `monthly`.', { param: `${param}[monthly_anchor]` });
    if (mpd) throw invalidRequest('`monthly_payout_days` is only allowed when `interval` is `monthly`.', { param: `${param}[monthly_payout_days]` });
    delete s.monthly_anchor;
    delete s.monthly_payout_days;
  }
  return s;
}

export function applyCommon(core: EmulatorCore, acct: Stripe.Account, params: Params, internal: AccountInternal): void {
  const now = core.now();
  if (params.email !== undefined) acct.email = str(params, 'email') ?? null;
  if (params.business_type !== undefined) acct.business_type = str(params, 'business_type') ?? null;
  if (params.default_currency !== undefined) acct.default_currency = (str(params, 'default_currency') ?? 'usd').toLowerCase();
  acct.metadata = mergeMetadata(acct.metadata ?? {}, params);
  const bp = obj(params, 'business_profile');
  if (bp) {
    const cur = acct.business_profile ?? emptyBusinessProfile();
    acct.business_profile = {
      ...cur,
      ...(bp.name !== undefined ? { name: str(bp, 'name') ?? null } : {}),
      ...(bp.url !== undefined ? { url: str(bp, 'url') ?? null } : {}),
      ...(bp.mcc !== undefined ? { mcc: str(bp, 'mcc') ?? null } : {}),
      ...(bp.product_description !== undefined ? { product_description: str(bp, 'product_description') ?? null } : {}),
      ...(bp.support_email !== undefined ? { support_email: str(bp, 'support_email') ?? null } : {}),
      ...(bp.support_phone !== undefined ? { support_phone: str(bp, 'support_phone') ?? null } : {}),
      ...(bp.support_url !== undefined ? { support_url: str(bp, 'support_url') ?? null } : {}),
    };
  }
  const caps = obj(params, 'capabilities');
  if (caps) {
    const current = { ...((acct.capabilities ?? {}) as Record<string, string>) };
    const verified = internal.outcome === 'verified';
    for (const [name, v] of Object.entries(caps)) {
      const requested = v && typeof v === 'object' && !Array.isArray(v) ? bool(v, 'requested') : undefined;
      if (requested === true && !current[name]) {
        current[name] = verified ? 'active' : 'inactive';
        internal.requested[name] = now;
      } else if (requested === false && current[name]) {
        delete current[name];
        delete internal.requested[name];
      }
    }
    acct.capabilities = current;
  }
  const settingsParams = obj(params, 'settings');
  if (settingsParams) {
    const settings = acct.settings ?? defaultSettings();
    if (obj(params, 'settings.payouts')) {
      const cur = settings.payouts ?? {
        debit_negative_balances: true,
        schedule: { delay_days: MINIMUM_DELAY_DAYS, interval: 'daily' },
        statement_descriptor: null,
      };
      settings.payouts = {
        debit_negative_balances: bool(params, 'settings.payouts.debit_negative_balances') ?? cur.debit_negative_balances,
        schedule: scheduleFrom(params, cur.schedule),
        statement_descriptor:
          params.settings && str(params, 'settings.payouts.statement_descriptor') !== undefined
            ? (str(params, 'settings.payouts.statement_descriptor') ?? null)
            : cur.statement_descriptor,
      };
    }
    const sd = str(params, 'settings.payments.statement_descriptor');
    if (sd !== undefined) settings.payments = { ...settings.payments, statement_descriptor: sd };
    const dn = str(params, 'settings.dashboard.display_name');
    if (dn !== undefined) settings.dashboard = { ...settings.dashboard, display_name: dn };
    acct.settings = settings;
  }
  const tos = obj(params, 'tos_acceptance');
  if (tos)
    acct.tos_acceptance = {
      ...(acct.tos_acceptance ?? {}),
      date: int(tos, 'date') ?? acct.tos_acceptance?.date ?? null,
      ip: str(tos, 'ip') ?? acct.tos_acceptance?.ip ?? null,
      user_agent: str(tos, 'user_agent') ?? acct.tos_acceptance?.user_agent ?? null,
    };
  const ind = obj(params, 'individual');
  if (ind) {
    const cur: Partial<Stripe.Person> = acct.individual ?? {};
    acct.individual = {
      ...personShell(core, acct),
      ...cur,
      first_name: str(ind, 'first_name') ?? cur.first_name ?? null,
      last_name: str(ind, 'last_name') ?? cur.last_name ?? null,
      email: str(ind, 'email') ?? cur.email ?? null,
      phone: str(ind, 'phone') ?? cur.phone ?? null,
    };
  }
  const comp = obj(params, 'company');
  if (comp) {
    acct.company = {
      ...(acct.company ?? {}),
      name: str(comp, 'name') ?? acct.company?.name ?? null,
      phone: str(comp, 'phone') ?? acct.company?.phone ?? null,
      tax_id_provided: str(comp, 'tax_id') !== undefined ? true : (acct.company?.tax_id_provided ?? false),
    };
  }
  const ext = params.external_account;
  if (ext !== undefined && ext !== '') {
    const o = typeof ext === 'object' && ext !== null && !Array.isArray(ext) ? ext : undefined;
    const num = o ? str(o, 'account_number') : undefined;
    const ba = makeBankAccount(core, acct, {
      last4: num ? num.slice(-4) : '6789',
      routing: (o && str(o, 'routing_number')) ?? '110000000',
      holder: (o && str(o, 'account_holder_name')) ?? undefined,
      currency: ((o && str(o, 'currency')) ?? acct.default_currency ?? 'usd').toLowerCase(),
      country: (o && str(o, 'country')) ?? acct.country ?? 'US',
    });
    acct.external_accounts = { object: 'list', data: [ba], has_more: false, url: `/v1/accounts/${acct.id}/external_accounts` };
  }
}

function personShell(core: EmulatorCore, acct: Stripe.Account): Stripe.Person {
  return {
    id: core.newId('person'),
    object: 'person',
    account: acct.id,
    created: core.now(),
    first_name: null,
    last_name: null,
    email: null,
    phone: null,
    metadata: {},
  };
}

export function defaultSettings(): Stripe.Account.Settings {
  return {
    branding: { icon: null, logo: null, primary_color: null, secondary_color: null },
    card_payments: {
      decline_on: { avs_failure: false, cvc_failure: false },
      statement_descriptor_prefix: null,
      statement_descriptor_prefix_kana: null,
      statement_descriptor_prefix_kanji: null,
    },
    dashboard: { display_name: null, timezone: 'Etc/UTC' },
    payments: {
      statement_descriptor: null,
      statement_descriptor_kana: null,
      statement_descriptor_kanji: null,
      statement_descriptor_prefix_kana: null,
      statement_descriptor_prefix_kanji: null,
    },
    payouts: { debit_negative_balances: true, schedule: { delay_days: MINIMUM_DELAY_DAYS, interval: 'daily' }, statement_descriptor: null },
  };
}
