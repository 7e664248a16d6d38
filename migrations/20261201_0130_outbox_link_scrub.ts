// Emailed links are secrets, and the outbox held them in plain text for good (review #5). The
// tokens tables keep only a SHA-256 of each secret (20261130_1616_account_tokens), but the message
// that carries the link kept the whole `<id>.<secret>` in `data` (resetPath, confirmPath) and, once
// rendered, in `text_body` and `html_body`: anyone who could read the database, a backup or a
// replica could reset a password or confirm an email change with it.
//
// Now the token is replaced by `[removed]` the moment the message will not be sent again: sent,
// dead (given up) or unknown (maybe delivered; never resent). Until then the sender needs it. A
// trigger does it, so every path that ends a message (the sender's steps, a lapsed lease found
// later, an account deletion giving up its messages) scrubs without having to remember to.
// Messages kept for the offline mailbox (transport `mailbox`, in offline mode only) are left
// whole: there the row IS the delivered message, and the person trying the product reads the link
// from it. Rows already finished are scrubbed here too.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function email_outbox_scrub_link() returns trigger language plpgsql as $$
    declare
      field text := case new.template when 'password-reset' then 'resetPath' else 'confirmPath' end;
      token text := substring(new.data ->> field from 'token=([^&#]+)');
    begin
      if token is not null then
        new.data := jsonb_set(new.data, array[field], to_jsonb(replace(new.data ->> field, token, '[removed]')));
        new.text_body := replace(new.text_body, token, '[removed]');
        new.html_body := replace(new.html_body, token, '[removed]');
      end if;
      return new;
    end $$`.execute(db);
  await sql`
    create trigger email_outbox_scrub_link before insert or update on email_outbox
    for each row
    when (new.template in ('password-reset', 'email-change-confirm')
          and new.status in ('sent', 'dead', 'unknown')
          and new.transport is distinct from 'mailbox')
    execute function email_outbox_scrub_link()`.execute(db);
  // Fires the trigger on every finished link message there already is.
  await sql`
    update email_outbox set updated_at = updated_at
    where template in ('password-reset', 'email-change-confirm') and status in ('sent', 'dead', 'unknown')
      and transport is distinct from 'mailbox'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger email_outbox_scrub_link on email_outbox`.execute(db);
  await sql`drop function email_outbox_scrub_link()`.execute(db);
}
