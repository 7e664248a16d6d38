// Login throttling: slow guessing down without letting a guesser lock anyone out.
//
// Every failed login is a row with the email and the client address (in PostgreSQL, so the limits
// hold across web instances). Three counts over the last hour decide whether an attempt may go on:
//   - this email from this address: 5 free failures (a person mistyping), then delays;
//   - this email from anywhere: 10, then delays (one account guessed from many addresses);
//   - this address for any email: 20, then delays (many accounts sprayed from one address).
// Past its allowance a count imposes a wait from its latest failure that doubles with each further
// failure: 30 s, 1 min, 2 min … at most 15 min. Nobody is locked out for long, and a guesser gets a
// handful of tries an hour.
//
// The last two counts do not apply from an address the account has signed in from before (a
// familiar address, remembered for 90 days): the owner's right password from their usual place
// works while strangers hammer the account or share the owner's NAT. Only the first count applies
// there, and only the owner's own mistakes (or someone on the same network) fill it.
//
// An attempt is admitted or refused before its password is checked, and an admitted attempt is
// written down as a failure in the same locked step; a right password deletes that row again. So
// parallel guesses cannot all read "4 failures so far" and all go through.
import { isIPv6 } from 'node:net';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';

export const LOGIN_WINDOW_MS = 60 * 60 * 1000;
/** Failures before delays start, per count. */
export const FREE_FAILURES = { pair: 5, email: 10, address: 20 } as const;
export const FIRST_DELAY_MS = 30 * 1000;
export const MAX_DELAY_MS = 15 * 60 * 1000;
export const FAMILIAR_FOR_MS = 90 * 24 * 60 * 60 * 1000;

export type LoginAdmission = { admitted: true; attempt: LoginAttempt } | { admitted: false; retryAfterSeconds: number };

export interface LoginAttempt {
  id: number;
  email: string;
  address: string;
}

export function normaliseLoginEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * The address the throttle counts by. IPv6 hosts are handed a whole /64, so counting single IPv6
 * addresses would give one attacker 2^64 fresh starts; an IPv4 address written as IPv6 counts as
 * the IPv4 address.
 */
export function throttleAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1] !== undefined) return mapped[1];
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.toLowerCase().split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::') ? [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups] : headGroups;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/** How long a count of `failures` (the latest at `latest`) makes the next attempt wait; 0 = no wait. */
export function waitMs(failures: number, free: number, latest: Date | null, now: Date): number {
  if (failures < free || latest === null) return 0;
  const delay = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.min(failures - free, 20));
  return Math.max(0, latest.getTime() + delay - now.getTime());
}

/**
 * Admits this attempt (and counts it as a failure until `recordLoginSuccess`) or refuses it with how
 * long to wait. Runs under transaction-scoped advisory locks on the email and the address, taken in
 * a fixed order, so concurrent attempts on either are counted one after another.
 */
export async function admitLoginAttempt(db: Kysely<Database>, rawEmail: string, rawAddress: string, now = new Date()): Promise<LoginAdmission> {
  const email = normaliseLoginEmail(rawEmail);
  const address = throttleAddress(rawAddress);
  return db.transaction().execute(async (trx) => {
    for (const key of [`login-email:${email}`, `login-address:${address}`].sort()) {
      await sql`select pg_advisory_xact_lock(hashtextextended(${key}, 0))`.execute(trx);
    }
    const since = new Date(now.getTime() - LOGIN_WINDOW_MS);
    const isPair = sql<boolean>`email = ${email} and address = ${address}`;
    const counts = await trx
      .selectFrom('login_failures')
      .select([
        sql<number>`count(*) filter (where ${isPair})::int`.as('pair_failures'),
        sql<Date | null>`max(attempted_at) filter (where ${isPair})`.as('pair_latest'),
        sql<number>`count(*) filter (where email = ${email})::int`.as('email_failures'),
        sql<Date | null>`max(attempted_at) filter (where email = ${email})`.as('email_latest'),
        sql<number>`count(*) filter (where address = ${address})::int`.as('address_failures'),
        sql<Date | null>`max(attempted_at) filter (where address = ${address})`.as('address_latest'),
      ])
      .where((eb) => eb.or([eb('email', '=', email), eb('address', '=', address)]))
      .where('attempted_at', '>', since)
      .executeTakeFirstOrThrow();

    const waits = [waitMs(counts.pair_failures, FREE_FAILURES.pair, counts.pair_latest, now)];
    if (!(await isFamiliarAddress(trx, email, address, now))) {
      waits.push(
        waitMs(counts.email_failures, FREE_FAILURES.email, counts.email_latest, now),
        waitMs(counts.address_failures, FREE_FAILURES.address, counts.address_latest, now),
      );
    }
    const wait = Math.max(...waits);
    if (wait > 0) return { admitted: false, retryAfterSeconds: Math.ceil(wait / 1000) };

    const row = await trx.insertInto('login_failures').values({ email, address, attempted_at: now }).returning('id').executeTakeFirstOrThrow();
    return { admitted: true, attempt: { id: Number(row.id), email, address } };
  });
}

async function isFamiliarAddress(db: Kysely<Database>, email: string, address: string, now: Date): Promise<boolean> {
  const row = await db
    .selectFrom('login_familiar_addresses')
    .innerJoin('users', 'users.id', 'login_familiar_addresses.user_id')
    .select('login_familiar_addresses.user_id')
    .where(sql<string>`lower(users.email)`, '=', email)
    .where('login_familiar_addresses.address', '=', address)
    .where('login_familiar_addresses.last_success_at', '>', new Date(now.getTime() - FAMILIAR_FOR_MS))
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * The password was right: this attempt was no failure, the owner's own recent mistakes from this
 * address are forgiven (not other addresses' failures: the owner signing in must not hand a guesser
 * elsewhere a fresh allowance), and the address becomes familiar.
 */
export async function recordLoginSuccess(db: Kysely<Database>, attempt: LoginAttempt, userId: string, now = new Date()): Promise<void> {
  await db
    .deleteFrom('login_failures')
    .where((eb) => eb.or([eb('id', '=', attempt.id), eb.and([eb('email', '=', attempt.email), eb('address', '=', attempt.address)])]))
    .execute();
  await rememberFamiliarAddress(db, userId, attempt.address, now);
}

/** Marks where a user signed in from (also at sign-up: where an account was made is a usual place). */
export async function rememberFamiliarAddress(db: Kysely<Database>, userId: string, rawAddress: string, now = new Date()): Promise<void> {
  await db
    .insertInto('login_familiar_addresses')
    .values({ user_id: userId, address: throttleAddress(rawAddress), last_success_at: now })
    .onConflict((oc) => oc.columns(['user_id', 'address']).doUpdateSet({ last_success_at: now }))
    .execute();
}

/** Old rows are only noise: prune what no window can count any more. */
export async function pruneLoginFailures(db: Kysely<Database>, now = new Date()): Promise<void> {
  await db
    .deleteFrom('login_failures')
    .where('attempted_at', '<', new Date(now.getTime() - LOGIN_WINDOW_MS))
    .execute();
  await db
    .deleteFrom('login_familiar_addresses')
    .where('last_success_at', '<', new Date(now.getTime() - FAMILIAR_FOR_MS))
    .execute();
}

/** "Try again in 3 minutes." for a person reading the login form. */
export function waitMessage(retryAfterSeconds: number): string {
  if (retryAfterSeconds < 60) return `Try again in ${retryAfterSeconds} second${retryAfterSeconds === 1 ? '' : 's'}.`;
  const minutes = Math.ceil(retryAfterSeconds / 60);
  return `Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`;
}
