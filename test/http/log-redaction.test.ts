// Request logs must not keep what Stripe puts in our URLs (the PaymentIntent client secret on the
// custom flow's return URL) nor secret fields a handler might log.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, webhookLogLevel } from '../../src/app.ts';
import { redactSecretFields, redactUrl } from '../../src/http/log-redaction.ts';
import { createStripeClient } from '../../src/stripe/client.ts';
import { testConfig } from '../helpers/app.ts';
import { useDatabase } from '../helpers/fixture.ts';
import { makeEvent, postSigned, signature } from '../helpers/webhooks.ts';

const CLIENT_SECRET = 'pi_3Abc123_secret_Zyx987LeakMe';

// The app is built here, not by the fixture: it logs at info level into `lines` (buildApp's logStream).
const file = useDatabase();
let app: FastifyInstance;
const lines: string[] = [];

beforeAll(async () => {
  const stripe = createStripeClient({ secretKey: 'sk_test_unused', emulator: { host: '127.0.0.1', port: 9 }, maxNetworkRetries: 0 });
  app = await buildApp({
    config: testConfig({ LOG_LEVEL: 'info' }),
    db: file.db,
    stripe,
    logStream: { write: (line) => void lines.push(line) },
    siteRoutes: (site) => {
      site.get('/_test/logs-a-secret', async (request) => {
        request.log.info({ client_secret: CLIENT_SECRET, intent: { id: 'pi_3Abc123', client_secret: CLIENT_SECRET } }, 'about to fail');
        throw new Error(`Stripe said no to ${CLIENT_SECRET} with key sk_live_51KeyLeak`);
      });
    },
  });
  await app.ready();
});
afterAll(async () => {
  await app.close();
});

describe('request logs', () => {
  it('replace every query value, keeping the keys', async () => {
    lines.length = 0;
    const url = `/orders/00000000-0000-0000-0000-000000000000/complete?payment_intent=pi_3Abc123&payment_intent_client_secret=${CLIENT_SECRET}&redirect_status=succeeded`;
    await app.inject({ method: 'GET', url });
    const logged = lines.join('\n');
    expect(logged).toContain('request completed');
    expect(logged).not.toContain(CLIENT_SECRET);
    expect(logged).not.toContain('Zyx987LeakMe');
    expect(logged).toContain('payment_intent_client_secret=[redacted]');
  });

  it('drop secret fields and secret-looking tokens from what handlers and errors log', async () => {
    lines.length = 0;
    const response = await app.inject({ method: 'GET', url: '/_test/logs-a-secret', headers: { accept: 'application/json' } });
    expect(response.statusCode).toBe(500);
    const logged = lines.join('\n');
    expect(logged).toContain('about to fail');
    expect(logged).toContain('request failed');
    expect(logged).not.toContain('Zyx987LeakMe');
    expect(logged).not.toContain('sk_live_51KeyLeak');
    expect(response.body).not.toContain('Zyx987LeakMe');
  });
});

describe("Stripe's deliveries", () => {
  it('leave no access-log line at info when Stripe itself sends them (test or live mode); a refused one is still logged', async () => {
    const secret = 'whsec_log_level_test';
    const stripe = createStripeClient({ secretKey: 'sk_test_unused', emulator: { host: '127.0.0.1', port: 9 }, maxNetworkRetries: 0 });
    const testModeLines: string[] = [];
    const config = testConfig({
      LOG_LEVEL: 'info',
      STRIPE_SECRET_KEY: 'sk_test_log_level',
      STRIPE_PUBLISHABLE_KEY: 'pk_test_log_level',
      STRIPE_WEBHOOK_SECRET: secret,
      STRIPE_CONNECT_WEBHOOK_SECRET: secret,
    });
    expect(config.stripe.mode).toBe('test');
    const testMode = await buildApp({ config, db: file.db, stripe, logStream: { write: (line) => void testModeLines.push(line) } });
    try {
      const payload = JSON.stringify(makeEvent('customer.updated', { id: 'cus_quiet', object: 'customer' }));
      expect((await postSigned(testMode, '/webhooks/stripe', payload, signature(payload, secret))).statusCode).toBe(200);
      expect((await postSigned(testMode, '/webhooks/stripe', payload, 't=1,v1=forged')).statusCode).toBe(400);
      await testMode.inject({ method: 'GET', url: '/healthz' });
      const entries = testModeLines.map((line) => JSON.parse(line) as { msg: string; level: number; req?: { url: string }; reason?: string });
      const webhookAccess = entries.filter((entry) => entry.msg === 'request completed' && entry.req?.url.startsWith('/webhooks/'));
      expect(webhookAccess).toEqual([]);
      expect(entries.some((entry) => entry.msg === 'webhook rejected' && entry.level === 40 && entry.reason === 'Invalid signature')).toBe(true);
      // The site's requests keep their access log.
      expect(entries.some((entry) => entry.msg === 'request completed' && entry.req?.url === '/healthz')).toBe(true);
    } finally {
      await testMode.close();
    }
  });

  it('keep their access log offline (a developer watching the emulator) and at any level other than info', () => {
    const mode = (stripeMode: 'offline' | 'test' | 'live', logLevel: 'info' | 'debug' | 'error') =>
      webhookLogLevel({ logLevel, stripe: { mode: stripeMode } as never });
    expect(mode('offline', 'info')).toBe('info');
    expect(mode('live', 'info')).toBe('warn');
    expect(mode('test', 'debug')).toBe('debug');
    expect(mode('live', 'error')).toBe('error');
  });

  it('are logged offline, as the offline app above logs them', async () => {
    lines.length = 0;
    const payload = JSON.stringify(makeEvent('customer.updated', { id: 'cus_loud', object: 'customer' }));
    await postSigned(app, '/webhooks/stripe', payload, signature(payload, app.config.stripe.platformWebhookSecret!));
    expect(lines.some((line) => line.includes('request completed') && line.includes('/webhooks/stripe'))).toBe(true);
  });
});

describe('redactUrl', () => {
  it.each([
    ['/a?x=1&y=2', '/a?x=[redacted]&y=[redacted]'],
    ['/a', '/a'],
    ['/a?', '/a?'],
    ['/pay/pi_1_secret_abc', '/pay/pi_1_secret_[redacted]'],
    ['/a?flag', '/a?flag=[redacted]'],
  ])('%s → %s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });
});

describe('redactSecretFields (every log line, as pino writes it)', () => {
  it('replaces secret-named fields at any depth, in arrays too, and keeps the rest', () => {
    const line = `${JSON.stringify({ level: 30, msg: 'calling out', a: { b: { c: { password: 'hunter2-deep' } } }, list: [{ token: 'tok-in-array' }], cookie: 'session=xyz', keep: 'visible' })}\n`;
    const redacted = redactSecretFields(line);
    expect(redacted.endsWith('\n')).toBe(true);
    expect(JSON.parse(redacted)).toEqual({
      level: 30,
      msg: 'calling out',
      a: { b: { c: { password: '[redacted]' } } },
      list: [{ token: '[redacted]' }],
      cookie: '[redacted]',
      keep: 'visible',
    });
  });

  it('returns a line without such a field as it is (the same string: nothing parsed)', () => {
    const line = `${JSON.stringify({ level: 30, msg: 'request completed', res: { statusCode: 200 }, note: 'a password is a secret' })}\n`;
    expect(redactSecretFields(line)).toBe(line);
  });
});
