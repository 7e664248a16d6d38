// The worker's email sender as the configuration asks for it, or undefined (with a warning) when
// there is nowhere to send: test or live mode without SMTP_URL keeps messages in the outbox.
import type { Config } from '../config.ts';
import type { SenderLogger, SenderOptions } from './sender.ts';
import { transportFor, type EmailTransport } from './transport.ts';

export type EmailWorkerOptions = SenderOptions & { transport: EmailTransport };

export function emailSenderFor(config: Config, log?: Pick<SenderLogger, 'warn'>): EmailWorkerOptions | undefined {
  const transport = transportFor(config.email, config.stripe.mode);
  if (transport === undefined) {
    log?.warn({}, 'SMTP_URL is not set: emails are kept in the outbox and sent once it is');
    return undefined;
  }
  return { transport, baseUrl: config.publicUrl, from: config.email.from };
}
