import { sql, type Kysely } from 'kysely';
import type { Database, Role, User } from '../db/schema.ts';
import { hashPassword, verifyDecoy, verifyPassword } from './passwords.ts';

export type CreateUserResult = { ok: true; user: User } | { ok: false; reason: 'email_taken' };

export async function createUser(
  db: Kysely<Database>,
  input: { email: string; password: string; role: Role; displayName: string },
): Promise<CreateUserResult> {
  const passwordHash = await hashPassword(input.password);
  // The unique index on lower(email) decides races between two sign-ups with the same address.
  const user = await db
    .insertInto('users')
    .values({ email: input.email.trim(), password_hash: passwordHash, role: input.role, display_name: input.displayName.trim() })
    .onConflict((oc) => oc.expression(sql`lower(email)`).doNothing())
    .returningAll()
    .executeTakeFirst();
  return user === undefined ? { ok: false, reason: 'email_taken' } : { ok: true, user };
}

export function findUserByEmail(db: Kysely<Database>, email: string): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where(sql<string>`lower(email)`, '=', email.trim().toLowerCase()).executeTakeFirst();
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
