/**
 * Connected-account model: creation defaults, requirements, capabilities, onboarding outcomes,
 * and the `account.updated` / `capability.updated` events that go with every change.
 */
import type Stripe from 'stripe';
import type { EmulatorCore } from '../../core/core.ts';
import { DAY } from '../../core/clock.ts';

export type Outcome = 'verified' | 'pending_verification' | 'requirements_due' | 'rejected' | 'incomplete';
export const OUTCOMES: readonly Outcome[] = ['verified', 'pending_verification', 'requirements_due', 'rejected', 'incomplete'];

/** Days between a `requirements_due` outcome and the `current_deadline`. */
export const REQUIREMENTS_DEADLINE_DAYS = 7;
/** `delay_days: 'minimum'` resolves to this (the US minimum). */
export const MINIMUM_DELAY_DAYS = 2;

export interface AccountInternal {
  /** Capabilities requested, with when. */
  requested: Record<string, number>;
  /** An Account Link was created (restricts updates when Stripe collects requirements). */
  onboardingStarted?: boolean;
  outcome?: Outcome;
  [k: string]: unknown;
}

export function accountsOf(core: EmulatorCore) {
  return core.collection<Stripe.Account>('account');
}

export function capabilitiesOf(core: EmulatorCore) {
  return core.collection<Stripe.Capability>('capability');
}

/** Requirement field names Stripe asks for before an account can take payments and payouts. */
export function initialRequirements(acct: Stripe.Account): string[] {
  const bt = acct.business_type ?? null;
  const common = ['business_profile.mcc', 'business_profile.url', 'external_account', 'tos_acceptance.date', 'tos_acceptance.ip'];
  if (bt === null) return ['business_type', ...common].sort();
  if (bt === 'individual') {
    return [
      ...common,
      'individual.address.city',
      'individual.address.line1',
      'individual.address.postal_code',
      'individual.address.state',
      'individual.dob.day',
      'individual.dob.month',
      'individual.dob.year',
      'individual.email',
      'individual.first_name',
      'individual.last_name',
      'individual.phone',
      'individual.ssn_last_4',
    ].sort();
  }
  return [
    ...common,
    'company.address.city',
    'company.address.line1',
    'company.address.postal_code',
    'company.address.state',
    'company.name',
    'company.phone',
    'company.tax_id',
    'representative.address.city',
    'representative.address.line1',
    'representative.address.postal_code',
    'representative.dob.day',
    'representative.dob.month',
    'representative.dob.year',
    'representative.email',
    'representative.first_name',
    'representative.last_name',
    'representative.phone',
    'representative.relationship.title',
    'representative.ssn_last_4',
    'owners.first_name',
    'owners.last_name',
  ].sort();
}

function identityDocumentField(acct: Stripe.Account): string {
  return acct.business_type === 'company' ? 'representative.verification.document' : 'individual.verification.document';
}

function idNumberField(acct: Stripe.Account): string {
  return acct.business_type === 'company' ? 'representative.id_number' : 'individual.id_number';
}

/** Nothing due, nothing pending: the shape of an account's, its future and a capability's requirements. */
function noRequirements() {
  return {
    alternatives: [],
    current_deadline: null,
    currently_due: [],
    disabled_reason: null,
    errors: [],
    eventually_due: [],
    past_due: [],
    pending_verification: [],
  };
}

export function emptyRequirements(): Stripe.Account.Requirements {
  return noRequirements();
}

export function emptyFutureRequirements(): Stripe.Account.FutureRequirements {
  return noRequirements();
}

/** Recompute charges_enabled / payouts_enabled from capabilities and requirements. */
export function deriveFlags(acct: Stripe.Account): void {
  const caps = (acct.capabilities ?? {}) as Record<string, string | undefined>;
  const disabled = acct.requirements?.disabled_reason ?? null;
  const paymentsCap = caps.card_payments;
  acct.charges_enabled = paymentsCap === 'active' && disabled === null;
  const hasBank = (acct.external_accounts?.data.length ?? 0) > 0;
  const anyActive = Object.values(caps).some((s) => s === 'active');
  acct.payouts_enabled = hasBank && anyActive && disabled === null && (acct.requirements?.past_due?.length ?? 0) === 0;
}

/** Snapshot of the fields an onboarding change can touch, for previous_attributes. */
function watched(acct: Stripe.Account): Record<string, unknown> {
  return {
    capabilities: acct.capabilities,
    charges_enabled: acct.charges_enabled,
    payouts_enabled: acct.payouts_enabled,
    details_submitted: acct.details_submitted,
    requirements: acct.requirements,
    future_requirements: acct.future_requirements,
    external_accounts: acct.external_accounts,
    individual: acct.individual,
    company: acct.company,
    business_profile: acct.business_profile,
    tos_acceptance: acct.tos_acceptance,
    business_type: acct.business_type,
    email: acct.email,
    metadata: acct.metadata,
    settings: acct.settings,
    default_currency: acct.default_currency,
  };
}

/** Top-level keys whose value changed, with their previous values (Stripe's previous_attributes). */
export function diffPrevious(before: Record<string, unknown>, after: Record<string, unknown>): Record<string, unknown> {
  const prev: Record<string, unknown> = {};
  for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (JSON.stringify(before[k]) !== JSON.stringify(after[k])) prev[k] = before[k] === undefined ? null : before[k];
  }
  return prev;
}

export function capabilityObject(core: EmulatorCore, acct: Stripe.Account, name: string, requestedAt: number | null): Stripe.Capability {
  const status = ((acct.capabilities ?? {}) as Record<string, Stripe.Capability.Status | undefined>)[name] ?? 'unrequested';
  const req = acct.requirements ?? emptyRequirements();
  const requirements: Stripe.Capability.Requirements = {
    alternatives: [],
    current_deadline: req.current_deadline,
    currently_due: status === 'active' ? (req.currently_due ?? []) : (req.currently_due ?? []),
    disabled_reason: status === 'inactive' || status === 'pending' ? req.disabled_reason : null,
    errors: req.errors ?? [],
    eventually_due: req.eventually_due ?? [],
    past_due: req.past_due ?? [],
    pending_verification: req.pending_verification ?? [],
  };
  return {
    id: name,
    object: 'capability',
    account: acct.id,
    future_requirements: noRequirements(),
    requested: status !== 'unrequested',
    requested_at: requestedAt,
    requirements,
    status,
  };
}

/**
 * Save `next` (derived flags recomputed) and emit `account.updated` with previous_attributes plus
 * one `capability.updated` per capability whose status changed. Events belong to the connected
 * account (Connect endpoint).
 */
export function commitAccount(core: EmulatorCore, before: Stripe.Account, next: Stripe.Account, opts: { emit?: boolean } = {}): Stripe.Account {
  deriveFlags(next);
  const saved = accountsOf(core).save(next);
  if (opts.emit === false) return saved;
  const prev = diffPrevious(watched(before), watched(saved));
  if (Object.keys(prev).length === 0) return saved;
  const internal = accountsOf(core).internal(saved.id) as AccountInternal;
  const beforeCaps = (before.capabilities ?? {}) as Record<string, string | undefined>;
  const afterCaps = (saved.capabilities ?? {}) as Record<string, string | undefined>;
  for (const name of Object.keys(afterCaps)) {
    if (beforeCaps[name] !== afterCaps[name]) {
      const cap = capabilityObject(core, saved, name, internal.requested?.[name] ?? null);
      core.emitEvent({ type: 'capability.updated', object: cap, previousAttributes: { status: beforeCaps[name] ?? 'unrequested' }, account: saved.id });
    }
  }
  core.emitEvent({ type: 'account.updated', object: saved, previousAttributes: prev, account: saved.id });
  return saved;
}

let bankCounter = 0;

export function makeBankAccount(
  core: EmulatorCore,
  acct: Stripe.Account,
  input: { last4?: string; routing?: string; holder?: string; currency?: string; country?: string } = {},
): Stripe.BankAccount {
  bankCounter++;
  return {
    id: core.newId('ba'),
    object: 'bank_account',
    account: acct.id,
    account_holder_name: input.holder ?? null,
    account_holder_type: acct.business_type === 'company' ? 'company' : 'individual',
    account_type: null,
    available_payout_methods: ['standard', 'instant'],
    bank_name: 'STRIPE TEST BANK',
    country: input.country ?? acct.country ?? 'US',
    currency: input.currency ?? acct.default_currency ?? 'usd',
    default_for_currency: true,
    fingerprint: `emuFp${String(bankCounter).padStart(11, '0')}`,
    last4: input.last4 ?? '6789',
    metadata: {},
    routing_number: input.routing ?? '110000000',
    status: 'new',
  };
}

/** Attach a bank account if the account has none; emits `account.external_account.created`. */
export function ensureBankAccount(core: EmulatorCore, acct: Stripe.Account): Stripe.BankAccount {
  const existing = acct.external_accounts?.data[0];
  if (existing && existing.object === 'bank_account') return existing;
  const ba = makeBankAccount(core, acct);
  acct.external_accounts = { object: 'list', data: [ba], has_more: false, url: `/v1/accounts/${acct.id}/external_accounts` };
  core.emitEvent({ type: 'account.external_account.created', object: ba, account: acct.id });
  return ba;
}

function filledIdentity(acct: Stripe.Account, now: number): void {
  acct.business_profile = {
    ...(acct.business_profile ?? emptyBusinessProfile()),
    mcc: acct.business_profile?.mcc ?? '5734',
    url: acct.business_profile?.url ?? 'https://seller.example.com',
  };
  acct.tos_acceptance = {
    date: acct.tos_acceptance?.date ?? now,
    ip: acct.tos_acceptance?.ip ?? '127.0.0.1',
    user_agent: acct.tos_acceptance?.user_agent ?? 'Stripe emulator',
    service_agreement: 'full',
  };
  if (!acct.business_type) acct.business_type = 'individual';
}

export function emptyBusinessProfile(): Stripe.Account.BusinessProfile {
  return {
    mcc: null,
    minority_owned_business_designation: null,
    name: null,
    product_description: null,
    support_address: null,
    support_email: null,
    support_phone: null,
    support_url: null,
    specified_commercial_transactions_act_url: null,
    url: null,
  };
}

function setCaps(acct: Stripe.Account, status: 'active' | 'inactive' | 'pending'): void {
  const caps = { ...((acct.capabilities ?? {}) as Record<string, string>) };
  for (const k of Object.keys(caps)) caps[k] = status;
  acct.capabilities = caps;
}

/** Apply an onboarding outcome (hosted page or control API). Returns the saved account. */
export function applyOutcome(core: EmulatorCore, id: string, outcome: Outcome): Stripe.Account {
  const accounts = accountsOf(core);
  const before = accounts.require(id, undefined, 'account');
  const acct: Stripe.Account = JSON.parse(JSON.stringify(before)) as Stripe.Account;
  const now = core.now();
  const req = emptyRequirements();
  const due = initialRequirements(acct);
  switch (outcome) {
    case 'verified':
      filledIdentity(acct, now);
      ensureBankAccount(core, acct);
      acct.details_submitted = true;
      setCaps(acct, 'active');
      break;
    case 'pending_verification':
      filledIdentity(acct, now);
      ensureBankAccount(core, acct);
      acct.details_submitted = true;
      req.pending_verification = [idNumberField(acct), identityDocumentField(acct)];
      req.disabled_reason = 'requirements.pending_verification';
      setCaps(acct, 'pending');
      break;
    case 'requirements_due': {
      filledIdentity(acct, now);
      ensureBankAccount(core, acct);
      acct.details_submitted = true;
      const docs = [identityDocumentField(acct)];
      req.currently_due = docs;
      req.eventually_due = docs;
      req.current_deadline = now + REQUIREMENTS_DEADLINE_DAYS * DAY;
      req.errors = [
        {
          code: 'verification_document_failed_other',
          reason: 'The identity document could not be verified. Upload a new document before the deadline.',
          requirement: docs[0] ?? '',
        },
      ];
      setCaps(acct, 'active');
      break;
    }
    case 'rejected':
      filledIdentity(acct, now);
      acct.details_submitted = true;
      req.disabled_reason = 'rejected.other';
      setCaps(acct, 'inactive');
      break;
    case 'incomplete':
      req.currently_due = due;
      req.eventually_due = due;
      req.past_due = due;
      req.disabled_reason = 'requirements.past_due';
      setCaps(acct, 'inactive');
      break;
  }
  acct.requirements = req;
  acct.future_requirements = emptyFutureRequirements();
  accounts.setInternal(id, { outcome });
  return commitAccount(core, before, acct);
}

/** Ticker: a `current_deadline` that passed moves currently_due to past_due and disables the account. */
export function enforceDeadlines(core: EmulatorCore, now: number): void {
  const accounts = accountsOf(core);
  for (const acct of accounts.list(core.platformAccount)) {
    const req = acct.requirements;
    if (!req || req.current_deadline === null || req.current_deadline > now || (req.currently_due ?? []).length === 0) continue;
    const next: Stripe.Account = JSON.parse(JSON.stringify(acct)) as Stripe.Account;
    const r = next.requirements ?? emptyRequirements();
    r.past_due = [...new Set([...(r.past_due ?? []), ...(r.currently_due ?? [])])];
    r.disabled_reason = 'requirements.past_due';
    r.current_deadline = null;
    next.requirements = r;
    setCaps(next, 'inactive');
    commitAccount(core, acct, next);
  }
}

export function delayDaysOf(acct: Stripe.Account | undefined): number {
  const d = acct?.settings?.payouts?.schedule.delay_days;
  return typeof d === 'number' && d > 0 ? d : MINIMUM_DELAY_DAYS;
}
