// The email outbox's SQL: enqueueing (inside the transaction of the change that causes the
// message), and the sender's claim, start, confirm and failure steps. See
// migrations/20261129_5100_email_outbox.ts for the states and src/email/sender.ts for why each
// step is its own commit. A message carrying a link token (password reset, email change) has the
// token scrubbed by a trigger once it is sent, dead or unknown (migrations/20261201_0130_outbox_link_scrub.ts).
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database, EmailOutboxRow } from '../db/schema.ts';
import type { EmailTemplateName, EmailTemplates, RenderedEmail } from './templates.ts';

export interface EmailToEnqueue<T extends EmailTemplateName> {
  template: T;
  to: string;
  data: EmailTemplates[T];
  /** What caused it, uniquely (`order:<id>:receipt`): the same cause never makes a second message. */
  dedupeKey: string;
}

/**
 * Adds a message to the outbox. Takes a Transaction on purpose: the message must commit or roll
 * back with the change it reports, so a receipt never goes out for a payment that rolled back, and
 * none is lost for one that committed. Returns false when this cause already has its message.
 */
export async function enqueueEmail<T extends EmailTemplateName>(trx: Transaction<Database>, message: EmailToEnqueue<T>): Promise<boolean> {
  const inserted = await trx
    .insertInto('email_outbox')
    .values({
      dedupe_key: message.dedupeKey,
      template: message.template,
      to_address: message.to,
      data: JSON.stringify(message.data),
    })
    .onConflict((oc) => oc.column('dedupe_key').doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}

/**
 * For code that receives a `Kysely` which its callers always open as a transaction (the webhook
 * handlers' and use cases'): the same object, typed as what it is, or an error naming the mistake.
 */
export function requireTransaction(db: Kysely<Database>): Transaction<Database> {
  if (!db.isTransaction) throw new Error('an email must be enqueued inside the transaction of the change that causes it');
  return db as Transaction<Database>;
}

export type ClaimedEmail = Pick<EmailOutboxRow, 'id' | 'template' | 'to_address' | 'data' | 'attempts'>;

/**
 * Claims due messages for `workerId`: pending ones, failed ones whose backoff is over, and claims
 * whose lease lapsed BEFORE their send began (the worker died holding them; nothing went out).
 */
export async function claimDueEmails(db: Kysely<Database>, options: { workerId: string; batchSize: number; leaseMs: number }): Promise<ClaimedEmail[]> {
  const lease = `${options.leaseMs} milliseconds`;
  const result = await sql<ClaimedEmail>`
    with due as (
      select id from email_outbox
      where status in ('pending', 'failed', 'sending') and next_attempt_at <= now()
        and (status <> 'sending' or send_started_at is null)
      order by next_attempt_at
      limit ${options.batchSize}
      for update skip locked
    )
    update email_outbox m
       set status = 'sending',
           attempts = m.attempts + 1,
           locked_by = ${options.workerId},
           locked_until = now() + ${lease}::interval,
           next_attempt_at = now() + ${lease}::interval,
           updated_at = now()
      from due
     where m.id = due.id
    returning m.id, m.template, m.to_address, m.data, m.attempts`.execute(db);
  return result.rows;
}

/**
 * Messages whose send began but was never confirmed, by a worker whose lease has lapsed (it died or
 * hung mid-send). They may have been delivered: they become `unknown` and are never sent again.
 */
export async function markAbandonedSendsUnknown(db: Kysely<Database>): Promise<number> {
  const result = await db
    .updateTable('email_outbox')
    .set({
      status: 'unknown',
      last_error:
        'the worker stopped after handing the message to the mail server and before it was confirmed; it may have been delivered, so it is not sent again',
      locked_until: null,
      updated_at: sql<Date>`now()`, // locked_by stays: who was sending it
    })
    .where('status', '=', 'sending')
    .where('send_started_at', 'is not', null)
    .where('locked_until', '<=', sql<Date>`now()`)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

type Claim = Pick<ClaimedEmail, 'id' | 'attempts'> & { workerId: string };

/** The row is still held by this claim: the same worker and the same attempt (no claim came after it). */
function claimedBy(claim: Claim) {
  return { id: claim.id, locked_by: claim.workerId, attempts: claim.attempts };
}

/**
 * The point of no return, committed before the message is handed over: the claim must still be
 * ours and unexpired. Keeps what is being sent (subject, bodies, Message-ID) with the row.
 */
export async function markSendStarted(
  db: Kysely<Database>,
  claim: Claim,
  sending: RenderedEmail & { transport: 'smtp' | 'mailbox'; messageId: string },
): Promise<boolean> {
  const row = await db
    .updateTable('email_outbox')
    .set({
      send_started_at: sql<Date>`clock_timestamp()`,
      subject: sending.subject,
      text_body: sending.text,
      html_body: sending.html,
      transport: sending.transport,
      message_id: sending.messageId,
      updated_at: sql<Date>`now()`,
    })
    .where((eb) => eb.and(claimedBy(claim)))
    .where('status', '=', 'sending')
    .where('locked_until', '>', sql<Date>`clock_timestamp()`)
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/** Delivered. Also from `unknown`: a send slower than its lease that did complete is still a send. */
export async function markSent(db: Kysely<Database>, claim: Claim): Promise<boolean> {
  const row = await db
    .updateTable('email_outbox')
    .set({
      status: 'sent',
      sent_at: sql<Date>`clock_timestamp()`,
      last_error: null,
      locked_by: null,
      locked_until: null,
      updated_at: sql<Date>`now()`,
    })
    .where((eb) => eb.and(claimedBy(claim)))
    .where('status', 'in', ['sending', 'unknown'])
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Not delivered, for certain: `failed` and due again after `delayMs`, or `dead` (given up). The send
 * never happened, so the point of no return is cleared and the next claim may send it.
 */
export async function markNotSent(
  db: Kysely<Database>,
  claim: Claim,
  outcome: { status: 'failed' | 'dead'; error: string; delayMs: number },
): Promise<boolean> {
  const row = await db
    .updateTable('email_outbox')
    .set({
      status: outcome.status,
      last_error: outcome.error,
      send_started_at: null,
      next_attempt_at: sql<Date>`now() + ${`${outcome.delayMs} milliseconds`}::interval`,
      locked_by: null,
      locked_until: null,
      updated_at: sql<Date>`now()`,
    })
    .where((eb) => eb.and(claimedBy(claim)))
    .where('status', '=', 'sending')
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/** The mail server may or may not have taken it (the connection dropped mid-send): never resent. */
export async function markUnknown(db: Kysely<Database>, claim: Claim, error: string): Promise<boolean> {
  const row = await db
    .updateTable('email_outbox')
    .set({
      status: 'unknown',
      last_error: error,
      locked_until: null,
      updated_at: sql<Date>`now()`,
    })
    .where((eb) => eb.and(claimedBy(claim)))
    .where('status', '=', 'sending')
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

export async function listOutbox(db: Kysely<Database>, limit = 100): Promise<EmailOutboxRow[]> {
  return db.selectFrom('email_outbox').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
}

export async function findOutboxMessage(db: Kysely<Database>, id: string): Promise<EmailOutboxRow | undefined> {
  return db.selectFrom('email_outbox').selectAll().where('id', '=', id).executeTakeFirst();
}
