// Signing up: the checks a schema cannot make (name, password strength), the account, and the limit
// on learning who has one.
//
// Sign-up tells a person when their email already has an account ("Log in instead?"): without an
// email round-trip (confirm by link, which this product does not have) a uniform answer would leave
// people who forgot they had signed up stuck. So the answer stays, and asking it is limited: an
// address gets 3 "already has an account" answers an hour; after that every sign-up from it is
// refused until the hour has passed, so it cannot go on probing by watching which sign-ups succeed.
// Each such answer is recorded before the account is tried (under a lock on the address) and
// forgotten if the account was made, so parallel attempts cannot overrun the limit. Login never
// tells: a wrong password and an unknown email get the same answer in the same time.
import { sql, type Kysely } from 'kysely';
import type { Database, Role, User } from '../db/schema.ts';
import { displayNameProblem } from './display-names.ts';
import { throttleAddress } from './login-throttle.ts';
import { passwordWeakness } from './password-strength.ts';
import { createUser } from './users.ts';

export const SIGNUP_PROBE_WINDOW_MS = 60 * 60 * 1000;
export const MAX_EMAIL_TAKEN_ANSWERS = 3;

export interface SignupInput {
  email: string;
  password: string;
  displayName: string;
  role: Exclude<Role, 'admin'>;
}

export type SignupResult =
  | { ok: true; user: User }
  | { ok: false; reason: 'weak_password' | 'bad_name'; message: string }
  | { ok: false; reason: 'email_taken' | 'name_taken' }
  | { ok: false; reason: 'throttled'; retryAfterSeconds: number };

export async function signUp(db: Kysely<Database>, input: SignupInput, clientAddress: string, now = new Date()): Promise<SignupResult> {
  const nameProblem = displayNameProblem(input.displayName, input.role);
  if (nameProblem !== null) return { ok: false, reason: 'bad_name', message: nameProblem };
  const weakness = await passwordWeakness(input.password, { email: input.email, displayName: input.displayName });
  if (weakness !== null) return { ok: false, reason: 'weak_password', message: weakness };

  const address = throttleAddress(clientAddress);
  const probe = await admitProbe(db, address, now);
  if (!probe.admitted) return { ok: false, reason: 'throttled', retryAfterSeconds: probe.retryAfterSeconds };

  const created = await createUser(db, input);
  // Only "email taken" tells anything about accounts; a taken seller name is public anyway.
  if (created.ok || created.reason === 'name_taken') await db.deleteFrom('signup_probes').where('id', '=', probe.id).execute();
  if (!created.ok) return { ok: false, reason: created.reason };
  return { ok: true, user: created.user };
}

async function admitProbe(
  db: Kysely<Database>,
  address: string,
  now: Date,
): Promise<{ admitted: true; id: number } | { admitted: false; retryAfterSeconds: number }> {
  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtextextended(${`signup-address:${address}`}, 0))`.execute(trx);
    const since = new Date(now.getTime() - SIGNUP_PROBE_WINDOW_MS);
    const probes = await trx
      .selectFrom('signup_probes')
      .select('attempted_at')
      .where('address', '=', address)
      .where('attempted_at', '>', since)
      .orderBy('attempted_at', 'desc')
      .limit(MAX_EMAIL_TAKEN_ANSWERS)
      .execute();
    if (probes.length >= MAX_EMAIL_TAKEN_ANSWERS) {
      // Open again once the oldest of the last few answers leaves the window.
      const oldestCounted = probes[probes.length - 1]!.attempted_at;
      return { admitted: false, retryAfterSeconds: Math.max(1, Math.ceil((oldestCounted.getTime() + SIGNUP_PROBE_WINDOW_MS - now.getTime()) / 1000)) };
    }
    await trx.deleteFrom('signup_probes').where('attempted_at', '<', since).execute();
    const row = await trx.insertInto('signup_probes').values({ address, attempted_at: now }).returning('id').executeTakeFirstOrThrow();
    return { admitted: true, id: Number(row.id) };
  });
}
