// Sends the outbox. Any number of workers may run this: claims use FOR UPDATE SKIP LOCKED with a
// lease, as the webhook inbox does.
//
// At most once per message, across crashes. Each message goes through three commits:
//   1. claim      status `sending`, attempts + 1, a lease (locked_by, locked_until);
//   2. start      send_started_at = now, with the rendered subject and bodies — only while the lease
//                 is still ours and unexpired;
//   3. confirm    `sent` once the mail server has accepted it.
// A worker that dies between 1 and 2 sent nothing: when its lease lapses, the message is claimed
// again and sent once. A worker that dies between 2 and 3 may have sent it: the message becomes
// `unknown` when the lease lapses and is never sent again automatically. That window — from the
// start commit to the confirm commit, one SMTP transaction long (bounded by the transport's
// timeouts, well inside the lease) — is where a crash can lose a message; nothing can make one go
// out twice. A send that fails for certain (the server refused it, or no connection was made) is
// retried with exponential backoff, and after `maxAttempts` (or a permanent 5xx refusal) is `dead`.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { backoffMs, newWorkerId, startPollingLoop, type PollingLoop } from '../jobs/polling-loop.ts';
import { claimDueEmails, markAbandonedSendsUnknown, markNotSent, markSendStarted, markSent, markUnknown, type ClaimedEmail } from './outbox.ts';
import { renderEmail } from './templates.ts';
import { EmailNotSent, type EmailTransport } from './transport.ts';

export interface SenderOptions {
  /** The site's public address: links in messages, and the Message-ID's domain. */
  baseUrl: string;
  from: string;
  workerId?: string;
  batchSize?: number;
  /** How long a claim is ours; must exceed one send's worst case (the SMTP timeouts). */
  leaseMs?: number;
  maxAttempts?: number;
  /** Retry n waits backoffBaseMs · 2^(n-1), capped at backoffMaxMs, plus up to `jitter` of it. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  jitter?: number;
}

type Resolved = Required<SenderOptions>;

export function resolveSenderOptions(options: SenderOptions): Resolved {
  return {
    baseUrl: options.baseUrl,
    from: options.from,
    workerId: options.workerId ?? newWorkerId(),
    batchSize: options.batchSize ?? 20,
    leaseMs: options.leaseMs ?? 120_000,
    maxAttempts: options.maxAttempts ?? 8,
    backoffBaseMs: options.backoffBaseMs ?? 60_000,
    backoffMaxMs: options.backoffMaxMs ?? 6 * 3600_000,
    jitter: options.jitter ?? 0.1,
  };
}

export type SendOutcome = 'sent' | 'failed' | 'dead' | 'unknown' | 'lost';

export interface SendBatchResult {
  claimed: number;
  outcomes: Record<SendOutcome, number>;
  /** Messages found abandoned mid-send by a worker that stopped, now `unknown`. */
  abandoned: number;
}

/** One round: settle abandoned sends, claim a batch, send each in turn. */
export async function sendDueEmails(db: Kysely<Database>, transport: EmailTransport, options: SenderOptions): Promise<SendBatchResult> {
  const resolved = resolveSenderOptions(options);
  const abandoned = await markAbandonedSendsUnknown(db);
  const claimed = await claimDueEmails(db, resolved);
  const outcomes: Record<SendOutcome, number> = { sent: 0, failed: 0, dead: 0, unknown: 0, lost: 0 };
  // One at a time: a mail server is kinder to one steady connection than to a burst.
  for (const message of claimed) outcomes[await sendClaimedEmail(db, transport, message, resolved)] += 1;
  return { claimed: claimed.length, outcomes, abandoned };
}

export async function sendClaimedEmail(db: Kysely<Database>, transport: EmailTransport, message: ClaimedEmail, options: Resolved): Promise<SendOutcome> {
  const claim = { id: message.id, attempts: message.attempts, workerId: options.workerId };
  let rendered;
  try {
    rendered = renderEmail(message.template, message.data, { baseUrl: options.baseUrl });
  } catch (error) {
    return notSent(db, claim, new EmailNotSent(`could not render: ${error instanceof Error ? error.message : String(error)}`, true, false), options);
  }
  const messageId = `<${message.id}@${new URL(options.baseUrl).hostname}>`;
  if (!(await markSendStarted(db, claim, { ...rendered, transport: transport.name, messageId }))) return 'lost';

  try {
    await transport.send({ from: options.from, to: message.to_address, subject: rendered.subject, text: rendered.text, html: rendered.html, messageId });
  } catch (error) {
    const failure = error instanceof EmailNotSent ? error : new EmailNotSent(error instanceof Error ? error.message : String(error), false, false);
    if (!failure.definite) {
      return (await markUnknown(db, claim, `may have been delivered, so it is not sent again: ${failure.message}`)) ? 'unknown' : 'lost';
    }
    return notSent(db, claim, failure, options);
  }
  return (await markSent(db, claim)) ? 'sent' : 'lost';
}

async function notSent(
  db: Kysely<Database>,
  claim: { id: string; attempts: number; workerId: string },
  failure: EmailNotSent,
  options: Resolved,
): Promise<SendOutcome> {
  const dead = failure.permanent || claim.attempts >= options.maxAttempts;
  const delayMs = dead ? 0 : backoffMs(claim.attempts, options);
  const updated = await markNotSent(db, claim, { status: dead ? 'dead' : 'failed', error: failure.message.slice(0, 2000), delayMs });
  return !updated ? 'lost' : dead ? 'dead' : 'failed';
}

export interface SenderLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export type RunningSender = PollingLoop;

/** The worker's email loop: a round whenever woken or every `pollMs`; slower while the database is away. */
export function startEmailSender(
  db: Kysely<Database>,
  transport: EmailTransport,
  options: SenderOptions & { pollMs?: number; log?: SenderLogger },
): RunningSender {
  const resolved = resolveSenderOptions(options);
  const pollMs = options.pollMs ?? 2000;
  const loop = startPollingLoop({
    pollMs,
    errorSleepMs: Math.max(pollMs, 5000),
    round: async () => {
      const round = await sendDueEmails(db, transport, resolved);
      const { failed, dead, unknown } = round.outcomes;
      if (failed + dead + unknown + round.abandoned > 0) options.log?.warn({ ...round.outcomes, abandoned: round.abandoned }, 'some emails were not sent');
      return round.claimed >= resolved.batchSize;
    },
    onError: (error) => options.log?.error({ err: error }, 'email sender: could not read the outbox'),
  });
  return {
    wake: () => loop.wake(),
    async stop() {
      await loop.stop();
      transport.close();
    },
  };
}
