// Every SQL statement of account recovery and account changes. Functions that lock take a Transaction.
import { sql, type ExpressionBuilder, type Kysely, type Transaction } from 'kysely';
import type { Database, ShipTo, User } from '../db/schema.ts';
import { LIVE_AT_STRIPE } from '../subscriptions/rules.ts';

/** The account with this email, unless it was deleted. */
export async function findLiveUserByEmail(db: Kysely<Database>, email: string): Promise<User | undefined> {
  return db
    .selectFrom('users')
    .selectAll()
    .where(sql<string>`lower(email)`, '=', email.trim().toLowerCase())
    .where((eb) => eb.not(eb.exists(eb.selectFrom('account_deletions').select('user_id').whereRef('account_deletions.user_id', '=', 'users.id'))))
    .executeTakeFirst();
}

export async function lockUser(trx: Transaction<Database>, userId: string): Promise<User | undefined> {
  return trx.selectFrom('users').selectAll().where('id', '=', userId).forUpdate().executeTakeFirst();
}

export async function countRecentResets(trx: Transaction<Database>, userId: string, since: Date): Promise<number> {
  const row = await trx
    .selectFrom('password_reset_tokens')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('user_id', '=', userId)
    .where('created_at', '>', since)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * The token's row, written as an INSERT … SELECT from the user's row: for an id that names no user
 * the same statement runs and inserts nothing (see requestPasswordReset: both paths do the same work).
 */
export async function insertResetToken(
  trx: Transaction<Database>,
  values: { id: string; userId: string; secretHash: Uint8Array; expiresAt: Date },
): Promise<void> {
  await trx
    .insertInto('password_reset_tokens')
    .columns(['id', 'user_id', 'secret_hash', 'expires_at'])
    .expression((eb) =>
      eb
        .selectFrom('users')
        .where('users.id', '=', values.userId)
        .select([eb.val(values.id).as('id'), 'users.id as user_id', eb.val(values.secretHash).as('secret_hash'), eb.val(values.expiresAt).as('expires_at')]),
    )
    .execute();
}

export async function findResetToken(db: Kysely<Database>, id: string) {
  return db.selectFrom('password_reset_tokens').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function lockResetToken(trx: Transaction<Database>, id: string) {
  return trx.selectFrom('password_reset_tokens').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

/** Uses up every open reset link of the user (after a reset or a password change, older links die). */
export async function useUpResetTokens(trx: Transaction<Database>, userId: string, now: Date): Promise<void> {
  await trx.updateTable('password_reset_tokens').set({ used_at: now }).where('user_id', '=', userId).where('used_at', 'is', null).execute();
}

export async function setPasswordHash(trx: Transaction<Database>, userId: string, passwordHash: string): Promise<void> {
  await trx.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', userId).execute();
}

/** Ends the user's sessions, all of them or all but `keepSessionId`. */
export async function endSessions(trx: Transaction<Database>, userId: string, keepSessionId?: string): Promise<number> {
  let query = trx.deleteFrom('sessions').where('user_id', '=', userId);
  if (keepSessionId !== undefined) query = query.where('id', '!=', keepSessionId);
  const result = await query.executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function emailInUse(db: Kysely<Database>, email: string, exceptUserId: string): Promise<boolean> {
  const row = await db
    .selectFrom('users')
    .select('id')
    .where(sql<string>`lower(email)`, '=', email.trim().toLowerCase())
    .where('id', '!=', exceptUserId)
    .executeTakeFirst();
  return row !== undefined;
}

export async function insertEmailChange(
  trx: Transaction<Database>,
  values: { id: string; userId: string; newEmail: string; secretHash: Uint8Array; expiresAt: Date },
): Promise<void> {
  // A newer request replaces older ones: only the latest link works.
  await trx.updateTable('email_change_requests').set({ used_at: new Date() }).where('user_id', '=', values.userId).where('used_at', 'is', null).execute();
  await trx
    .insertInto('email_change_requests')
    .values({ id: values.id, user_id: values.userId, new_email: values.newEmail, secret_hash: values.secretHash, expires_at: values.expiresAt })
    .execute();
}

export async function findEmailChange(db: Kysely<Database>, id: string) {
  return db.selectFrom('email_change_requests').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function lockEmailChange(trx: Transaction<Database>, id: string) {
  return trx.selectFrom('email_change_requests').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function markEmailChangeUsed(trx: Transaction<Database>, id: string, now: Date): Promise<void> {
  await trx.updateTable('email_change_requests').set({ used_at: now }).where('id', '=', id).execute();
}

export async function setEmail(trx: Transaction<Database>, userId: string, email: string): Promise<void> {
  await trx.updateTable('users').set({ email }).where('id', '=', userId).execute();
}

export async function isDeleted(db: Kysely<Database>, userId: string): Promise<boolean> {
  return (await db.selectFrom('account_deletions').select('user_id').where('user_id', '=', userId).executeTakeFirst()) !== undefined;
}

/**
 * Whether the buyer has a subscription that Stripe may still charge: one waiting for its first
 * payment (it cannot be canceled; it ends by itself within a day if unpaid), or one that is running
 * and not set to end. A `pending` row is ours alone (Stripe never answered its creation), and an
 * ended one charges nothing.
 */
export async function hasSubscriptionThatMayCharge(trx: Transaction<Database>, buyerId: string): Promise<boolean> {
  const row = await trx
    .selectFrom('subscriptions')
    .select('id')
    .where('buyer_id', '=', buyerId)
    .where((eb) => eb.or([eb('status', '=', 'incomplete'), eb.and([eb('status', 'in', LIVE_AT_STRIPE), eb('cancel_at_period_end', '=', false)])]))
    .executeTakeFirst();
  return row !== undefined;
}

/** Deleted buyers whose Stripe Customer is not known to be deleted yet (the oldest deletions first). */
export async function customersLeftToDelete(db: Kysely<Database>, limit: number): Promise<{ buyerId: string; customerId: string }[]> {
  const rows = await db
    .selectFrom('account_deletions')
    .innerJoin('buyer_customers', 'buyer_customers.buyer_id', 'account_deletions.user_id')
    .select(['buyer_customers.buyer_id', 'buyer_customers.stripe_customer_id'])
    .where('buyer_customers.stripe_customer_id', 'is not', null)
    .where('buyer_customers.stripe_deleted_at', 'is', null)
    .orderBy('account_deletions.deleted_at')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ buyerId: r.buyer_id, customerId: r.stripe_customer_id! }));
}

export async function recordCustomerDeleted(db: Kysely<Database>, buyerId: string, customerId: string): Promise<void> {
  await db
    .updateTable('buyer_customers')
    .set({ stripe_deleted_at: new Date(), updated_at: new Date() })
    .where('buyer_id', '=', buyerId)
    .where('stripe_customer_id', '=', customerId)
    .where('stripe_deleted_at', 'is', null)
    .execute();
}

/**
 * Stored Stripe events about deleted buyers' Customers whose personal details are still in them.
 * Only events the worker has finished with (a pending or failed one may still need to be read as
 * it came; it is erased at a later run, once done or dead).
 */
export async function storedEventsOfDeletedBuyers(db: Kysely<Database>, limit: number): Promise<{ id: string; payload: unknown }[]> {
  return db
    .selectFrom('stripe_events')
    .innerJoin('buyer_customers', 'buyer_customers.stripe_customer_id', 'stripe_events.customer_id')
    .innerJoin('account_deletions', 'account_deletions.user_id', 'buyer_customers.buyer_id')
    .select(['stripe_events.id', 'stripe_events.payload'])
    .where('stripe_events.personal_data_erased_at', 'is', null)
    .where('stripe_events.status', 'in', ['done', 'ignored', 'dead'])
    .orderBy('stripe_events.received_at')
    .limit(limit)
    .execute();
}

/** Replaces a stored event's payload with `payload` (its details removed) and drops the received bytes. */
export async function replaceErasedEventPayload(db: Kysely<Database>, id: string, payload: unknown): Promise<void> {
  await db
    .updateTable('stripe_events')
    .set({ payload: JSON.stringify(payload), raw_body: null, personal_data_erased_at: new Date(), updated_at: new Date() })
    .where('id', '=', id)
    .where('personal_data_erased_at', 'is', null)
    .execute();
}

/** Messages to the buyer about their orders: found by the order they name, whatever address they went to. */
const BUYER_ORDER_MESSAGES = ['order-receipt', 'order-shipped', 'refund-issued'];

/**
 * Replaces every personal field of a buyer with a placeholder, in the caller's transaction: the
 * users row (kept: orders point at it); on their orders the email and the shipping address (the
 * country kept: see erasure.ts); the reasons they gave for refund requests; the outbox's copies of
 * messages to them, found by their current address and by cause (their orders, their reset and
 * email-change links: a message may have gone to an address they had before), unsent ones given
 * up; what their Customer row and saved cards say of them; and everything that only existed for
 * signing in. Sellers' messages about them are rewritten by the caller (lockSellerMessagesAbout).
 */
export async function eraseBuyer(
  trx: Transaction<Database>,
  user: Pick<User, 'id' | 'email'>,
  placeholder: { email: string; displayName: string; nameKey: string; passwordHash: string; shipTo: Omit<ShipTo, 'country'>; words: string },
): Promise<void> {
  const now = new Date();
  await trx
    .updateTable('users')
    .set({
      email: placeholder.email,
      display_name: placeholder.displayName,
      name_key: placeholder.nameKey,
      password_hash: placeholder.passwordHash,
    })
    .where('id', '=', user.id)
    .execute();
  await trx
    .updateTable('orders')
    .set({
      buyer_email: placeholder.email,
      ship_to: sql<
        string | null
      >`case when ship_to is null then null else ${JSON.stringify(placeholder.shipTo)}::jsonb || jsonb_build_object('country', ship_to -> 'country') end`,
      updated_at: now,
    })
    .where('buyer_id', '=', user.id)
    .execute();
  await trx.updateTable('refund_requests').set({ reason: placeholder.words }).where('buyer_id', '=', user.id).execute();

  const toBuyer = (eb: ExpressionBuilder<Database, 'email_outbox'>) =>
    eb.or([
      eb(sql<string>`lower(to_address)`, '=', user.email.toLowerCase()),
      eb.and([
        eb('template', 'in', BUYER_ORDER_MESSAGES),
        eb(
          sql<string>`data ->> 'orderId'`,
          'in',
          eb
            .selectFrom('orders')
            .select(sql<string>`id::text`.as('id'))
            .where('buyer_id', '=', user.id),
        ),
      ]),
      eb(
        'dedupe_key',
        'in',
        eb
          .selectFrom('password_reset_tokens')
          .select(sql<string>`'password-reset:' || id`.as('key'))
          .where('user_id', '=', user.id),
      ),
      eb(
        'dedupe_key',
        'in',
        eb
          .selectFrom('email_change_requests')
          .select(sql<string>`'email-change:' || id`.as('key'))
          .where('user_id', '=', user.id)
          .unionAll(
            eb
              .selectFrom('email_change_requests')
              .select(sql<string>`'email-change:' || id || ':old-address-notice'`.as('key'))
              .where('user_id', '=', user.id),
          ),
      ),
    ]);
  await trx
    .updateTable('email_outbox')
    .set({ status: 'dead', last_error: 'the recipient deleted their account', updated_at: now })
    .where(toBuyer)
    .where('status', 'in', ['pending', 'failed'])
    .execute();
  await trx
    .updateTable('email_outbox')
    .set({ to_address: placeholder.email, data: '{}', subject: null, text_body: null, html_body: null, updated_at: now })
    .where(toBuyer)
    .execute();

  await trx
    .updateTable('buyer_customers')
    .set({ requested_email: placeholder.email, requested_name: placeholder.displayName, default_payment_method_id: null, updated_at: now })
    .where('buyer_id', '=', user.id)
    .execute();
  await trx.deleteFrom('buyer_payment_methods').where('buyer_id', '=', user.id).execute();
  await trx.deleteFrom('sessions').where('user_id', '=', user.id).execute();
  await trx.deleteFrom('login_familiar_addresses').where('user_id', '=', user.id).execute();
  await trx.deleteFrom('login_failures').where('email', '=', user.email.trim().toLowerCase()).execute();
  await trx.deleteFrom('password_reset_tokens').where('user_id', '=', user.id).execute();
  await trx.deleteFrom('email_change_requests').where('user_id', '=', user.id).execute();
  await trx
    .insertInto('account_deletions')
    .values({ user_id: user.id })
    .onConflict((oc) => oc.column('user_id').doNothing())
    .execute();
}

/** Sellers' messages about the buyer's orders (see SELLER_MESSAGES_ABOUT_BUYERS), locked, with each order's address as it is now. */
export async function lockSellerMessagesAbout(trx: Transaction<Database>, buyerId: string, templates: readonly string[]) {
  return trx
    .selectFrom('email_outbox')
    .innerJoin('orders', (join) => join.on(sql<boolean>`orders.id::text = email_outbox.data ->> 'orderId'`))
    .select(['email_outbox.id', 'email_outbox.template', 'email_outbox.data', 'email_outbox.subject', 'orders.ship_to'])
    .where('orders.buyer_id', '=', buyerId)
    .where('email_outbox.template', 'in', templates)
    .forUpdate('email_outbox')
    .execute();
}

/** A message's data and (if it was rendered) its subject and bodies, replaced. */
export async function rewriteOutboxMessage(
  trx: Transaction<Database>,
  id: string,
  values: { data: object; subject: string | null; text: string | null; html: string | null },
): Promise<void> {
  await trx
    .updateTable('email_outbox')
    .set({ data: JSON.stringify(values.data), subject: values.subject, text_body: values.text, html_body: values.html, updated_at: new Date() })
    .where('id', '=', id)
    .execute();
}
