// Offline, the worker delivers messages to the local mailbox, and /dev/mailbox shows them — to a
// browser on this machine only, and only in offline mode.
import type Stripe from 'stripe';
import { beforeAll, describe, expect, it } from 'vitest';
import { enqueueEmail } from '../../src/email/outbox.ts';
import { emailSenderFor } from '../../src/email/setup.ts';
import { startWorker } from '../../src/worker/worker.ts';
import { buildTestApp, TestClient, testConfig } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';
import { waitFor } from '../helpers/webhooks.ts';

const w = useWorld();
let messageId: string;

beforeAll(async () => {
  await w.db.transaction().execute((trx) =>
    enqueueEmail(trx, {
      template: 'order-receipt',
      to: 'ada@example.test',
      dedupeKey: 'test:mailbox',
      data: {
        orderId: '6f1c2a8e-1d2b-4c3d-9e8f-0a1b2c3d4e5f',
        title: 'Mug & <saucer>',
        quantity: 1,
        amount: 2_400,
        currency: 'usd',
        sellerName: 'Clay Studio',
        paidAt: '2026-11-29T14:05:00.000Z',
      },
    }),
  );
  messageId = (await w.db.selectFrom('email_outbox').select('id').executeTakeFirstOrThrow()).id;

  // The worker as `npm start` runs it offline: the inbox loop with the email sender beside it.
  const email = emailSenderFor(w.config);
  expect(email?.transport.name).toBe('mailbox');
  const worker = startWorker(w.db, null as unknown as Stripe, {
    livemode: false,
    backfillEveryMs: null,
    pollMs: 50,
    email: { ...email!, workerId: 'test-worker' },
  });
  try {
    worker.wake();
    await waitFor(async () => (await w.db.selectFrom('email_outbox').select('status').where('id', '=', messageId).executeTakeFirstOrThrow()).status === 'sent');
  } finally {
    await worker.stop();
  }
});

const local = () => new TestClient(w.app, '127.0.0.1');

describe('the offline mailbox', () => {
  it('the worker delivers to it: the message is sent, rendered and kept', async () => {
    const row = await w.db.selectFrom('email_outbox').selectAll().where('id', '=', messageId).executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      status: 'sent',
      transport: 'mailbox',
      attempts: 1,
      subject: 'Your receipt: Mug & <saucer>',
      message_id: `<${messageId}@localhost>`,
    });
    expect(row.text_body).toContain('Paid: $24.00');
  });

  it('lists what was sent, and shows a message with its text and its HTML in a locked-down frame', async () => {
    const list = await local().get('/dev/mailbox');
    expect(list.statusCode).toBe(200);
    expect(list.body).toContain('ada@example.test');
    expect(list.body).toContain(`<a href="/dev/mailbox/${messageId}">Your receipt: Mug &amp; &lt;saucer&gt;</a>`);

    const page = await local().get(`/dev/mailbox/${messageId}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Sold by: Clay Studio');
    expect(page.body).toContain(`<iframe class="mail-html" src="/dev/mailbox/${messageId}/html" title="The email as HTML" sandbox></iframe>`);

    const html = await local().get(`/dev/mailbox/${messageId}/html`);
    expect(html.statusCode).toBe(200);
    expect(html.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(html.headers['content-security-policy']).toBe(
      "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'self'; sandbox",
    );
    expect(html.body).toContain('Mug &amp; &lt;saucer&gt;');
  });

  it('the offline banner points to it', async () => {
    expect((await local().get('/')).body).toContain('Emails go to the <a href="/dev/mailbox">local mailbox</a>.');
  });

  it('is not there for another machine, a proxied request, or a page that points its own name at this machine', async () => {
    expect((await new TestClient(w.app, '10.0.0.5').get('/dev/mailbox')).statusCode).toBe(404);
    expect((await new TestClient(w.app, '192.168.1.20').get(`/dev/mailbox/${messageId}/html`)).statusCode).toBe(404);
    const proxied = await w.app.inject({ method: 'GET', url: '/dev/mailbox', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(proxied.statusCode).toBe(404);
    const forwarded = await w.app.inject({ method: 'GET', url: '/dev/mailbox', remoteAddress: '127.0.0.1', headers: { forwarded: 'for=203.0.113.9' } });
    expect(forwarded.statusCode).toBe(404);
    const rebound = await w.app.inject({ method: 'GET', url: '/dev/mailbox', remoteAddress: '127.0.0.1', headers: { host: 'attacker.example' } });
    expect(rebound.statusCode).toBe(404);
    for (const host of ['localhost:3000', '127.0.0.1:3000', '[::1]:3000']) {
      expect((await w.app.inject({ method: 'GET', url: '/dev/mailbox', remoteAddress: '127.0.0.1', headers: { host } })).statusCode).toBe(200);
    }
    expect((await w.app.inject({ method: 'GET', url: '/dev/mailbox', remoteAddress: '::1' })).statusCode).toBe(200);
  });

  it('does not exist outside offline mode, even for this machine', async () => {
    // A second app on the same database, so the message is there to be not shown.
    const testMode = await buildTestApp({ db: w.db, config: testConfig({ STRIPE_SECRET_KEY: 'sk_test_x', STRIPE_PUBLISHABLE_KEY: 'pk_test_x' }) });
    try {
      expect((await new TestClient(testMode, '127.0.0.1').get('/dev/mailbox')).statusCode).toBe(404);
      expect((await new TestClient(testMode, '127.0.0.1').get(`/dev/mailbox/${messageId}`)).statusCode).toBe(404);
    } finally {
      await testMode.close();
    }
  });
});

describe('where email goes', () => {
  it('SMTP when SMTP_URL is set; the mailbox offline; otherwise it waits in the outbox, with a warning', () => {
    expect(emailSenderFor(testConfig({ SMTP_URL: 'smtp://127.0.0.1:2525' }))?.transport.name).toBe('smtp');
    expect(emailSenderFor(testConfig())?.transport.name).toBe('mailbox');
    const warnings: string[] = [];
    expect(
      emailSenderFor(testConfig({ STRIPE_SECRET_KEY: 'sk_test_x', STRIPE_PUBLISHABLE_KEY: 'pk_test_x' }), { warn: (_o, msg) => warnings.push(msg) }),
    ).toBeUndefined();
    expect(warnings).toEqual(['SMTP_URL is not set: emails are kept in the outbox and sent once it is']);
  });
});
