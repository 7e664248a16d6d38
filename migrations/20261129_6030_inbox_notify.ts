// Wakes every worker the moment an event becomes due, whichever process wrote it (a web process, a
// backfill, an admin's replay): a trigger NOTIFYs `stripe_events_pending` whenever a row becomes
// `pending`, and workers LISTEN (src/worker/worker.ts, through src/db/notifications.ts). PostgreSQL delivers the
// notification when the writing transaction commits, so a woken worker always finds the row, and
// folds duplicates within one transaction into one. The workers' poll stays as the fallback.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function stripe_events_notify_pending() returns trigger language plpgsql as $$
    begin
      perform pg_notify('stripe_events_pending', '');
      return null;
    end $$`.execute(db);
  await sql`
    create trigger stripe_events_pending_notify
      after insert or update of status on stripe_events
      for each row when (new.status = 'pending')
      execute function stripe_events_notify_pending()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger stripe_events_pending_notify on stripe_events`.execute(db);
  await sql`drop function stripe_events_notify_pending()`.execute(db);
}
