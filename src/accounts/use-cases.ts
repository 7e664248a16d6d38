// What a person does with their own account: recover it by email, change its password or email,
// delete it (buyers). Each use case owns its transactions; the emails go through the outbox in the
// transaction of the change that causes them (so a link exists exactly when its token committed).
// Password hashing (argon2, slow on purpose) happens before any transaction opens.
//
// A buyer's Stripe Customer carries their email and name: a confirmed email change and a deletion
// note the change in the same transaction as the users row (noteBuyerDetailsChanged) and then tell
// Stripe with the customers module's own sync, outside any transaction. Whatever Stripe answers
// then, the change has committed and stands: the failure is handed to the route to log, never shown
// as a failed action, and ensureBuyerCustomer passes the change on when the Customer is next needed.
import type { Kysely, Transaction } from 'kysely';
import type Stripe from 'stripe';
import { hashPassword, verifyPassword } from '../auth/passwords.ts';
import { passwordWeakness } from '../auth/password-strength.ts';
import { findUserById } from '../auth/users.ts';
import { findBuyerCustomer, noteBuyerDetailsChanged } from '../customers/queries.ts';
import { syncBuyerCustomerDetails } from '../customers/use-cases.ts';
import type { Database, User } from '../db/schema.ts';
import { enqueueEmail } from '../email/outbox.ts';
import { renderEmail, type RenderedEmail } from '../email/templates.ts';
import { DomainError, found } from '../errors.ts';
import { countPendingOrders } from '../orders/queries.ts';
import { classifyStripeError } from '../stripe/errors.ts';
import {
  countRecentResets,
  customersLeftToDelete,
  emailInUse,
  endSessions,
  eraseBuyer,
  findEmailChange,
  findLiveUserByEmail,
  findResetToken,
  hasSubscriptionThatMayCharge,
  insertEmailChange,
  insertResetToken,
  isDeleted,
  lockEmailChange,
  lockResetToken,
  lockSellerMessagesAbout,
  lockUser,
  markEmailChangeUsed,
  recordCustomerDeleted,
  replaceErasedEventPayload,
  rewriteOutboxMessage,
  setEmail,
  setPasswordHash,
  storedEventsOfDeletedBuyers,
  useUpResetTokens,
} from './queries.ts';
import { deletedPlaceholder, ERASED_SHIP_TO, ERASED_WORDS, erasedSellerMessage, SELLER_MESSAGES_ABOUT_BUYERS, withoutPersonalData } from './erasure.ts';
import { EMAIL_CHANGE_LIFETIME_MS, emailHint, newToken, PASSWORD_RESET_LIFETIME_MS, RESETS_PER_HOUR, splitToken, tokenUsable } from './tokens.ts';

/** Where the emailed links lead (the token rides in the query string, which our logs redact). */
export const RESET_PATH = '/password-reset/new';
export const EMAIL_CONFIRM_PATH = '/email-change/confirm';

/** Stands for "no account" where a user id is expected: a valid uuid that names no user. */
const NO_USER = '00000000-0000-0000-0000-000000000000';

/** Thrown to roll back the look-alike work done for an address that gets no email. */
class NothingToSend extends Error {}

/**
 * "Forgot my password": emails a reset link if an account has this address; otherwise nothing. The
 * caller answers the same either way, so the form tells no one who has an account, and so that the
 * answer's TIME tells no one either, both paths do the same work: the same token is made and the
 * same statements run (a lock, a count, the token's insert, the email's enqueue); with no account,
 * or past RESETS_PER_HOUR links an hour, they find no row, insert nothing, and roll back.
 */
export async function requestPasswordReset(db: Kysely<Database>, email: string, now = new Date()): Promise<void> {
  const user = await findLiveUserByEmail(db, email);
  const token = newToken();
  const expiresAt = new Date(now.getTime() + PASSWORD_RESET_LIFETIME_MS);
  await db
    .transaction()
    .execute(async (trx) => {
      const userId = user?.id ?? NO_USER;
      const locked = await lockUser(trx, userId); // counts and inserts of one account queue here
      const recent = await countRecentResets(trx, userId, new Date(now.getTime() - 60 * 60 * 1000));
      await insertResetToken(trx, { id: token.id, userId, secretHash: token.secretHash, expiresAt });
      await enqueueEmail(trx, {
        template: 'password-reset',
        to: locked?.email ?? email,
        dedupeKey: `password-reset:${token.id}`,
        data: { resetPath: `${RESET_PATH}?token=${token.token}`, expiresAt: expiresAt.toISOString() },
      });
      if (locked === undefined || recent >= RESETS_PER_HOUR) throw new NothingToSend();
    })
    .catch((error: unknown) => {
      if (!(error instanceof NothingToSend)) throw error;
    });
}

/** Whether a reset link may still be used (the page shows the form, or says the link is dead). */
export async function checkResetToken(db: Kysely<Database>, token: string, now = new Date()): Promise<boolean> {
  const parts = splitToken(token);
  if (parts === undefined) return false;
  const row = await findResetToken(db, parts.id);
  return row !== undefined && tokenUsable(row, parts.secret, now);
}

/**
 * Sets a new password from a reset link: the link is used up (with every other open one of the
 * account) and every session of the account ends, in one transaction under the token's lock, so
 * two submits of the same link cannot both succeed.
 */
export async function resetPassword(db: Kysely<Database>, input: { token: string; password: string }, now = new Date()): Promise<User> {
  const parts = splitToken(input.token);
  if (parts === undefined) throw new DomainError('account_link_invalid');
  const row = await findResetToken(db, parts.id);
  if (row === undefined || !tokenUsable(row, parts.secret, now)) throw new DomainError('account_link_invalid');
  const user = found(await findUserById(db, row.user_id));
  await checkStrength(input.password, user);
  const passwordHash = await hashPassword(input.password);
  return db.transaction().execute(async (trx) => {
    const locked = await lockResetToken(trx, parts.id);
    if (locked === undefined || !tokenUsable(locked, parts.secret, now)) throw new DomainError('account_link_invalid');
    await setPasswordHash(trx, user.id, passwordHash);
    await useUpResetTokens(trx, user.id, now);
    await endSessions(trx, user.id);
    return user;
  });
}

/** A signed-in person changes their password: the current one first; their other sessions end. */
export async function changePassword(
  db: Kysely<Database>,
  input: { userId: string; currentSessionId: string; currentPassword: string; newPassword: string },
  now = new Date(),
): Promise<{ endedSessions: number }> {
  const user = found(await findUserById(db, input.userId));
  if (!(await verifyPassword(user.password_hash, input.currentPassword))) throw new DomainError('password_incorrect');
  await checkStrength(input.newPassword, user);
  const passwordHash = await hashPassword(input.newPassword);
  return db.transaction().execute(async (trx) => {
    await lockUser(trx, user.id);
    await setPasswordHash(trx, user.id, passwordHash);
    await useUpResetTokens(trx, user.id, now);
    return { endedSessions: await endSessions(trx, user.id, input.currentSessionId) };
  });
}

async function checkStrength(password: string, user: Pick<User, 'email' | 'display_name'>): Promise<void> {
  const weakness = await passwordWeakness(password, { email: user.email, displayName: user.display_name });
  if (weakness !== null) throw new DomainError('password_weak', { message: weakness });
}

/**
 * Asks to move the account to a new address: the current password proves it is the owner, and a
 * link sent to the new address proves they own that too. Nothing changes until the link is used.
 * An address another account has gets no link, but the caller answers the same ("we have emailed a
 * link"), so the form tells no one which addresses have accounts (as "forgot my password" does);
 * and so that the answer's time does not tell either, the same statements run and roll back. The
 * address is checked again when a link is confirmed (someone may sign up with it meanwhile).
 */
export async function requestEmailChange(
  db: Kysely<Database>,
  input: { userId: string; currentPassword: string; newEmail: string },
  now = new Date(),
): Promise<void> {
  const user = found(await findUserById(db, input.userId));
  if (!(await verifyPassword(user.password_hash, input.currentPassword))) throw new DomainError('password_incorrect');
  const newEmail = input.newEmail.trim();
  const token = newToken();
  const expiresAt = new Date(now.getTime() + EMAIL_CHANGE_LIFETIME_MS);
  await db
    .transaction()
    .execute(async (trx) => {
      await lockUser(trx, user.id);
      const taken = await emailInUse(trx, newEmail, user.id);
      await insertEmailChange(trx, { id: token.id, userId: user.id, newEmail, secretHash: token.secretHash, expiresAt });
      await enqueueEmail(trx, {
        template: 'email-change-confirm',
        to: newEmail,
        dedupeKey: `email-change:${token.id}`,
        data: { confirmPath: `${EMAIL_CONFIRM_PATH}?token=${token.token}`, newEmail, expiresAt: expiresAt.toISOString() },
      });
      if (taken) throw new NothingToSend();
    })
    .catch((error: unknown) => {
      if (!(error instanceof NothingToSend)) throw error;
    });
}

/** The address an email-change link would confirm, or undefined for a dead link. */
export async function emailChangeOf(db: Kysely<Database>, token: string, now = new Date()): Promise<string | undefined> {
  const parts = splitToken(token);
  if (parts === undefined) return undefined;
  const row = await findEmailChange(db, parts.id);
  return row !== undefined && tokenUsable(row, parts.secret, now) ? row.new_email : undefined;
}

/**
 * The link was opened and confirmed: the account's email becomes the new one (once). Then Stripe's
 * Customer is told; whatever Stripe answers, the change has committed and stands (see tellStripe).
 */
export async function confirmEmailChange(
  db: Kysely<Database>,
  stripe: Stripe,
  token: string,
  now = new Date(),
): Promise<{ userId: string; email: string } & AfterCommit> {
  const parts = splitToken(token);
  if (parts === undefined) throw new DomainError('account_link_invalid');
  const changed = await db
    .transaction()
    .execute(async (trx) => {
      // The user's row first, then the link's: the order requestEmailChange locks them in, so the two never wait on each other.
      const userId = (await findEmailChange(trx, parts.id))?.user_id;
      const before = userId === undefined ? undefined : await lockUser(trx, userId);
      const row = await lockEmailChange(trx, parts.id);
      if (before === undefined || row === undefined || !tokenUsable(row, parts.secret, now)) throw new DomainError('account_link_invalid');
      if (await isDeleted(trx, row.user_id)) throw new DomainError('account_link_invalid');
      if (await emailInUse(trx, row.new_email, row.user_id)) throw new DomainError('email_taken');
      await setEmail(trx, row.user_id, row.new_email);
      // The old address hears of it: if someone else made the change, its owner learns in time to act.
      await enqueueEmail(trx, {
        template: 'email-changed',
        to: before.email,
        dedupeKey: `email-change:${row.id}:old-address-notice`,
        data: { newEmailHint: emailHint(row.new_email), changedAt: now.toISOString() },
      });
      await markEmailChangeUsed(trx, row.id, now);
      // Reset links went to the old address; they no longer belong to this account's owner.
      await useUpResetTokens(trx, row.user_id, now);
      await noteBuyerDetailsChanged(trx, row.user_id);
      return { userId: row.user_id, email: row.new_email };
    })
    .catch((error: unknown) => {
      // Two accounts confirming the same address at once: the unique index on lower(email) decides.
      if ((error as { code?: unknown }).code === '23505') throw new DomainError('email_taken');
      throw error;
    });
  return { ...changed, ...(await tellStripe(db, stripe, changed.userId)) };
}

/**
 * A buyer deletes their account: their orders stay (the seller's and the platform's records need
 * them) but every personal field is replaced (eraseBuyer; the sellers' messages about their orders
 * are rendered again without them) and they are signed out everywhere. Refused while an
 * order of theirs waits for payment (its Checkout page could still take their money), and while a
 * subscription could still charge them (hasSubscriptionThatMayCharge): they could no longer sign in
 * to cancel it, so they are sent to My subscriptions first.
 *
 * Then, after the erasure has committed (the transaction rule: our record first, Stripe after,
 * with no transaction open), their Stripe Customer is deleted (deleteErasedCustomer). If Stripe
 * cannot do it now, the account is deleted all the same and the worker deletes the Customer later
 * (deleteErasedCustomers).
 */
export async function deleteBuyerAccount(
  db: Kysely<Database>,
  stripe: Stripe,
  input: { userId: string; currentPassword: string; publicUrl: string },
): Promise<AfterCommit> {
  const user = found(await findUserById(db, input.userId));
  if (user.role !== 'buyer') throw new DomainError('account_deletion_not_allowed', { reason: 'not_buyer' });
  if (!(await verifyPassword(user.password_hash, input.currentPassword))) throw new DomainError('password_incorrect');
  const placeholder = deletedPlaceholder(user.id);
  await db.transaction().execute(async (trx) => {
    const locked = found(await lockUser(trx, user.id));
    if ((await countPendingOrders(trx, user.id)) > 0) throw new DomainError('account_deletion_not_allowed', { reason: 'pending_orders' });
    if (await hasSubscriptionThatMayCharge(trx, user.id)) throw new DomainError('account_deletion_not_allowed', { reason: 'live_subscriptions' });
    // '!' is no argon2 hash: verifyPassword answers false for it, so nobody can sign in as this row.
    await eraseBuyer(trx, locked, { ...placeholder, passwordHash: '!', shipTo: ERASED_SHIP_TO, words: ERASED_WORDS });
    await rewriteSellerMessages(trx, user.id, placeholder.email, input.publicUrl);
  });
  const customer = (await findBuyerCustomer(db, user.id))?.stripe_customer_id;
  return customer == null ? { stripeError: null } : deleteErasedCustomer(db, stripe, { buyerId: user.id, customerId: customer });
}

/**
 * The sellers' messages about the erased buyer's orders, written again from their erased data: a
 * message already rendered gets its subject and bodies rendered again (with the site's address, as
 * the sender renders them), one still to send is rendered from the new data when it goes. One
 * whose old data no longer fits its template keeps no bodies at all.
 */
async function rewriteSellerMessages(trx: Transaction<Database>, buyerId: string, email: string, baseUrl: string): Promise<void> {
  for (const message of await lockSellerMessagesAbout(trx, buyerId, SELLER_MESSAGES_ABOUT_BUYERS)) {
    const template = message.template as (typeof SELLER_MESSAGES_ABOUT_BUYERS)[number];
    const data = erasedSellerMessage(template, message.data, { email, shipTo: message.ship_to });
    let rendered: RenderedEmail | null = null;
    if (message.subject !== null) {
      try {
        rendered = renderEmail(template, data, { baseUrl });
      } catch {
        rendered = null;
      }
    }
    await rewriteOutboxMessage(trx, message.id, { data, subject: rendered?.subject ?? null, text: rendered?.text ?? null, html: rendered?.html ?? null });
  }
}

/**
 * Deletes a deleted buyer's Stripe Customer, rather than detaching each saved card and renaming it:
 * one call takes every card with it — also one added in the customer portal whose event has not
 * reached us — ends at once any subscription Stripe still bills it for (a safety net under
 * hasSubscriptionThatMayCharge: our statuses can lag Stripe's, and a subscription set to end at
 * the period's end ends now), and leaves no name or email at Stripe. Past charges, refunds and
 * disputes do not need the Customer. A DELETE takes no idempotency key at Stripe (it is idempotent
 * by itself): sent again, it answers 404 `resource_missing`, which means done.
 */
async function deleteErasedCustomer(db: Kysely<Database>, stripe: Stripe, erased: { buyerId: string; customerId: string }): Promise<AfterCommit> {
  try {
    await stripe.customers.del(erased.customerId);
  } catch (error) {
    const problem = classifyStripeError(error);
    if (problem?.kind !== 'refused' || problem.code !== 'resource_missing') return { stripeError: error };
  }
  await recordCustomerDeleted(db, erased.buyerId, erased.customerId);
  return { stripeError: null };
}

/** The worker's retry: Customers of deleted accounts that Stripe could not delete at the time. */
export async function deleteErasedCustomers(db: Kysely<Database>, stripe: Stripe, limit = 100): Promise<{ deleted: number; failures: unknown[] }> {
  const failures: unknown[] = [];
  let deleted = 0;
  for (const erased of await customersLeftToDelete(db, limit)) {
    const outcome = await deleteErasedCustomer(db, stripe, erased);
    if (outcome.stripeError === null) deleted += 1;
    else failures.push(outcome.stripeError);
  }
  return { deleted, failures };
}

/**
 * Removes deleted buyers' names, emails, phones and addresses from the Stripe events we stored
 * about their Customers (customer.*, sessions, intents, charges, invoices, subscriptions, payment
 * methods), which otherwise keep them for as long as the inbox keeps events. The worker runs this
 * on its schedule: it also catches the events Stripe sends after the deletion (customer.deleted
 * carries the Customer's last details). An event is erased once the worker has finished with it.
 * Returns how many events were erased.
 */
export async function eraseStoredEventsOfDeletedBuyers(db: Kysely<Database>, limit = 500): Promise<number> {
  const events = await storedEventsOfDeletedBuyers(db, limit);
  for (const event of events) await replaceErasedEventPayload(db, event.id, withoutPersonalData(event.payload));
  return events.length;
}

/**
 * What became of the Stripe call that follows a committed change: null when it went through, else
 * the failure, for the caller to log. The change itself stands either way.
 */
export interface AfterCommit {
  stripeError: unknown;
}

/**
 * Passes a committed change of the buyer's details to their Customer. Any failure (Stripe away, or
 * refusing: a Customer deleted in the Dashboard answers 404) is returned, never thrown: the change
 * has committed, so the person must not see it as failed. The note made with the change
 * (noteBuyerDetailsChanged) stays unsynced, and ensureBuyerCustomer passes it on the next time
 * the Customer is needed.
 */
async function tellStripe(db: Kysely<Database>, stripe: Stripe, userId: string): Promise<AfterCommit> {
  try {
    await syncBuyerCustomerDetails(db, stripe, userId);
    return { stripeError: null };
  } catch (error) {
    return { stripeError: error };
  }
}
