// Emailed links are secrets: a password-reset or email-change token in the outbox signs whoever
// reads the database in as its owner (review #5). The tokens tables keep only hashes; the outbox
// keeps the link only while the message may still be sent. Once it is sent, given up (dead) or
// possibly delivered (unknown), its data and rendered bodies no longer hold the token. Real SMTP
// servers (smtp-server, and one that hangs up mid-message), real PostgreSQL, the real app.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmailOutboxRow } from '../../src/db/schema.ts';
import { sendDueEmails, type SenderOptions } from '../../src/email/sender.ts';
import { createMailboxTransport, createSmtpTransport, type EmailTransport } from '../../src/email/transport.ts';
import { TEST_PASSWORD, TestClient } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';
import { startHangUpAfterDataServer, startSmtpServer, type TestSmtpServer } from './smtp-server.ts';

const w = useWorld();
const sender: SenderOptions = { baseUrl: 'http://localhost:3000', from: 'Marketplace <no-reply@localhost>', jitter: 0 };
let smtp: TestSmtpServer;
let transport: EmailTransport;
beforeAll(async () => {
  smtp = await startSmtpServer();
  transport = createSmtpTransport(smtp.url);
});
afterAll(async () => {
  transport?.close();
  await smtp?.close();
});

const TOKEN = /token=([a-z2-7]{24})\.([a-z2-7]{24})/;

async function messageTo(address: string, template: string): Promise<EmailOutboxRow> {
  return w.db.selectFrom('email_outbox').selectAll().where('to_address', '=', address).where('template', '=', template).executeTakeFirstOrThrow();
}

/** The link's token as the message holds it now (data), or undefined once scrubbed. */
function tokenIn(row: EmailOutboxRow): { id: string; secret: string } | undefined {
  const match = TOKEN.exec(JSON.stringify(row.data));
  return match === null ? undefined : { id: match[1]!, secret: match[2]! };
}

describe('a reset link', () => {
  it('is delivered, then the outbox keeps no copy of it; the link still works', async () => {
    const user = await w.signIn('buyer');
    await new TestClient(w.app, '10.77.0.1').post('/password-reset', { email: user.email });
    const queued = await messageTo(user.email, 'password-reset');
    const token = tokenIn(queued);
    expect(token).toBeDefined(); // needed until it is sent

    expect((await sendDueEmails(w.db, transport, sender)).outcomes.sent).toBe(1);
    const mail = smtp.received.find((m) => m.messageId === `<${queued.id}@localhost>`)!;
    expect(TOKEN.exec(mail.text ?? '')?.[0]).toBe(`token=${token!.id}.${token!.secret}`);

    const sent = await messageTo(user.email, 'password-reset');
    expect(sent.status).toBe('sent');
    expect(JSON.stringify(sent)).not.toContain(token!.secret);
    expect(sent.text_body).toContain('/password-reset/new?token=');
    expect(sent.html_body).not.toBeNull();

    const reset = await new TestClient(w.app).post('/password-reset/new', { token: `${token!.id}.${token!.secret}`, password: 'quartz-lantern-meadow-47' });
    expect([reset.statusCode, reset.location]).toEqual([303, '/login']);
  });
});

describe('an email-change link', () => {
  it('refused for good (dead) or lost mid-send (unknown): no copy either', async () => {
    const { client } = await w.signIn('buyer');
    const refusedAt = `refused-${Date.now()}@example.test`;
    const lostAt = `lost-${Date.now()}@example.test`;

    await client.post('/account/email', { email: refusedAt, currentPassword: TEST_PASSWORD });
    const secret = tokenIn(await messageTo(refusedAt, 'email-change-confirm'))!.secret;
    smtp.refuseNext(1, 550);
    expect((await sendDueEmails(w.db, transport, sender)).outcomes.dead).toBe(1);
    const dead = await messageTo(refusedAt, 'email-change-confirm');
    expect(dead.status).toBe('dead');
    expect(JSON.stringify(dead)).not.toContain(secret);

    await client.post('/account/email', { email: lostAt, currentPassword: TEST_PASSWORD });
    const lostSecret = tokenIn(await messageTo(lostAt, 'email-change-confirm'))!.secret;
    const hangUp = await startHangUpAfterDataServer();
    const dropping = createSmtpTransport(hangUp.url);
    try {
      expect((await sendDueEmails(w.db, dropping, sender)).outcomes.unknown).toBe(1);
    } finally {
      dropping.close();
      await hangUp.close();
    }
    const unknown = await messageTo(lostAt, 'email-change-confirm');
    expect(unknown.status).toBe('unknown');
    expect(JSON.stringify(unknown)).not.toContain(lostSecret);
  });
});

describe('the offline mailbox', () => {
  it('keeps the link: there the outbox row is the delivered message', async () => {
    const user = await w.signIn('buyer');
    await new TestClient(w.app, '10.77.0.2').post('/password-reset', { email: user.email });
    const secret = tokenIn(await messageTo(user.email, 'password-reset'))!.secret;
    expect((await sendDueEmails(w.db, createMailboxTransport(), sender)).outcomes.sent).toBe(1);
    const kept = await messageTo(user.email, 'password-reset');
    expect(kept.transport).toBe('mailbox');
    expect(kept.text_body).toContain(secret);
  });
});
