// A worker in its own process, for the crash tests. It claims the due messages (lease `leaseMs`) and
// then, depending on `stage`:
//   claimed  announces CLAIMED and hangs: it dies before starting any send;
//   sent     sends the first one through the real sender and SMTP, announces SENT once the server
//            has accepted it, and hangs before the sender can record it: it dies mid-window.
// Usage: node --import tsx test/email/sender-child.ts <database url> <smtp url> <lease ms> <claimed|sent>
import { connectPostgres } from '../../src/db/connect.ts';
import { claimDueEmails } from '../../src/email/outbox.ts';
import { resolveSenderOptions, sendClaimedEmail } from '../../src/email/sender.ts';
import { createSmtpTransport, type EmailTransport } from '../../src/email/transport.ts';

const [url, smtpUrl, leaseMs, stage] = process.argv.slice(2);
const database = connectPostgres(url!, { max: 2 });
const options = resolveSenderOptions({ baseUrl: 'http://localhost:3000', from: 'Marketplace <no-reply@localhost>', leaseMs: Number(leaseMs) });
const claimed = await claimDueEmails(database.db, options);
if (stage === 'claimed') {
  process.stdout.write(`CLAIMED ${claimed.map((m) => m.id).join(',')} ${options.workerId}\n`);
} else {
  const smtp = createSmtpTransport(smtpUrl!);
  const crashingAfterDelivery: EmailTransport = {
    name: 'smtp',
    async send(email) {
      await smtp.send(email);
      process.stdout.write(`SENT ${claimed[0]!.id} ${options.workerId}\n`);
      await new Promise(() => {}); // the parent kills us here: delivered, never confirmed
    },
    close() {},
  };
  await sendClaimedEmail(database.db, crashingAfterDelivery, claimed[0]!, options);
}
await new Promise(() => {});
