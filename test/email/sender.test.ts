// The outbox sender against a real SMTP server (smtp-server, started here) and real PostgreSQL:
// a message is delivered once with its Message-ID; a refusal is retried with backoff; a permanent
// refusal is given up; a worker killed after claiming leaves the message to be sent once by
// another; a worker killed after the server accepted the message never has it sent again; a
// connection lost mid-message is never retried (it may have arrived).
import { spawn } from 'node:child_process';
import { sql, type Kysely } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database, EmailOutboxRow } from '../../src/db/schema.ts';
import { enqueueEmail } from '../../src/email/outbox.ts';
import { sendDueEmails, type SenderOptions } from '../../src/email/sender.ts';
import { classifySmtpError, createSmtpTransport, type EmailTransport } from '../../src/email/transport.ts';
import { isPglite } from '../helpers/database.ts';
import { useDatabase } from '../helpers/fixture.ts';
import { waitFor } from '../helpers/webhooks.ts';
import { startHangUpAfterDataServer, startSmtpServer, type TestSmtpServer } from './smtp-server.ts';

const database = useDatabase();
let smtp: TestSmtpServer;
let transport: EmailTransport;
const sender: SenderOptions = { baseUrl: 'http://localhost:3000', from: 'Marketplace <no-reply@localhost>', backoffBaseMs: 60_000, jitter: 0 };

beforeAll(async () => {
  smtp = await startSmtpServer();
  transport = createSmtpTransport(smtp.url);
});
afterAll(async () => {
  transport?.close();
  await smtp?.close();
});
beforeEach(async () => {
  await database.db.deleteFrom('email_outbox').execute();
  smtp.received.length = 0;
  smtp.refuseNext(0, 451);
});

async function enqueueReceipt(db: Kysely<Database>, key = crypto.randomUUID()): Promise<EmailOutboxRow> {
  await db.transaction().execute((trx) =>
    enqueueEmail(trx, {
      template: 'order-receipt',
      to: 'buyer@example.test',
      dedupeKey: `test:${key}`,
      data: {
        orderId: key,
        title: 'Hand-thrown mug',
        quantity: 1,
        amount: 2_400,
        currency: 'usd',
        sellerName: 'Clay Studio',
        paidAt: '2026-11-29T14:05:00.000Z',
      },
    }),
  );
  return db.selectFrom('email_outbox').selectAll().where('dedupe_key', '=', `test:${key}`).executeTakeFirstOrThrow();
}

const row = (id: string) => database.db.selectFrom('email_outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const makeDue = (id: string) =>
  database.db
    .updateTable('email_outbox')
    .set({ next_attempt_at: sql<Date>`now()` })
    .where('id', '=', id)
    .execute();
const receivedWith = (id: string) => smtp.received.filter((m) => m.messageId === `<${id}@localhost>`);

describe('sending through SMTP', () => {
  it('delivers a message once, as text and HTML, with a Message-ID made from its outbox id', async () => {
    const message = await enqueueReceipt(database.db);
    const round = await sendDueEmails(database.db, transport, sender);
    expect(round.outcomes.sent).toBe(1);
    expect(smtp.received).toHaveLength(1);
    const mail = smtp.received[0]!;
    expect(mail.messageId).toBe(`<${message.id}@localhost>`);
    expect(mail.subject).toBe('Your receipt: Hand-thrown mug');
    expect(mail.from?.value).toEqual([{ name: 'Marketplace', address: 'no-reply@localhost' }]);
    expect(mail.text).toContain('Paid: $24.00');
    expect(mail.html).toContain('Thank you for your order');
    expect(mail.headers.get('auto-submitted')).toBe('auto-generated');

    const sent = await row(message.id);
    expect(sent).toMatchObject({ status: 'sent', attempts: 1, transport: 'smtp', subject: 'Your receipt: Hand-thrown mug', locked_by: null });
    expect(sent.sent_at).not.toBeNull();
    // Nothing is due any more.
    expect((await sendDueEmails(database.db, transport, sender)).claimed).toBe(0);
    expect(smtp.received).toHaveLength(1);
  });

  it('retries a message the server refused for now (451), with backoff, and delivers it once', async () => {
    smtp.refuseNext(2, 451);
    const message = await enqueueReceipt(database.db);
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 2; attempt++) {
      if (attempt > 1) await makeDue(message.id);
      expect((await sendDueEmails(database.db, transport, sender)).outcomes.failed).toBe(1);
      const failed = await row(message.id);
      expect(failed).toMatchObject({ status: 'failed', attempts: attempt, send_started_at: null });
      expect(failed.last_error).toContain('451');
      delays.push(failed.next_attempt_at.getTime() - failed.updated_at.getTime());
    }
    expect(delays).toEqual([60_000, 120_000]);
    // Not yet due: nothing happens.
    expect((await sendDueEmails(database.db, transport, sender)).claimed).toBe(0);
    await makeDue(message.id);
    expect((await sendDueEmails(database.db, transport, sender)).outcomes.sent).toBe(1);
    expect(await row(message.id)).toMatchObject({ status: 'sent', attempts: 3 });
    expect(receivedWith(message.id)).toHaveLength(1);
  });

  it('retries when the server cannot be reached, and stops after the last attempt', async () => {
    const message = await enqueueReceipt(database.db);
    const nowhere = createSmtpTransport('smtp://127.0.0.1:9');
    const options = { ...sender, maxAttempts: 2 };
    expect((await sendDueEmails(database.db, nowhere, options)).outcomes.failed).toBe(1);
    expect((await row(message.id)).last_error).toMatch(/ECONNREFUSED/);
    await makeDue(message.id);
    expect((await sendDueEmails(database.db, nowhere, options)).outcomes.dead).toBe(1);
    await makeDue(message.id);
    expect((await sendDueEmails(database.db, transport, options)).claimed).toBe(0);
    expect(await row(message.id)).toMatchObject({ status: 'dead', attempts: 2 });
  });

  it('gives up at once on a permanent refusal (550)', async () => {
    smtp.refuseNext(1, 550);
    const message = await enqueueReceipt(database.db);
    expect((await sendDueEmails(database.db, transport, sender)).outcomes.dead).toBe(1);
    expect(await row(message.id)).toMatchObject({ status: 'dead', attempts: 1 });
    expect(smtp.received).toHaveLength(0);
  });

  it('never resends a message whose connection dropped after it was handed over: it may have arrived', async () => {
    const hangUp = await startHangUpAfterDataServer();
    const dropping = createSmtpTransport(hangUp.url);
    try {
      const message = await enqueueReceipt(database.db);
      expect((await sendDueEmails(database.db, dropping, sender)).outcomes.unknown).toBe(1);
      expect(hangUp.messagesTaken()).toBe(1);
      const after = await row(message.id);
      expect(after.status).toBe('unknown');
      expect(after.last_error).toMatch(/^may have been delivered, so it is not sent again/);
      await makeDue(message.id);
      expect((await sendDueEmails(database.db, transport, sender)).claimed).toBe(0);
      expect(receivedWith(message.id)).toHaveLength(0);
    } finally {
      dropping.close();
      await hangUp.close();
    }
  });

  it('classifies failures: a reply code or no connection is certain; a lost connection mid-message is not', () => {
    expect(classifySmtpError({ code: 'EENVELOPE', responseCode: 451, command: 'RCPT TO' })).toMatchObject({ definite: true, permanent: false });
    expect(classifySmtpError({ code: 'EMESSAGE', responseCode: 554, command: 'DATA' })).toMatchObject({ definite: true, permanent: true });
    expect(classifySmtpError({ code: 'ESOCKET', originalCode: 'ECONNREFUSED', command: 'CONN' })).toMatchObject({ definite: true });
    expect(classifySmtpError({ code: 'ETIMEDOUT', timeoutType: 'GREETING_TIMEOUT', command: 'CONN' })).toMatchObject({ definite: true });
    expect(classifySmtpError({ code: 'ETIMEDOUT', timeoutType: 'SOCKET_TIMEOUT', command: 'CONN' })).toMatchObject({ definite: false });
    expect(classifySmtpError({ code: 'ECONNECTION', command: 'CONN' })).toMatchObject({ definite: false });
  });
});

describe.skipIf(isPglite())('a worker killed mid-send (real PostgreSQL: a second process)', () => {
  let children: ReturnType<typeof spawn>[] = [];
  afterEach(() => {
    for (const child of children) child.kill('SIGKILL');
    children = [];
  });

  async function childAt(stage: 'claimed' | 'sent', leaseMs: number): Promise<{ ids: string[]; workerId: string }> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/email/sender-child.ts', database.url!, smtp.url, String(leaseMs), stage], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    const announced = await new Promise<{ ids: string[]; workerId: string }>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /(?:CLAIMED|SENT) (\S+) (\S+)/.exec(out);
        if (match) resolve({ ids: match[1]!.split(','), workerId: match[2]! });
      });
      child.on('exit', (code) => reject(new Error(`child exited early with ${code}`)));
    });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    return announced;
  }

  it('killed after claiming, before sending: once the lease lapses another worker sends it, once', async () => {
    const message = await enqueueReceipt(database.db);
    const { ids, workerId } = await childAt('claimed', 1_000);
    expect(ids).toEqual([message.id]);
    expect(await row(message.id)).toMatchObject({ status: 'sending', locked_by: workerId, send_started_at: null, attempts: 1 });

    // While the dead worker's lease runs, nobody takes the message; after it, we do.
    expect((await sendDueEmails(database.db, transport, sender)).claimed).toBe(0);
    await waitFor(async () => (await sendDueEmails(database.db, transport, sender)).outcomes.sent === 1);
    expect(await row(message.id)).toMatchObject({ status: 'sent', attempts: 2 });
    expect(receivedWith(message.id)).toHaveLength(1);
  });

  it('killed after the server accepted it, before recording that: it is never sent again (at most once)', async () => {
    const message = await enqueueReceipt(database.db);
    const { ids, workerId } = await childAt('sent', 1_000);
    expect(ids).toEqual([message.id]);
    expect(receivedWith(message.id)).toHaveLength(1);
    const stuck = await row(message.id);
    expect(stuck).toMatchObject({ status: 'sending', locked_by: workerId });
    expect(stuck.send_started_at).not.toBeNull();

    // Once its lease lapses, the message is recorded as possibly delivered, and left alone.
    await waitFor(async () => (await sendDueEmails(database.db, transport, sender)).abandoned === 1 || (await row(message.id)).status !== 'sending');
    expect(receivedWith(message.id)).toHaveLength(1);
    const settled = await row(message.id);
    expect(settled.status).toBe('unknown');
    expect(settled.last_error).toContain('may have been delivered');
    await makeDue(message.id);
    expect((await sendDueEmails(database.db, transport, sender)).claimed).toBe(0);
    expect(receivedWith(message.id)).toHaveLength(1);
  });

  it('two workers sharing 60 messages deliver each exactly once', async () => {
    const messages = await Promise.all(Array.from({ length: 60 }, () => enqueueReceipt(database.db)));
    const other = createSmtpTransport(smtp.url);
    try {
      const options = { ...sender, batchSize: 7 };
      const drain = async (t: EmailTransport) => {
        while ((await sendDueEmails(database.db, t, options)).claimed > 0) {
          /* next batch */
        }
      };
      await Promise.all([drain(transport), drain(other)]);
    } finally {
      other.close();
    }
    for (const message of messages) expect(receivedWith(message.id)).toHaveLength(1);
    const statuses = await database.db
      .selectFrom('email_outbox')
      .select(['status', sql<number>`count(*)::int`.as('n')])
      .groupBy('status')
      .execute();
    expect(statuses).toEqual([{ status: 'sent', n: 60 }]);
  });
});
