// A seller's Connect account: creating exactly one, sending the seller through Stripe's hosted
// onboarding, reading back the truth, and opening the Express dashboard. Plain functions over
// (db, stripe, input), so routes, the CLI and tests share them.
import type { Kysely } from 'kysely';
import type Stripe from 'stripe';
import type { Database, Seller } from '../db/schema.ts';
import { recordAccountSnapshot } from './account-state.ts';

/** Countries a seller can onboard from: ISO alpha-2 code and the name shown in the form. */
export const SUPPORTED_COUNTRIES = [
  ['US', 'United States'], ['GB', 'United Kingdom'], ['IE', 'Ireland'], ['FR', 'France'], ['DE', 'Germany'],
  ['NL', 'Netherlands'], ['ES', 'Spain'], ['IT', 'Italy'], ['CA', 'Canada'], ['AU', 'Australia'], ['JP', 'Japan'],
] as const;
export type CountryCode = (typeof SUPPORTED_COUNTRIES)[number][0];
export const COUNTRY_CODES = SUPPORTED_COUNTRIES.map(([code]) => code) as CountryCode[];

/**
 * The idempotency key for a seller's account creation. Derived from our id alone, so every retry
 * of "create this seller's account" — a double click, a second tab, a retry after we crashed
 * between Stripe's answer and our commit — asks Stripe for the same account. (Stripe keeps keys for
 * at least 24 hours; the row lock below covers concurrent requests, the key covers crashes.)
 */
export function accountIdempotencyKey(sellerId: string): string {
  return `seller:${sellerId}:connect-account`;
}

/** The seller row for a seller user, created on first use (sign-up stays in the auth module). */
export async function ensureSeller(db: Kysely<Database>, sellerId: string): Promise<Seller> {
  await db.insertInto('sellers').values({ id: sellerId }).onConflict((oc) => oc.column('id').doNothing()).execute();
  return db.selectFrom('sellers').selectAll().where('id', '=', sellerId).executeTakeFirstOrThrow();
}

export async function findSeller(db: Kysely<Database>, sellerId: string): Promise<Seller | undefined> {
  return db.selectFrom('sellers').selectAll().where('id', '=', sellerId).executeTakeFirst();
}

/**
 * Returns the seller's Connect account id, creating the account at Stripe if there is none yet.
 *
 * 1. The request (country, email) is committed first and only by the first caller, so a retry after
 *    any failure sends Stripe identical parameters: Stripe rejects a reused idempotency key with
 *    different parameters, and the seller's first choice is the one Stripe may already have acted on.
 * 2. Under a row lock (`for update`), the account is created only if the row still has none. A second
 *    concurrent request waits on the lock and then finds the id, so it never reaches Stripe. The lock
 *    is held across one Stripe call for one seller; nothing else contends for that row.
 * 3. `stripe_account_id` is unique, so even a bug elsewhere cannot attach one account to two sellers.
 */
export async function ensureConnectedAccount(
  db: Kysely<Database>,
  stripe: Stripe,
  input: { sellerId: string; country: CountryCode; email: string },
): Promise<{ accountId: string; created: boolean }> {
  await ensureSeller(db, input.sellerId);
  await db.updateTable('sellers')
    .set({ account_country: input.country, account_email: input.email, account_requested_at: new Date(), updated_at: new Date() })
    .where('id', '=', input.sellerId)
    .where('account_requested_at', 'is', null)
    .execute();

  return db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('sellers').selectAll().where('id', '=', input.sellerId).forUpdate().executeTakeFirstOrThrow();
    if (row.stripe_account_id !== null) return { accountId: row.stripe_account_id, created: false };
    // An earlier attempt older than Stripe's idempotency window may have created an account we never
    // stored (a crash after Stripe answered); its key is gone, so look for it by our metadata.
    if (row.account_requested_at !== null && Date.now() - row.account_requested_at.getTime() > IDEMPOTENCY_WINDOW_MS) {
      const orphan = await findAccountBySellerId(stripe, input.sellerId);
      if (orphan !== undefined) {
        await trx.updateTable('sellers').set({ stripe_account_id: orphan.id, updated_at: new Date() }).where('id', '=', input.sellerId).execute();
        await recordAccountSnapshot(trx, orphan, new Date());
        return { accountId: orphan.id, created: false };
      }
    }
    const account = await stripe.accounts.create({
      country: row.account_country ?? input.country,
      email: row.account_email ?? input.email,
      // Express-equivalent controller properties (stripe-facts §2): the seller uses the Express
      // dashboard, Stripe collects requirements through its hosted forms, and the platform pays
      // Stripe's fees and carries negative balances (required together with fees.payer=application).
      controller: {
        stripe_dashboard: { type: 'express' },
        fees: { payer: 'application' },
        losses: { payments: 'application' },
        requirement_collection: 'stripe',
      },
      capabilities: { card_payments: { requested: true }, transfers: { requested: true } },
      metadata: { seller_id: input.sellerId },
    }, { idempotencyKey: accountIdempotencyKey(input.sellerId) });
    await trx.updateTable('sellers').set({ stripe_account_id: account.id, updated_at: new Date() }).where('id', '=', input.sellerId).execute();
    // The creation response is a true snapshot; storing it moves the seller to onboarding_incomplete.
    await recordAccountSnapshot(trx, account, new Date());
    return { accountId: account.id, created: true };
  });
}

/** Stripe keeps idempotency keys for at least 24 hours; we trust them for a little less. */
const IDEMPOTENCY_WINDOW_MS = 23 * 60 * 60 * 1000;

/** Walks the platform's connected accounts for one carrying metadata.seller_id (rare: crash recovery). */
async function findAccountBySellerId(stripe: Stripe, sellerId: string): Promise<Stripe.Account | undefined> {
  for await (const account of stripe.accounts.list({ limit: 100 })) {
    if (account.metadata?.seller_id === sellerId) return account;
  }
  return undefined;
}

export interface OnboardingUrls {
  /** Where Stripe sends the seller when the link expired or was already used: we mint a new one. */
  refreshUrl: string;
  /** Where Stripe sends the seller after the form; we re-read the account there. */
  returnUrl: string;
}

/** A single-use Account Link into Stripe's hosted onboarding. Never stored: a fresh one each time. */
export async function createOnboardingLink(stripe: Stripe, accountId: string, urls: OnboardingUrls): Promise<Stripe.AccountLink> {
  return stripe.accountLinks.create({
    account: accountId,
    type: 'account_onboarding',
    refresh_url: urls.refreshUrl,
    return_url: urls.returnUrl,
    // Ask for what is needed now; Stripe asks for the rest later, through requirements and events.
    collection_options: { fields: 'currently_due' },
  });
}

/**
 * Re-reads the account from Stripe and records it. Returning from onboarding proves nothing about
 * the account, so the return page always shows this, never an assumption. The retrieval time is the
 * snapshot's freshness: a webhook event created before it cannot overwrite what we just read.
 */
export async function syncAccountFromStripe(db: Kysely<Database>, stripe: Stripe, accountId: string): Promise<Stripe.Account> {
  // Whatever was stored before this read began describes the account at or before that moment, so
  // the read is newer than it even if Stripe's clock runs ahead of ours (the emulator's clock can be
  // advanced): stamp it at least a millisecond after the stored freshness.
  const before = await db.selectFrom('sellers').select('state_observed_at').where('stripe_account_id', '=', accountId).executeTakeFirst();
  const account = await stripe.accounts.retrieve(accountId);
  const storedAt = before?.state_observed_at?.getTime() ?? 0;
  await recordAccountSnapshot(db, account, new Date(Math.max(Date.now(), storedAt + 1)));
  return account;
}

/** A one-time link into the seller's Express dashboard (Stripe allows it once details are submitted). */
export async function createDashboardLink(stripe: Stripe, accountId: string): Promise<string> {
  const link = await stripe.accounts.createLoginLink(accountId);
  return link.url;
}
