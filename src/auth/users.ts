import { sql, type Kysely } from 'kysely';
import type { Database, Role, User } from '../db/schema.ts';
import { displayNameKey, tidyDisplayName } from './display-names.ts';
import { hashPassword, verifyDecoy, verifyPassword } from './passwords.ts';

export type CreateUserResult = { ok: true; user: User } | { ok: false; reason: 'email_taken' | 'name_taken' };

/** The unique index that keeps seller names apart (migrations/20261128_1400_seller_names_unique.ts). */
const SELLER_NAME_INDEX = 'users_seller_name_key';

/** Check the name with displayNameProblem first: this stores whatever it is given. */
export async function createUser(db: Kysely<Database>, input: { email: string; password: string; role: Role; displayName: string }): Promise<CreateUserResult> {
  const passwordHash = await hashPassword(input.password);
  const displayName = tidyDisplayName(input.displayName);
  // The unique indexes decide races: on lower(email) between two sign-ups with the same address,
  // on the name key between two sellers choosing look-alike names.
  try {
    const user = await db
      .insertInto('users')
      .values({ email: input.email.trim(), password_hash: passwordHash, role: input.role, display_name: displayName, name_key: displayNameKey(displayName) })
      .onConflict((oc) => oc.expression(sql`lower(email)`).doNothing())
      .returningAll()
      .executeTakeFirst();
    return user === undefined ? { ok: false, reason: 'email_taken' } : { ok: true, user };
  } catch (error) {
    if (isUniqueViolationOf(error, SELLER_NAME_INDEX)) return { ok: false, reason: 'name_taken' };
    throw error;
  }
}

function isUniqueViolationOf(error: unknown, index: string): boolean {
  const details = error as { code?: unknown; constraint?: unknown; message?: unknown };
  return details.code === '23505' && (details.constraint === index || String(details.message).includes(index));
}

export function findUserByEmail(db: Kysely<Database>, email: string): Promise<User | undefined> {
  return db
    .selectFrom('users')
    .selectAll()
    .where(sql<string>`lower(email)`, '=', email.trim().toLowerCase())
    .executeTakeFirst();
}

export function findUserById(db: Kysely<Database>, id: string): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The user if the email and password match, else null; takes the same time either way. */
export async function verifyCredentials(db: Kysely<Database>, email: string, password: string): Promise<User | null> {
  const user = await findUserByEmail(db, email);
  if (user === undefined) return verifyDecoy(password).then(() => null);
  return (await verifyPassword(user.password_hash, password)) ? user : null;
}

/** A user's name and email, without anything secret (for pages that show who someone is). */
export function findUserSummary(db: Kysely<Database>, id: string): Promise<Pick<User, 'id' | 'display_name' | 'email'> | undefined> {
  return db.selectFrom('users').select(['id', 'display_name', 'email']).where('id', '=', id).executeTakeFirst();
}
