// A suspension or a takedown (migrations/20261130_1636_moderation.ts) changes what the catalogue
// shows, so writes to them NOTIFY `catalogue_changed` like writes to listings do
// (migrations/20261130_1717_catalogue_notify.ts): the web processes' cached pages drop at once.
import { sql, type Kysely } from 'kysely';

const TABLES = ['seller_suspensions', 'listing_takedowns'] as const;

export async function up(db: Kysely<any>): Promise<void> {
  for (const table of TABLES) {
    await sql`
      create trigger ${sql.raw(`${table}_catalogue_notify`)}
        after insert or update or delete on ${sql.table(table)}
        for each statement execute function catalogue_notify_changed()`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of TABLES) await sql`drop trigger ${sql.raw(`${table}_catalogue_notify`)} on ${sql.table(table)}`.execute(db);
}
