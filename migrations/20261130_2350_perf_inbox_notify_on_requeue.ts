// New events no longer NOTIFY from inside their INSERT: PostgreSQL holds one cluster-wide lock from
// a notifying transaction's commit until its WAL is flushed, so the trigger on every webhook's
// INSERT made those commits run one at a time (~120 inserts/s instead of ~800 with ten
// connections). Whoever inserts pending events NOTIFYs after committing instead, one NOTIFY for
// many (src/webhooks/inbox.ts notifyPendingEvents, src/webhooks/announce.ts). The trigger stays for
// an event sent back to the queue by an UPDATE (an admin's replay): rare, and any connection may do it.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`drop trigger stripe_events_pending_notify on stripe_events`.execute(db);
  await sql`
    create trigger stripe_events_requeued_notify
      after update of status on stripe_events
      for each row when (new.status = 'pending' and old.status is distinct from 'pending')
      execute function stripe_events_notify_pending()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger stripe_events_requeued_notify on stripe_events`.execute(db);
  await sql`
    create trigger stripe_events_pending_notify
      after insert or update of status on stripe_events
      for each row when (new.status = 'pending')
      execute function stripe_events_notify_pending()`.execute(db);
}
