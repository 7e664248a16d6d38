// What a seller does with their Connect account: creating exactly one, going through Stripe's
// hosted onboarding, reading back the truth, and opening the Express dashboard. Account creation
// follows the rule for every Stripe call:
//   (a) the seller's request (country, email) is committed first, by the first call only;
//   (c) `accounts.create` with the key `seller:<id>:connect-account`, parameters from that request,
//       nothing open: two tabs, a double click or two app instances send the same key and get the
//       same account;
//   (d) a short transaction records the account id unless one is recorded already (the unique
//       `stripe_account_id` also keeps one account from ever reaching two sellers).
// If we stop between (c) and (d), "Set up payouts" again sends the same key and gets the same
// account; after Stripe's idempotency window (a day) the account is found by its metadata instead.
import type { Kysely } from 'kysely';
import type Stripe from 'stripe';
import type { Database, Listing, Seller } from '../db/schema.ts';
import { DomainError, found } from '../errors.ts';
import { listSellerListings } from '../listings/queries.ts';
import { classifyStripeError } from '../stripe/errors.ts';
import { sendKeyed } from '../stripe/keyed.ts';
import { ensureSeller, findSeller, recordAccountId, recordAccountRequest, recordAccountSnapshot, storedObservedAt } from './queries.ts';

/** Countries a seller can onboard from: ISO alpha-2 code and the name shown in the form. */
export const SUPPORTED_COUNTRIES = [
  ['US', 'United States'],
  ['GB', 'United Kingdom'],
  ['IE', 'Ireland'],
  ['FR', 'France'],
  ['DE', 'Germany'],
  ['NL', 'Netherlands'],
  ['ES', 'Spain'],
  ['IT', 'Italy'],
  ['CA', 'Canada'],
  ['AU', 'Australia'],
  ['JP', 'Japan'],
] as const;
export type CountryCode = (typeof SUPPORTED_COUNTRIES)[number][0];
export const COUNTRY_CODES = SUPPORTED_COUNTRIES.map(([code]) => code) as CountryCode[];

/**
 * What makes a seller's connected account Express-equivalent, in controller properties (stripe-facts
 * §2): the seller uses the Express dashboard, Stripe collects requirements through its hosted forms,
 * and the platform pays Stripe's fees and carries negative balances (required together with
 * fees.payer=application); it takes card payments and receives transfers.
 */
export const EXPRESS_ACCOUNT = {
  controller: {
    stripe_dashboard: { type: 'express' },
    fees: { payer: 'application' },
    losses: { payments: 'application' },
    requirement_collection: 'stripe',
  },
  capabilities: { card_payments: { requested: true }, transfers: { requested: true } },
} as const satisfies Pick<Stripe.AccountCreateParams, 'controller' | 'capabilities'>;

/** Derived from our id alone, so every retry of "create this seller's account" asks for the same account. */
export function accountIdempotencyKey(sellerId: string): string {
  return `seller:${sellerId}:connect-account`;
}

/** Stripe keeps idempotency keys for at least 24 hours; we trust them for a little less. */
const IDEMPOTENCY_WINDOW_MS = 23 * 60 * 60 * 1000;

export interface OnboardingUrls {
  /** Where Stripe sends the seller when the link expired or was already used: we mint a new one. */
  refreshUrl: string;
  /** Where Stripe sends the seller after the form; we re-read the account there. */
  returnUrl: string;
}

/** The seller's dashboard: their row (created on first visit) and their listings. */
export async function sellerDashboard(db: Kysely<Database>, sellerId: string): Promise<{ seller: Seller; listings: Listing[] }> {
  const seller = await ensureSeller(db, sellerId);
  return { seller, listings: await listSellerListings(db, sellerId) };
}

/** Returns the seller's Connect account id, creating the account at Stripe if there is none yet. */
export async function ensureConnectedAccount(
  db: Kysely<Database>,
  stripe: Stripe,
  input: { sellerId: string; country: CountryCode; email: string },
): Promise<{ accountId: string; created: boolean }> {
  const seller = await db.transaction().execute((trx) => recordAccountRequest(trx, input.sellerId, { country: input.country, email: input.email }));
  if (seller.stripe_account_id !== null) return { accountId: seller.stripe_account_id, created: false };

  // An earlier attempt older than Stripe's idempotency window may have created an account we never
  // stored; its key is gone, so look for it by our metadata.
  const stale = seller.account_requested_at !== null && Date.now() - seller.account_requested_at.getTime() > IDEMPOTENCY_WINDOW_MS;
  const orphan = stale ? await findAccountBySellerId(stripe, input.sellerId) : undefined;
  const account =
    orphan ??
    (await sendKeyed(() =>
      stripe.accounts.create(
        {
          country: seller.account_country ?? input.country,
          email: seller.account_email ?? input.email,
          ...EXPRESS_ACCOUNT,
          metadata: { seller_id: input.sellerId },
        },
        { idempotencyKey: accountIdempotencyKey(input.sellerId) },
      ),
    ));

  return db.transaction().execute(async (trx) => {
    const recorded = await recordAccountId(trx, input.sellerId, account.id);
    // The creation response is a true snapshot; storing it moves the seller to onboarding_incomplete.
    if (recorded) await recordAccountSnapshot(trx, account, new Date());
    const row = found(await findSeller(trx, input.sellerId));
    return { accountId: row.stripe_account_id ?? account.id, created: recorded && orphan === undefined };
  });
}

/** Walks the platform's connected accounts for one carrying metadata.seller_id (rare: crash recovery). */
async function findAccountBySellerId(stripe: Stripe, sellerId: string): Promise<Stripe.Account | undefined> {
  for await (const account of stripe.accounts.list({ limit: 100 })) {
    if (account.metadata?.seller_id === sellerId) return account;
  }
  return undefined;
}

/** "Set up payouts" / "Continue setup": the one account, then a fresh single-use Account Link into Stripe's onboarding. */
export async function startOnboarding(
  db: Kysely<Database>,
  stripe: Stripe,
  input: { sellerId: string; country: CountryCode; email: string; urls: OnboardingUrls },
): Promise<string> {
  return whileStripeAnswers('set_up_payouts', async () => {
    const { accountId } = await ensureConnectedAccount(db, stripe, input);
    return (await createOnboardingLink(stripe, accountId, input.urls)).url;
  });
}

/** A new link for a link that expired or was used (Stripe's refresh redirect); undefined before any account exists. */
export async function continueOnboarding(db: Kysely<Database>, stripe: Stripe, sellerId: string, urls: OnboardingUrls): Promise<string | undefined> {
  const seller = await ensureSeller(db, sellerId);
  if (seller.stripe_account_id === null) return undefined;
  const accountId = seller.stripe_account_id;
  return whileStripeAnswers('continue_setup', async () => (await createOnboardingLink(stripe, accountId, urls)).url);
}

/**
 * A single-use Account Link. Never stored, nothing of ours changes, so there is nothing to record
 * before or after: a lost answer is simply a new link next time.
 */
async function createOnboardingLink(stripe: Stripe, accountId: string, urls: OnboardingUrls): Promise<Stripe.AccountLink> {
  return stripe.accountLinks.create({
    account: accountId,
    type: 'account_onboarding',
    refresh_url: urls.refreshUrl,
    return_url: urls.returnUrl,
    // Ask for what is needed now; Stripe asks for the rest later, through requirements and events.
    collection_options: { fields: 'currently_due' },
  });
}

export type ReturnNotice = 'account_gone' | 'stale';

/**
 * Back from Stripe's onboarding. Coming back proves nothing: the account is read again and the
 * dashboard shows what it really is, or the last state we know with a notice why it may be stale.
 */
export async function returnFromOnboarding(
  db: Kysely<Database>,
  stripe: Stripe,
  sellerId: string,
): Promise<{ dashboard: { seller: Seller; listings: Listing[] }; notice?: ReturnNotice } | undefined> {
  const before = await ensureSeller(db, sellerId);
  if (before.stripe_account_id === null) return undefined;
  try {
    await readAccount(db, stripe, before.stripe_account_id);
  } catch (error) {
    if (!(error instanceof DomainError) || (error.code !== 'seller_account_gone' && error.code !== 'stripe_unavailable')) throw error;
    return { dashboard: await sellerDashboard(db, sellerId), notice: error.code === 'seller_account_gone' ? 'account_gone' : 'stale' };
  }
  return { dashboard: await sellerDashboard(db, sellerId) };
}

/** "Check status now": ask Stripe instead of waiting for the webhook (e.g. while verification is pending). */
export async function checkAccountNow(db: Kysely<Database>, stripe: Stripe, sellerId: string): Promise<void> {
  const seller = await ensureSeller(db, sellerId);
  if (seller.stripe_account_id !== null) await readAccount(db, stripe, seller.stripe_account_id);
}

async function readAccount(db: Kysely<Database>, stripe: Stripe, accountId: string): Promise<void> {
  try {
    await syncAccountFromStripe(db, stripe, accountId);
  } catch (error) {
    const problem = classifyStripeError(error);
    if (problem?.kind === 'refused' && problem.accountGone) throw new DomainError('seller_account_gone');
    if (problem?.kind === 'unavailable') throw new DomainError('stripe_unavailable');
    throw error;
  }
}

/**
 * Re-reads the account from Stripe and records it. The retrieval time is the snapshot's freshness:
 * a webhook event created before it cannot overwrite what we just read.
 */
export async function syncAccountFromStripe(db: Kysely<Database>, stripe: Stripe, accountId: string): Promise<Stripe.Account> {
  // Whatever was stored before this read began describes the account at or before that moment, so
  // the read is newer than it even if Stripe's clock runs ahead of ours (the emulator's clock can be
  // advanced): stamp it at least a millisecond after the stored freshness.
  const before = await storedObservedAt(db, accountId);
  const account = await stripe.accounts.retrieve(accountId);
  const storedAt = before?.getTime() ?? 0;
  await db.transaction().execute((trx) => recordAccountSnapshot(trx, account, new Date(Math.max(Date.now(), storedAt + 1))));
  return account;
}

/**
 * A one-time link into the seller's Express dashboard: only for an account whose details were
 * submitted (Stripe refuses otherwise). A credential, minted per request and never stored.
 */
export async function openExpressDashboard(db: Kysely<Database>, stripe: Stripe, sellerId: string): Promise<string> {
  const seller = await ensureSeller(db, sellerId);
  if (seller.stripe_account_id === null || !seller.details_submitted) throw new DomainError('express_dashboard_not_ready');
  const accountId = seller.stripe_account_id;
  return whileStripeAnswers('open_dashboard', async () => (await stripe.accounts.createLoginLink(accountId)).url);
}

/** Stripe unreachable, failing or rate-limiting us: a plain "try again" for `action`; anything else fails loudly. */
async function whileStripeAnswers<T>(action: 'set_up_payouts' | 'continue_setup' | 'open_dashboard', call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (classifyStripeError(error)?.kind === 'unavailable') throw new DomainError('stripe_unavailable', { action });
    throw error;
  }
}
