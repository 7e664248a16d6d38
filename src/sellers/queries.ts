// Every SQL statement about sellers and their Connect accounts.
import { enqueueAccountActionEmail } from '../email/messages.ts';
import { sql, type ExpressionBuilder, type ExpressionWrapper, type Kysely, type SqlBool, type Transaction } from 'kysely';
import type Stripe from 'stripe';
import type { AccountState, Database, Seller } from '../db/schema.ts';
import { deriveAccountState, storedRequirementsOf } from './account-state.ts';

/** The seller row for a seller user, created on first use (sign-up stays in the auth module). */
export async function ensureSeller(db: Kysely<Database>, sellerId: string): Promise<Seller> {
  await db
    .insertInto('sellers')
    .values({ id: sellerId })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  return db.selectFrom('sellers').selectAll().where('id', '=', sellerId).executeTakeFirstOrThrow();
}

export async function findSeller(db: Kysely<Database>, sellerId: string): Promise<Seller | undefined> {
  return db.selectFrom('sellers').selectAll().where('id', '=', sellerId).executeTakeFirst();
}

/**
 * The seller's account request (country, email), kept from the FIRST call only: a retry must send
 * Stripe identical parameters (Stripe refuses a reused idempotency key with different ones), and
 * the first choice is the one Stripe may already have acted on.
 */
export async function recordAccountRequest(trx: Transaction<Database>, sellerId: string, request: { country: string; email: string }): Promise<Seller> {
  await trx
    .insertInto('sellers')
    .values({ id: sellerId })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  await trx
    .updateTable('sellers')
    .set({ account_country: request.country, account_email: request.email, account_requested_at: new Date(), updated_at: new Date() })
    .where('id', '=', sellerId)
    .where('account_requested_at', 'is', null)
    .execute();
  return trx.selectFrom('sellers').selectAll().where('id', '=', sellerId).executeTakeFirstOrThrow();
}

/** The seller's Connect account, unless one is recorded already. True when this call recorded it. */
export async function recordAccountId(trx: Transaction<Database>, sellerId: string, accountId: string): Promise<boolean> {
  const updated = await trx
    .updateTable('sellers')
    .set({ stripe_account_id: accountId, updated_at: new Date() })
    .where('id', '=', sellerId)
    .where('stripe_account_id', 'is', null)
    .returning('id')
    .executeTakeFirst();
  return updated !== undefined;
}

/** When the stored account state was true; undefined when no seller has this account. */
export async function storedObservedAt(db: Kysely<Database>, accountId: string): Promise<Date | null | undefined> {
  const row = await db.selectFrom('sellers').select('state_observed_at').where('stripe_account_id', '=', accountId).executeTakeFirst();
  return row === undefined ? undefined : row.state_observed_at;
}

/**
 * Stores the derived state of `account` on the seller who owns it, if `observedAt` is newer than
 * what is stored. Pass the time the object was true: `new Date(event.created * 1000)` for an event
 * payload, or the time of a fresh `accounts.retrieve`. Events arrive late, twice and out of order;
 * comparing freshness in the UPDATE's WHERE clause makes the check and the write one atomic step,
 * so two concurrent writers cannot interleave and an older snapshot can never replace a newer one.
 *
 * Runs inside the caller's transaction (a webhook handler's, or a use case's), with the mail the
 * new state may send. Returns applied=false when stale, or when no seller has this account.
 */
export async function recordAccountSnapshot(trx: Transaction<Database>, account: Stripe.Account, observedAt: Date): Promise<{ applied: boolean }> {
  if (Number.isNaN(observedAt.getTime())) throw new RangeError('observedAt must be a valid date');
  const derived = deriveAccountState(account);
  const updated = await trx
    .updateTable('sellers')
    .set({
      account_state: derived.state,
      charges_enabled: derived.chargesEnabled,
      payouts_enabled: derived.payoutsEnabled,
      details_submitted: derived.detailsSubmitted,
      disabled_reason: derived.disabledReason,
      requirements_deadline: derived.deadline,
      requirements: JSON.stringify(storedRequirementsOf(account)),
      state_observed_at: observedAt,
      updated_at: new Date(),
    })
    .where('stripe_account_id', '=', account.id)
    // Strictly newer: an equal timestamp is a duplicate or an undecidable tie, and keeping what we
    // have is the choice that never moves state backwards.
    .where((eb) => eb.or([eb('state_observed_at', 'is', null), eb('state_observed_at', '<', observedAt)]))
    .returning('id')
    .executeTakeFirst();
  // "Action needed" mail commits with the state that asks for it (once per requirement set).
  if (updated !== undefined) await enqueueAccountActionEmail(trx, updated.id, derived);
  return { applied: updated !== undefined };
}

/** Whether an admin suspended the seller of the query's `sellers` row (src/moderation). */
export function sellerSuspended(eb: ExpressionBuilder<Database, 'sellers'>): ExpressionWrapper<Database, 'sellers', SqlBool> {
  return eb.exists(eb.selectFrom('seller_suspensions').select('seller_suspensions.seller_id').whereRef('seller_suspensions.seller_id', '=', 'sellers.id'));
}

/**
 * The one rule of who may sell something new (catalogue, orders, plans, subscriptions), on the
 * query's `sellers` row: the Connect account is `enabled` with charges on, and the seller is not
 * suspended. A restricted seller can sometimes still charge until Stripe's deadline, but we stop
 * selling for them at once: a buyer should never pay a seller whose account may be paused before
 * fulfilment.
 */
export function sellerCanSell(eb: ExpressionBuilder<Database, 'sellers'>): ExpressionWrapper<Database, 'sellers', SqlBool> {
  return eb.and([eb('sellers.account_state', '=', 'enabled'), eb('sellers.charges_enabled', '=', true), eb.not(sellerSuspended(eb))]);
}

/**
 * The seller as a sale sees them, inside the sale's transaction: their row is locked FOR SHARE
 * first (a suspension locks it FOR UPDATE, so one committing meanwhile is waited for), then read
 * by a second statement, whose snapshot is taken after the lock and so sees that suspension. A
 * suspension that comes later waits for the sale to commit: it was made before the suspension.
 */
export async function lockSellerForSale(trx: Transaction<Database>, sellerId: string) {
  await trx.selectFrom('sellers').select('id').where('id', '=', sellerId).forShare().execute();
  return trx
    .selectFrom('sellers')
    .select('stripe_account_id')
    .select((eb) => [sellerCanSell(eb).as('can_sell'), sellerSuspended(eb).as('suspended')])
    .where('id', '=', sellerId)
    .executeTakeFirst();
}

/** Every connected account of ours (the backfill lists each one's events). */
export async function connectedAccountIds(db: Kysely<Database>): Promise<string[]> {
  const rows = await db.selectFrom('sellers').select('stripe_account_id').where('stripe_account_id', 'is not', null).orderBy('stripe_account_id').execute();
  return rows.map((r) => r.stripe_account_id!);
}

/** Whether the user is a seller (the admin opening a seller who has no seller row yet makes it; any other id is a 404). */
export async function isSellerUser(db: Kysely<Database>, userId: string): Promise<boolean> {
  return (await db.selectFrom('users').select('id').where('id', '=', userId).where('role', '=', 'seller').executeTakeFirst()) !== undefined;
}

/**
 * The admin's seller list, by name, optionally in one state: every seller user with their
 * account's state. The seller row is made on first use, so a seller who never opened their
 * dashboard has none yet: they are listed as not started.
 */
export async function listSellers(db: Kysely<Database>, state?: AccountState) {
  let query = db
    .selectFrom('users')
    .leftJoin('sellers', 'sellers.id', 'users.id')
    .select([
      'users.id',
      'sellers.stripe_account_id',
      'sellers.requirements_deadline',
      'sellers.disabled_reason',
      'users.email',
      'users.display_name',
      sql<AccountState>`coalesce(sellers.account_state, 'not_started')`.as('account_state'),
      sql<Seller['requirements']>`coalesce(sellers.requirements, '{}'::jsonb)`.as('requirements'),
    ])
    .where('users.role', '=', 'seller')
    .orderBy('users.display_name')
    .limit(500);
  if (state !== undefined) query = query.where(sql<AccountState>`coalesce(sellers.account_state, 'not_started')`, '=', state);
  return query.execute();
}

/** A seller with their user's name and email (the admin's seller page). */
export async function findSellerWithUser(db: Kysely<Database>, sellerId: string) {
  return db
    .selectFrom('sellers')
    .innerJoin('users', 'users.id', 'sellers.id')
    .selectAll('sellers')
    .select(['users.email', 'users.display_name'])
    .where('sellers.id', '=', sellerId)
    .executeTakeFirst();
}

/** Every seller's id and name, by name (filters in admin lists). */
export async function sellerNames(db: Kysely<Database>): Promise<{ id: string; display_name: string }[]> {
  return db
    .selectFrom('sellers')
    .innerJoin('users', 'users.id', 'sellers.id')
    .select(['sellers.id', 'users.display_name'])
    .orderBy('users.display_name')
    .execute();
}
