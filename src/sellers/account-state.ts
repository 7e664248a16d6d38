// A seller's Connect account, reduced to the one state our product acts on. Stripe's account object
// has many flags; this file is the only place that decides what they mean together, so the return
// page, the dashboard, the catalogue and the webhook handlers can never disagree.
import type Stripe from 'stripe';
import type { AccountState, StoredRequirements } from '../db/schema.ts';

export type { AccountState } from '../db/schema.ts';

/** What the seller should do next; the dashboard shows one button or message per value. */
export type NextStep = 'set_up_payouts' | 'continue_onboarding' | 'wait' | 'fix_requirements' | 'none' | 'contact_support';

export interface AccountStateView {
  state: AccountState;
  /** A short label for a badge ("Enabled", "Action needed"). */
  label: string;
  /** One sentence a seller understands. */
  summary: string;
  nextStep: NextStep;
  /** Plain words for each outstanding requirement (currently due and past due first), de-duplicated. */
  due: string[];
  /** Stripe's explanations for rejected documents or details, as Stripe words them. */
  problems: string[];
  /** When currently due requirements become past due and Stripe may disable the account. */
  deadline: Date | null;
  /** True when something is already past due (charges or payouts may be off because of it). */
  pastDue: boolean;
  chargesEnabled: boolean;
  payoutsEnabled: boolean;
  detailsSubmitted: boolean;
  disabledReason: string | null;
}

/** The subset of a Stripe account the derivation reads; a stored row can be turned back into this. */
export type AccountFacts = Pick<Stripe.Account, 'charges_enabled' | 'payouts_enabled' | 'details_submitted' | 'requirements' | 'capabilities'>;

/** The capabilities a destination-charge seller needs: card_payments for charges, transfers to receive funds. */
const REQUIRED_CAPABILITIES = ['card_payments', 'transfers'] as const;

/**
 * Maps an account to our state. Pure: the same account always gives the same answer.
 *
 * Order matters: a rejection outranks everything; an unfinished form outranks requirements (the
 * seller's next step is simply to finish it); anything currently or past due makes the account
 * `restricted` even while charges still work, because Stripe will disable it at the deadline;
 * only then do we look at "Stripe is still checking" versus "fully enabled".
 */
export function deriveAccountState(account: AccountFacts | null | undefined): AccountStateView {
  if (account === null || account === undefined) {
    return view('not_started', 'Not set up', 'You have not set up payouts yet. Set them up to start selling.', 'set_up_payouts', emptyFacts());
  }
  const req = account.requirements;
  const currentlyDue = req?.currently_due ?? [];
  const pastDue = req?.past_due ?? [];
  const pendingVerification = req?.pending_verification ?? [];
  const disabledReason = req?.disabled_reason ?? null;
  const capabilities = capabilityStatuses(account.capabilities);
  const facts: Facts = {
    due: describeRequirements([...pastDue, ...currentlyDue]),
    problems: (req?.errors ?? []).map((e) => e.reason).filter((r) => r !== ''),
    deadline: req?.current_deadline ? new Date(req.current_deadline * 1000) : null,
    pastDue: pastDue.length > 0,
    chargesEnabled: account.charges_enabled === true,
    payoutsEnabled: account.payouts_enabled === true,
    detailsSubmitted: account.details_submitted === true,
    disabledReason,
  };

  if (disabledReason?.startsWith('rejected.')) {
    return view('rejected', 'Rejected', 'Stripe has rejected this account, so it cannot take payments or receive payouts.', 'contact_support', facts);
  }
  if (!facts.detailsSubmitted) {
    return view('onboarding_incomplete', 'Setup not finished', 'Your payout setup with Stripe is not finished yet.', 'continue_onboarding', facts);
  }
  if (pastDue.length > 0 || currentlyDue.length > 0) {
    const summary = facts.pastDue
      ? 'Stripe needs more information. Until you provide it, payments or payouts are paused.'
      : 'Stripe needs more information before the deadline, or payments and payouts will be paused.';
    return view('restricted', 'Action needed', summary, 'fix_requirements', facts);
  }
  const waitingOnStripe =
    disabledReason === 'requirements.pending_verification' ||
    disabledReason === 'under_review' ||
    pendingVerification.length > 0 ||
    REQUIRED_CAPABILITIES.some((c) => capabilities[c] === 'pending');
  const fullyEnabled =
    facts.chargesEnabled && facts.payoutsEnabled && REQUIRED_CAPABILITIES.every((c) => capabilities[c] === undefined || capabilities[c] === 'active');
  if (fullyEnabled && disabledReason === null) {
    return view('enabled', 'Enabled', 'Your account can take payments and receive payouts.', 'none', facts);
  }
  if (waitingOnStripe) {
    return view(
      'pending_verification',
      'Being verified',
      'Stripe is verifying your details. This usually takes a few minutes to a few days; nothing is needed from you now.',
      'wait',
      facts,
    );
  }
  // Details submitted, nothing due, nothing pending, yet not enabled: e.g. `platform_paused`,
  // `action_required.requested_capabilities` or an inactive capability without a listed requirement.
  return view(
    'restricted',
    'Action needed',
    `Payments or payouts are off (${describeDisabledReason(disabledReason)}).`,
    disabledReason === 'platform_paused' ? 'contact_support' : 'fix_requirements',
    facts,
  );
}

/** The facts behind a state: everything in the view except the verdict drawn from them. */
type Facts = Omit<AccountStateView, 'state' | 'label' | 'summary' | 'nextStep'>;

function emptyFacts(): Facts {
  return { due: [], problems: [], deadline: null, pastDue: false, chargesEnabled: false, payoutsEnabled: false, detailsSubmitted: false, disabledReason: null };
}

function view(state: AccountState, label: string, summary: string, nextStep: NextStep, facts: Facts): AccountStateView {
  return { state, label, summary, nextStep, ...facts };
}

function capabilityStatuses(capabilities: Stripe.Account.Capabilities | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, status] of Object.entries(capabilities ?? {})) {
    if (typeof status === 'string') result[name] = status;
  }
  return result;
}

function describeDisabledReason(reason: string | null): string {
  switch (reason) {
    case null:
      return 'Stripe has not enabled them yet';
    case 'platform_paused':
      return 'paused by the marketplace';
    case 'action_required.requested_capabilities':
      return 'Stripe needs you to accept the requested capabilities';
    case 'requirements.past_due':
      return 'information is past due';
    default:
      return `Stripe's reason: ${reason.replaceAll('_', ' ').replaceAll('.', ': ')}`;
  }
}

// Stripe names requirements by field path (`individual.dob.day`). A seller needs to read "Date of
// birth" once, not three day/month/year entries, so paths map to phrases by prefix, first match wins.
const REQUIREMENT_WORDS: [prefix: string, words: string][] = [
  ['individual.verification.document', 'An identity document (passport, ID card or driving licence)'],
  ['individual.verification.additional_document', 'A document proving your address'],
  ['representative.verification.document', "An identity document for the company's representative"],
  ['company.verification.document', 'A document proving the company is registered'],
  ['individual.id_number', 'Your government ID number'],
  ['representative.id_number', "The representative's government ID number"],
  ['individual.ssn_last_4', 'The last 4 digits of your Social Security number'],
  ['representative.ssn_last_4', "The last 4 digits of the representative's Social Security number"],
  ['individual.dob', 'Your date of birth'],
  ['individual.address', 'Your home address'],
  ['individual.first_name', 'Your legal name'],
  ['individual.last_name', 'Your legal name'],
  ['individual.email', 'Your email address'],
  ['individual.phone', 'Your phone number'],
  ['company.name', 'The company name'],
  ['company.address', "The company's address"],
  ['company.phone', "The company's phone number"],
  ['company.tax_id', "The company's tax ID"],
  ['representative.', "Details of the company's representative"],
  ['owners.', "Details of the company's owners"],
  ['directors.', "Details of the company's directors"],
  ['executives.', "Details of the company's executives"],
  ['business_type', 'Your business type'],
  ['business_profile.mcc', 'What kind of business you run'],
  ['business_profile.url', 'Your website or a description of your products'],
  ['business_profile.product_description', 'A description of your products'],
  ['external_account', 'A bank account for payouts'],
  ['tos_acceptance', "Acceptance of Stripe's terms of service"],
];

/** Plain words for Stripe requirement paths, de-duplicated and in first-seen order. */
export function describeRequirements(fields: readonly string[], reader: 'seller' | 'admin' = 'seller'): string[] {
  const words = fields.map((field) => REQUIREMENT_WORDS.find(([prefix]) => field.startsWith(prefix))?.[1] ?? humanize(field));
  // The words are written to the seller; an admin reads about the seller.
  const forReader = reader === 'seller' ? words : words.map((w) => w.replace(/^Your /, "The seller's ").replace(/ you run$/, ' they run'));
  return [...new Set(forReader)];
}

function humanize(field: string): string {
  const text = field.replaceAll('.', ' ').replaceAll('_', ' ').trim();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The facts we store beside the state, so the state can be re-derived and explained without Stripe. */
export function storedRequirementsOf(account: AccountFacts): StoredRequirements {
  const req = account.requirements;
  return {
    currently_due: [...(req?.currently_due ?? [])],
    past_due: [...(req?.past_due ?? [])],
    eventually_due: [...(req?.eventually_due ?? [])],
    pending_verification: [...(req?.pending_verification ?? [])],
    errors: (req?.errors ?? []).map((e) => ({ requirement: e.requirement, code: e.code, reason: e.reason })),
    capabilities: capabilityStatuses(account.capabilities),
  };
}

/** A stored seller row back into the facts `deriveAccountState` reads (for pages; no Stripe call). */
export function factsFromStored(row: {
  charges_enabled: boolean;
  payouts_enabled: boolean;
  details_submitted: boolean;
  disabled_reason: string | null;
  requirements_deadline: Date | null;
  requirements: Partial<StoredRequirements>;
}): AccountFacts {
  const r = row.requirements;
  return {
    charges_enabled: row.charges_enabled,
    payouts_enabled: row.payouts_enabled,
    details_submitted: row.details_submitted,
    capabilities: r.capabilities ?? {},
    requirements: {
      alternatives: [],
      current_deadline: row.requirements_deadline === null ? null : Math.floor(row.requirements_deadline.getTime() / 1000),
      currently_due: r.currently_due ?? [],
      disabled_reason: row.disabled_reason as Stripe.Account.Requirements.DisabledReason | null,
      errors: (r.errors ?? []).map((e) => ({ ...e, code: e.code as Stripe.Account.Requirements.Error.Code })),
      eventually_due: r.eventually_due ?? [],
      past_due: r.past_due ?? [],
      pending_verification: r.pending_verification ?? [],
    },
  };
}
