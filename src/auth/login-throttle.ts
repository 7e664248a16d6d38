// Failed logins are counted in the database, not in memory, so the limit holds across every web
// instance. Two counts per attempt: the email (guessing one account's password) and the client
// address (spraying many accounts).
//
// An attempt is admitted or refused before its password is checked, and an admitted attempt is
// written down as a failure in the same locked step; a right password deletes that row again. So
// the count that admits the next attempt already includes every attempt still being verified:
// parallel guesses cannot all read "4 failures so far" and all go through.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';

export const LOGIN_WINDOW_MS = 15 * 60 * 1000;
export const MAX_FAILURES_PER_EMAIL = 5;
export const MAX_FAILURES_PER_ADDRESS = 20;

export type LoginAdmission =
  | { admitted: true; attempt: LoginAttempt }
  | { admitted: false; retryAfterSeconds: number };

export interface LoginAttempt {
  id: number;
  email: string;
  address: string;
}

export function normaliseLoginEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * Admits this attempt (and counts it as a failure until `recordLoginSuccess`) or refuses it. Runs
 * under transaction-scoped advisory locks on the email and the address, taken in a fixed order, so
 * concurrent attempts on either are counted one after another.
 */
export async function admitLoginAttempt(db: Kysely<Database>, rawEmail: string, address: string, now = new Date()): Promise<LoginAdmission> {
  const email = normaliseLoginEmail(rawEmail);
  return db.transaction().execute(async (trx) => {
    for (const key of [`login-email:${email}`, `login-address:${address}`].sort()) {
      await sql`select pg_advisory_xact_lock(hashtextextended(${key}, 0))`.execute(trx);
    }
    const since = new Date(now.getTime() - LOGIN_WINDOW_MS);
    const counts = await trx
      .selectFrom('login_failures')
      .select([
        sql<number>`count(*) filter (where email = ${email})::int`.as('email_failures'),
        sql<number>`count(*) filter (where address = ${address})::int`.as('address_failures'),
        sql<Date | null>`min(attempted_at)`.as('oldest'),
      ])
      .where((eb) => eb.or([eb('email', '=', email), eb('address', '=', address)]))
      .where('attempted_at', '>', since)
      .executeTakeFirstOrThrow();
    if (counts.email_failures >= MAX_FAILURES_PER_EMAIL || counts.address_failures >= MAX_FAILURES_PER_ADDRESS) {
      const oldest = counts.oldest ?? now;
      return { admitted: false, retryAfterSeconds: Math.max(1, Math.ceil((oldest.getTime() + LOGIN_WINDOW_MS - now.getTime()) / 1000)) };
    }
    const row = await trx.insertInto('login_failures').values({ email, address, attempted_at: now }).returning('id').executeTakeFirstOrThrow();
    return { admitted: true, attempt: { id: Number(row.id), email, address } };
  });
}

/** The password was right: this attempt was no failure, and the account's earlier failures are forgiven. */
export async function recordLoginSuccess(db: Kysely<Database>, attempt: LoginAttempt): Promise<void> {
  await db.deleteFrom('login_failures').where((eb) => eb.or([eb('id', '=', attempt.id), eb('email', '=', attempt.email)])).execute();
}

/** Old rows are only noise: prune what no window can count any more. */
export async function pruneLoginFailures(db: Kysely<Database>, now = new Date()): Promise<void> {
  await db.deleteFrom('login_failures').where('attempted_at', '<', new Date(now.getTime() - LOGIN_WINDOW_MS)).execute();
}

/** "Try again in 3 minutes." for a person reading the login form. */
export function waitMessage(retryAfterSeconds: number): string {
  if (retryAfterSeconds < 60) return `Try again in ${retryAfterSeconds} second${retryAfterSeconds === 1 ? '' : 's'}.`;
  const minutes = Math.ceil(retryAfterSeconds / 60);
  return `Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`;
}
