// How a rendered message leaves: SMTP through nodemailer when SMTP_URL is set, or, offline, the
// local mailbox (the outbox row itself is the mailbox: "sending" there only marks it delivered).
//
// For at-most-once delivery the sender must know whether a failed send may still have been
// delivered. An SMTP failure is DEFINITE (the message was certainly not accepted) when the server
// answered with a refusal code, or when no mail transaction began (the connection, greeting, TLS or
// login failed). A connection lost or timed out in the middle of a transaction is AMBIGUOUS: the
// server may have accepted the message just before — it is then never retried automatically.
import type { Transporter } from 'nodemailer';
import type { EmailConfig } from '../config.ts';
import type { EmailTransportName } from '../db/schema.ts';

export interface OutgoingEmail {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** `<outbox id@host>`: the same on every attempt, so a duplicate, if one ever happens, is recognisable. */
  messageId: string;
}

export interface EmailTransport {
  readonly name: EmailTransportName;
  send(email: OutgoingEmail): Promise<void>;
  close(): void;
}

export class EmailNotSent extends Error {
  constructor(
    message: string,
    readonly definite: boolean,
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'EmailNotSent';
  }
}

/** Timeouts well inside the sender's lease, so a hung server cannot outlive the claim. */
const TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 };

export function createSmtpTransport(smtpUrl: string): EmailTransport {
  // nodemailer (about 15 MB) is loaded with the first message: only the process that sends mail
  // (the worker) pays for it, and only when there is mail to send.
  let transporter: Transporter | undefined;
  const open = async () => (transporter ??= (await import('nodemailer')).default.createTransport({ url: smtpUrl, ...TIMEOUTS }));
  return {
    name: 'smtp',
    async send(email) {
      // Nothing was sent if nodemailer cannot even be loaded: a definite failure, tried again later.
      const smtp = await open().catch((error: unknown) => {
        throw new EmailNotSent(`could not load nodemailer: ${String(error)}`, true, false);
      });
      try {
        await smtp.sendMail({
          from: email.from,
          to: email.to,
          subject: email.subject,
          text: email.text,
          html: email.html,
          messageId: email.messageId,
          headers: { 'Auto-Submitted': 'auto-generated' },
        });
      } catch (error) {
        throw classifySmtpError(error);
      }
    },
    close: () => transporter?.close(),
  };
}

/** Offline: delivered means "kept for the mailbox page", which the row already does. */
export function createMailboxTransport(): EmailTransport {
  return { name: 'mailbox', async send() {}, close() {} };
}

/** SMTP when configured; the mailbox offline; otherwise none (messages wait in the outbox). */
export function transportFor(config: EmailConfig, mode: 'offline' | 'test' | 'live'): EmailTransport | undefined {
  if (config.smtpUrl !== undefined) return createSmtpTransport(config.smtpUrl);
  return mode === 'offline' ? createMailboxTransport() : undefined;
}

const NO_TRANSACTION_YET = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const SETUP_TIMEOUTS = new Set(['CONNECT_TIMEOUT', 'GREETING_TIMEOUT', 'UPGRADE_TIMEOUT']);
const REFUSED_BEFORE_SENDING = new Set(['EAUTH', 'EENVELOPE', 'EMESSAGE', 'EDNS', 'ETLS', 'EREQUIRETLS']);

export function classifySmtpError(error: unknown): EmailNotSent {
  const e = (error ?? {}) as { message?: string; code?: string; originalCode?: string; responseCode?: number; timeoutType?: string; command?: string };
  const what = `${e.code ?? 'error'}${e.command ? ` at ${e.command}` : ''}: ${String(e.message ?? error).slice(0, 500)}`;
  if (typeof e.responseCode === 'number') return new EmailNotSent(what, true, e.responseCode >= 500);
  if (e.originalCode !== undefined && NO_TRANSACTION_YET.has(e.originalCode)) return new EmailNotSent(what, true, false);
  if (e.timeoutType !== undefined && SETUP_TIMEOUTS.has(e.timeoutType)) return new EmailNotSent(what, true, false);
  if (e.code !== undefined && REFUSED_BEFORE_SENDING.has(e.code)) return new EmailNotSent(what, true, false);
  return new EmailNotSent(what, false, false);
}
