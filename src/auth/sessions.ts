// Sessions in the design of lucia-auth.com's current guide: a token is `<id>.<secret>`, both random;
// the database keeps the id and only a SHA-256 hash of the secret, compared in constant time, so a
// leaked sessions table cannot be replayed. Expiry slides (an active user stays signed in), but
// never past an absolute lifetime from sign-in: a stolen cookie kept busy does not live forever.
import { sha256 } from '@oslojs/crypto/sha2';
import { constantTimeEqual } from '@oslojs/crypto/subtle';
import { encodeBase32LowerCaseNoPadding } from '@oslojs/encoding';
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, Session, User } from '../db/schema.ts';

/** Idle lifetime: a session unused this long ends. */
export const SESSION_LIFETIME_MS = 30 * 24 * 60 * 60 * 1000;
/** However active, a session ends this long after sign-in. */
export const SESSION_ABSOLUTE_LIFETIME_MS = 90 * 24 * 60 * 60 * 1000;
/** Extend a session once less than this much of its life is left. */
const RENEW_WHEN_REMAINING_MS = SESSION_LIFETIME_MS / 2;

/** The cookie's name over http; under https it is `__Host-session` (see src/http/cookie-names.ts). */
export const SESSION_COOKIE = 'session';

function randomPart(): string {
  // 15 bytes = 120 bits of entropy, 24 base32 characters.
  return encodeBase32LowerCaseNoPadding(randomBytes(15));
}

function hashSecret(secret: string): Uint8Array {
  return sha256(new TextEncoder().encode(secret));
}

export interface CreatedSession {
  token: string;
  session: Session;
}

export async function createSession(db: Kysely<Database>, userId: string, now = new Date()): Promise<CreatedSession> {
  const id = randomPart();
  const secret = randomPart();
  const session = await db
    .insertInto('sessions')
    .values({ id, user_id: userId, secret_hash: hashSecret(secret), expires_at: new Date(now.getTime() + SESSION_LIFETIME_MS) })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { token: `${id}.${secret}`, session };
}

export interface ValidatedSession {
  session: Session;
  user: User;
  /** True when the expiry moved: the cookie must be sent again with the new expiry. */
  renewed: boolean;
}

export async function validateSessionToken(db: Kysely<Database>, token: string, now = new Date()): Promise<ValidatedSession | null> {
  const [id, secret, ...rest] = token.split('.');
  if (id === undefined || secret === undefined || rest.length > 0 || id.length !== 24 || secret.length !== 24) return null;

  const row = await db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select([
      'sessions.id as session_id',
      'sessions.user_id',
      'sessions.secret_hash',
      'sessions.created_at as session_created_at',
      'sessions.expires_at',
      'users.id',
      'users.email',
      'users.password_hash',
      'users.role',
      'users.display_name',
      'users.name_key',
      'users.created_at',
    ])
    .where('sessions.id', '=', id)
    .executeTakeFirst();
  if (row === undefined) return null;
  if (!constantTimeEqual(hashSecret(secret), new Uint8Array(row.secret_hash))) return null;

  const endOfLife = row.session_created_at.getTime() + SESSION_ABSOLUTE_LIFETIME_MS;
  if (now.getTime() >= row.expires_at.getTime() || now.getTime() >= endOfLife) {
    await invalidateSession(db, id);
    return null;
  }

  let expiresAt = row.expires_at;
  let renewed = false;
  const extended = Math.min(now.getTime() + SESSION_LIFETIME_MS, endOfLife);
  if (row.expires_at.getTime() - now.getTime() < RENEW_WHEN_REMAINING_MS && extended > row.expires_at.getTime()) {
    expiresAt = new Date(extended);
    await db.updateTable('sessions').set({ expires_at: expiresAt }).where('id', '=', id).execute();
    renewed = true;
  }

  const session: Session = {
    id: row.session_id,
    user_id: row.user_id,
    secret_hash: row.secret_hash,
    created_at: row.session_created_at,
    expires_at: expiresAt,
  };
  const user: User = {
    id: row.id,
    email: row.email,
    password_hash: row.password_hash,
    role: row.role,
    display_name: row.display_name,
    name_key: row.name_key,
    created_at: row.created_at,
  };
  return { session, user, renewed };
}

export async function invalidateSession(db: Kysely<Database>, sessionId: string): Promise<void> {
  await db.deleteFrom('sessions').where('id', '=', sessionId).execute();
}

/** Signs a user out everywhere, e.g. after a password change or a suspected compromise. */
export async function invalidateAllSessions(db: Kysely<Database>, userId: string): Promise<number> {
  const result = await db.deleteFrom('sessions').where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** The session id part of a token, without validating it (to end the old session on login). */
export function sessionIdOf(token: string): string | undefined {
  const id = token.split('.')[0];
  return id !== undefined && id.length === 24 ? id : undefined;
}

/** A user's sessions, newest first (the account page lists them). */
export async function listUserSessions(db: Kysely<Database>, userId: string): Promise<Pick<Session, 'id' | 'created_at' | 'expires_at'>[]> {
  return db.selectFrom('sessions').select(['id', 'created_at', 'expires_at']).where('user_id', '=', userId).orderBy('created_at', 'desc').execute();
}
