// Tells every web process that the catalogue changed, so its short cache of catalogue pages
// (src/listings/catalogue-cache.ts) is dropped at once, whichever process made the change (a
// seller's edit, an order taking stock, an account event, an admin): statement triggers NOTIFY
// `catalogue_changed` on writes to what a catalogue page shows. PostgreSQL sends it when the
// writing transaction commits and folds repeats within one transaction into one.
import { sql, type Kysely } from 'kysely';

const TABLES = ['listings', 'sellers', 'listing_images'] as const;

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function catalogue_notify_changed() returns trigger language plpgsql as $$
    begin
      perform pg_notify('catalogue_changed', '');
      return null;
    end $$`.execute(db);
  for (const table of TABLES) {
    await sql`
      create trigger ${sql.raw(`${table}_catalogue_notify`)}
        after insert or update or delete on ${sql.table(table)}
        for each statement execute function catalogue_notify_changed()`.execute(db);
  }
  // The seller's name on each card is their display name.
  await sql`
    create trigger users_catalogue_notify
      after update of display_name on users
      for each statement execute function catalogue_notify_changed()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger users_catalogue_notify on users`.execute(db);
  for (const table of TABLES) await sql`drop trigger ${sql.raw(`${table}_catalogue_notify`)} on ${sql.table(table)}`.execute(db);
  await sql`drop function catalogue_notify_changed()`.execute(db);
}
