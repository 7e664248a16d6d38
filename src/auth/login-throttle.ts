// Failed logins are counted in the database, not in memory, so the limit holds across every web
// instance. Two keys per attempt: the email (guessing one account's password) and the client IP
// (spraying many accounts).
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';

export const LOGIN_WINDOW_MS = 15 * 60 * 1000;
export const MAX_FAILURES_PER_EMAIL = 5;
export const MAX_FAILURES_PER_IP = 20;

function keysFor(email: string, ip: string) {
  return { emailKey: `email:${email.trim().toLowerCase()}`, ipKey: `ip:${ip}` };
}

export async function isLoginThrottled(db: Kysely<Database>, email: string, ip: string, now = new Date()): Promise<boolean> {
  const { emailKey, ipKey } = keysFor(email, ip);
  const since = new Date(now.getTime() - LOGIN_WINDOW_MS);
  const rows = await db
    .selectFrom('login_attempts')
    .select(['throttle_key', sql<number>`count(*)::int`.as('failures')])
    .where('throttle_key', 'in', [emailKey, ipKey])
    .where('attempted_at', '>', since)
    .groupBy('throttle_key')
    .execute();
  const failures = (key: string) => rows.find((r) => r.throttle_key === key)?.failures ?? 0;
  return failures(emailKey) >= MAX_FAILURES_PER_EMAIL || failures(ipKey) >= MAX_FAILURES_PER_IP;
}

export async function recordFailedLogin(db: Kysely<Database>, email: string, ip: string, now = new Date()): Promise<void> {
  const { emailKey, ipKey } = keysFor(email, ip);
  await db.insertInto('login_attempts').values([
    { throttle_key: emailKey, attempted_at: now },
    { throttle_key: ipKey, attempted_at: now },
  ]).execute();
  // Old rows are only noise: prune what no window can count any more.
  await db.deleteFrom('login_attempts').where('attempted_at', '<', new Date(now.getTime() - LOGIN_WINDOW_MS)).execute();
}

/** A correct password clears the account's failures (not the IP's: one success must not unlock spraying). */
export async function clearFailedLogins(db: Kysely<Database>, email: string): Promise<void> {
  await db.deleteFrom('login_attempts').where('throttle_key', '=', keysFor(email, '').emailKey).execute();
}
