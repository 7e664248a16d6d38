/** Connect accounts: controller properties, requirements, Account Links + hosted onboarding, login links. */
import { describe, expect, test } from 'vitest';
import Stripe from 'stripe';
import { createExpressAccount, useTestEmulator } from './helpers.ts';

const t = useTestEmulator();

const express: Stripe.AccountCreateParams.Controller = {
  stripe_dashboard: { type: 'express' },
  fees: { payer: 'application' },
  losses: { payments: 'application' },
  requirement_collection: 'stripe',
};

async function get(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { redirect: 'manual', ...init });
}

describe('accounts', () => {
  test('create with controller properties: shape, initial requirements, everything disabled', async () => {
    const acct = await t.stripe.accounts.create({
      country: 'US',
      email: 'maker@example.com',
      business_type: 'individual',
      controller: express,
      capabilities: { card_payments: { requested: true }, transfers: { requested: true } },
      metadata: { seller: 's_1' },
    });
    expect(acct.id).toMatch(/^acct_/);
    expect(acct.object).toBe('account');
    expect(acct.type).toBe('express');
    expect(acct.controller).toMatchObject({
      type: 'application',
      is_controller: true,
      fees: { payer: 'application' },
      losses: { payments: 'application' },
      requirement_collection: 'stripe',
      stripe_dashboard: { type: 'express' },
    });
    expect(acct.charges_enabled).toBe(false);
    expect(acct.payouts_enabled).toBe(false);
    expect(acct.details_submitted).toBe(false);
    expect(acct.capabilities).toEqual({ card_payments: 'inactive', transfers: 'inactive' });
    expect(acct.requirements?.currently_due).toEqual(
      expect.arrayContaining(['individual.first_name', 'individual.last_name', 'external_account', 'tos_acceptance.date', 'individual.dob.day']),
    );
    expect(acct.requirements?.disabled_reason).toBe('requirements.past_due');
    expect(acct.requirements?.past_due).toEqual(acct.requirements?.currently_due);
    expect(acct.settings?.payouts?.schedule).toEqual({ delay_days: 2, interval: 'daily' });
    expect(acct.metadata).toEqual({ seller: 's_1' });
    expect(acct.email).toBe('maker@example.com');
  });

  test('controller defaults (full dashboard, account pays fees, Stripe owns losses and requirements)', async () => {
    const acct = await t.stripe.accounts.create({ controller: {} });
    expect(acct.controller).toMatchObject({
      fees: { payer: 'account' },
      losses: { payments: 'stripe' },
      requirement_collection: 'stripe',
      stripe_dashboard: { type: 'full' },
    });
    expect(acct.type).toBe('standard');
    expect(acct.country).toBe('US');
  });

  test('controller rules are enforced', async () => {
    const losses = await t.stripe.accounts.create({ controller: { losses: { payments: 'application' } } }).catch((e: unknown) => e);
    expect((losses as Stripe.errors.StripeError).param).toBe('controller[losses][payments]');
    const noneWithoutCaps = await t.stripe.accounts
      .create({
        controller: {
          stripe_dashboard: { type: 'none' },
          fees: { payer: 'application' },
          losses: { payments: 'application' },
          requirement_collection: 'application',
        },
      })
      .catch((e: unknown) => e);
    expect((noneWithoutCaps as Stripe.errors.StripeError).param).toBe('capabilities');
    const both = await t.stripe.accounts.create({ type: 'express', controller: express }).catch((e: unknown) => e);
    expect(both).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    const badEnum = await t.stripe.accounts.create({ controller: { fees: { payer: 'nobody' as 'account' } } }).catch((e: unknown) => e);
    expect((badEnum as Stripe.errors.StripeError).param).toBe('controller[fees][payer]');
  });

  test("legacy type: 'express' maps to Express controller properties and requests transfers", async () => {
    const acct = await t.stripe.accounts.create({ type: 'express', country: 'US' });
    expect(acct.type).toBe('express');
    expect(acct.controller?.stripe_dashboard?.type).toBe('express');
    expect(acct.controller?.fees?.payer).toBe('application_express');
    expect(acct.capabilities).toEqual({ transfers: 'inactive' });
  });

  test('retrieve, update (schedule + metadata, with account.updated previous_attributes) and list', async () => {
    const acct = await createExpressAccount(t, { email: 'upd@example.com' });
    const got = await t.stripe.accounts.retrieve(acct.id);
    expect(got.id).toBe(acct.id);
    const updated = await t.stripe.accounts.update(acct.id, {
      metadata: { tier: 'gold' },
      settings: { payouts: { schedule: { interval: 'monthly', monthly_anchor: 15, delay_days: 7 } } },
    });
    expect(updated.settings?.payouts?.schedule).toEqual({ interval: 'monthly', monthly_anchor: 15, delay_days: 7 });
    expect(updated.metadata).toEqual({ tier: 'gold' });
    const cleared = await t.stripe.accounts.update(acct.id, { metadata: { tier: '' }, settings: { payouts: { schedule: { interval: 'manual' } } } });
    expect(cleared.metadata).toEqual({});
    expect(cleared.settings?.payouts?.schedule.interval).toBe('manual');
    const bad = await t.stripe.accounts
      .update(acct.id, { settings: { payouts: { schedule: { interval: 'daily', weekly_anchor: 'monday' } } } })
      .catch((e: unknown) => e);
    expect((bad as Stripe.errors.StripeError).param).toBe('settings[payouts][schedule][weekly_anchor]');
    const events = await t.stripeFor(acct.id).events.list({ type: 'account.updated' });
    const first = events.data.at(-1)!;
    expect(first.account).toBe(acct.id);
    expect((first.data.previous_attributes as Record<string, unknown>).metadata).toEqual({});
    expect((first.data.object as Stripe.Account).metadata).toEqual({ tier: 'gold' });
    const list = await t.stripe.accounts.list({ limit: 100 });
    expect(list.data.map((a) => a.id)).toContain(acct.id);
    expect(list.data.map((a) => a.id)).not.toContain(t.emu.platformAccount);
    const me = await t.stripe.accounts.retrieveCurrent();
    expect(me.id).toBe(t.emu.platformAccount);
    const self = await t.stripeFor(acct.id).accounts.retrieveCurrent();
    expect(self.id).toBe(acct.id);
  });

  test('capabilities can be listed and requested later', async () => {
    const acct = await t.stripe.accounts.create({ type: 'express' });
    const cap = await t.stripe.accounts.updateCapability(acct.id, 'card_payments', { requested: true });
    expect(cap).toMatchObject({ id: 'card_payments', object: 'capability', account: acct.id, requested: true, status: 'inactive' });
    const caps = await t.stripe.accounts.listCapabilities(acct.id);
    expect(caps.data.map((c) => c.id)).toEqual(['card_payments', 'transfers']);
  });
});

describe('account links and hosted onboarding', () => {
  const refresh_url = 'https://market.example/onboarding/refresh';
  const return_url = 'https://market.example/onboarding/return';

  test('create: object, expires_at = created + 300, URL on the emulator', async () => {
    const acct = await createExpressAccount(t);
    const link = await t.stripe.accountLinks.create({
      account: acct.id,
      type: 'account_onboarding',
      refresh_url,
      return_url,
      collection_options: { fields: 'currently_due' },
    });
    expect(link.object).toBe('account_link');
    expect(link.expires_at - link.created).toBe(300);
    expect(link.url.startsWith(`${t.url}/hosted/onboarding/`)).toBe(true);
    const bad = await t.stripe.accountLinks.create({ account: acct.id, type: 'account_update', refresh_url, return_url }).catch((e: unknown) => e);
    expect((bad as Stripe.errors.StripeError).param).toBe('type');
    const missing = await t.stripe.accountLinks.create({ account: 'acct_nope', type: 'account_onboarding' }).catch((e: unknown) => e);
    expect((missing as Stripe.errors.StripeError).param).toBe('account');
  });

  test('the link is single-use: a second visit redirects to refresh_url', async () => {
    const acct = await createExpressAccount(t);
    const link = await t.stripe.accountLinks.create({ account: acct.id, type: 'account_onboarding', refresh_url, return_url });
    const first = await get(link.url);
    expect(first.status).toBe(200);
    const page = await first.text();
    expect(page).toContain('Stripe emulator');
    expect(page).toContain(acct.id);
    const second = await get(link.url);
    expect(second.status).toBe(303);
    expect(second.headers.get('location')).toBe(refresh_url);
  });

  test('an expired link (emulator clock) redirects to refresh_url', async () => {
    const acct = await createExpressAccount(t);
    const link = await t.stripe.accountLinks.create({ account: acct.id, type: 'account_onboarding', refresh_url, return_url });
    await t.advance(301);
    const res = await get(link.url);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(refresh_url);
  });

  test('choosing "verified" on the page updates the account, redirects to return_url, and emits events', async () => {
    const acct = await createExpressAccount(t);
    const link = await t.stripe.accountLinks.create({ account: acct.id, type: 'account_onboarding', refresh_url, return_url });
    const page = await (await get(link.url)).text();
    const session = /name="session" value="([^"]+)"/.exec(page)?.[1] ?? '';
    expect(session).not.toBe('');
    const done = await get(link.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `session=${session}&outcome=verified`,
    });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe(return_url);
    const after = await t.stripe.accounts.retrieve(acct.id);
    expect(after.details_submitted).toBe(true);
    expect(after.charges_enabled).toBe(true);
    expect(after.payouts_enabled).toBe(true);
    expect(after.capabilities).toEqual({ card_payments: 'active', transfers: 'active' });
    expect(after.requirements).toMatchObject({
      currently_due: [],
      past_due: [],
      eventually_due: [],
      pending_verification: [],
      disabled_reason: null,
      current_deadline: null,
    });
    expect(after.external_accounts?.data[0]?.object).toBe('bank_account');
    // the same session can't be used twice
    const again = await get(link.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `session=${session}&outcome=rejected`,
    });
    expect(again.headers.get('location')).toBe(refresh_url);
    expect((await t.stripe.accounts.retrieve(acct.id)).requirements?.disabled_reason).toBeNull();

    await t.flush();
    const connectEvents = t.receiver.events(t.stripe, 'connect').filter((e) => e.account === acct.id);
    const updated = connectEvents.find((e) => e.type === 'account.updated');
    expect(updated).toBeDefined();
    expect((updated!.data.previous_attributes as Record<string, unknown>).charges_enabled).toBe(false);
    expect((updated!.data.previous_attributes as Record<string, unknown>).details_submitted).toBe(false);
    const capEvents = connectEvents.filter((e): e is Stripe.CapabilityUpdatedEvent => e.type === 'capability.updated');
    expect(capEvents.map((e) => [e.data.object.id, e.data.object.status]).sort()).toEqual([
      ['card_payments', 'active'],
      ['transfers', 'active'],
    ]);
    expect(capEvents[0]!.data.previous_attributes).toEqual({ status: 'inactive' });
  });

  test.each([
    ['pending_verification', { details_submitted: true, charges_enabled: false, payouts_enabled: false }, 'requirements.pending_verification', 'pending'],
    ['rejected', { details_submitted: true, charges_enabled: false, payouts_enabled: false }, 'rejected.other', 'inactive'],
    ['incomplete', { details_submitted: false, charges_enabled: false, payouts_enabled: false }, 'requirements.past_due', 'inactive'],
    ['requirements_due', { details_submitted: true, charges_enabled: true, payouts_enabled: true }, null, 'active'],
  ] as const)('outcome %s → account fields', async (outcome, flags, disabledReason, capStatus) => {
    const acct = await createExpressAccount(t);
    const after = await t.control<Stripe.Account>(`/_emulator/accounts/${acct.id}/onboarding`, { outcome });
    expect(after).toMatchObject(flags);
    expect(after.requirements?.disabled_reason).toBe(disabledReason);
    expect(after.capabilities).toEqual({ card_payments: capStatus, transfers: capStatus });
    const fetched = await t.stripe.accounts.retrieve(acct.id);
    expect(fetched).toMatchObject(flags);
    if (outcome === 'pending_verification') expect(fetched.requirements?.pending_verification).toContain('individual.verification.document');
    if (outcome === 'incomplete') expect(fetched.requirements?.past_due).toContain('individual.first_name');
    if (outcome === 'requirements_due') {
      expect(fetched.requirements?.currently_due).toEqual(['individual.verification.document']);
      expect(fetched.requirements?.current_deadline).toBeGreaterThan(t.emu.core.now());
    }
  });

  test('requirements_due: when the deadline passes, items go past_due and the account is disabled', async () => {
    const acct = await createExpressAccount(t, { outcome: 'requirements_due' });
    expect(acct.charges_enabled).toBe(true);
    await t.advance(8 * 86_400);
    const after = await t.stripe.accounts.retrieve(acct.id);
    expect(after.requirements?.past_due).toEqual(['individual.verification.document']);
    expect(after.requirements?.disabled_reason).toBe('requirements.past_due');
    expect(after.charges_enabled).toBe(false);
    expect(after.payouts_enabled).toBe(false);
    expect(after.capabilities).toEqual({ card_payments: 'inactive', transfers: 'inactive' });
  });

  test('after an Account Link exists, Stripe-collected identity fields can no longer be updated', async () => {
    const acct = await createExpressAccount(t);
    await t.stripe.accounts.update(acct.id, { individual: { first_name: 'Ada' } });
    await t.stripe.accountLinks.create({ account: acct.id, type: 'account_onboarding', refresh_url, return_url });
    const e = await t.stripe.accounts.update(acct.id, { individual: { first_name: 'Bob' } }).catch((x: unknown) => x);
    expect((e as Stripe.errors.StripeError).param).toBe('individual');
  });
});

describe('login links', () => {
  test('only for Express-dashboard accounts that finished onboarding; the page shows balance and payouts', async () => {
    const full = await t.stripe.accounts.create({ controller: { stripe_dashboard: { type: 'full' } } });
    const e = await t.stripe.accounts.createLoginLink(full.id).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    const fresh = await createExpressAccount(t);
    await expect(t.stripe.accounts.createLoginLink(fresh.id)).rejects.toMatchObject({ statusCode: 400 });

    const acct = await createExpressAccount(t, { outcome: 'verified', interval: 'manual' });
    t.emu.core.postLedger({ account: acct.id, amount: 12_345, currency: 'usd', type: 'adjustment', immediate: true });
    const po = await t.stripeFor(acct.id).payouts.create({ amount: 2_345, currency: 'usd' });
    const link = await t.stripe.accounts.createLoginLink(acct.id);
    expect(link.object).toBe('login_link');
    expect(typeof link.created).toBe('number');
    const html = await (await get(link.url)).text();
    expect(html).toContain('Stripe emulator');
    expect(html).toContain('100.00 USD'); // available after the payout
    expect(html).toContain(po.id);
  });
});
