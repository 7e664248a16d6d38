// The one Database interface: every table the app reads or writes, as Kysely sees it.
// Migrations in ../../migrations create these tables; keep the two in step.
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/** A timestamp column the database fills in; Date when read, optional when written. */
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;

export type Role = 'buyer' | 'seller' | 'admin';

export interface UsersTable {
  id: Generated<string>;
  /** Stored as typed; uniqueness and look-ups use lower(email). */
  email: string;
  password_hash: string;
  role: Role;
  display_name: string;
  created_at: CreatedAt;
}

export interface SessionsTable {
  /** Public half of the session token; the secret half is only ever stored as a SHA-256 hash. */
  id: string;
  user_id: string;
  secret_hash: Uint8Array;
  created_at: CreatedAt;
  expires_at: Timestamp;
}

export interface LoginAttemptsTable {
  id: Generated<number>;
  /** `email:<lowercased>` or `ip:<address>`: one row per failed attempt under each key. */
  throttle_key: string;
  attempted_at: CreatedAt;
}

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  login_attempts: LoginAttemptsTable;
}

export type User = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;
export type Session = Selectable<SessionsTable>;
