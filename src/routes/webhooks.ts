// Stripe's two webhook endpoints. Each verifies the signature over the exact bytes received with its
// own secret, stores the event in the inbox and answers 200 — nothing else happens in the request:
// the worker does the processing, so a slow handler can never make Stripe time out and retry.
//   400 + reason, nothing stored: missing/forged signature, wrong secret, stale timestamp, empty or
//       unparsable body. Stripe does not fix these by retrying, and we must not trust them.
//   503: we could not store it (database down, secret not configured). Stripe retries for days.
//   Deliveries that arrive together are committed with one INSERT (src/webhooks/inbox-writer.ts);
//   each is answered once its own event is committed. Then workers in any process are told (one
//   NOTIFY for many events, at most every 20 ms: src/webhooks/announce.ts), and an in-process
//   worker is woken directly.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Stripe from 'stripe';
import type { StripeEventSource } from '../db/schema.ts';
import { recordSignatureFailure } from '../health/signature-failures.ts';
import { isSignatureError } from '../stripe/errors.ts';
import { coalescingAnnouncer, NOTIFY_MIN_GAP_MS, type Announcer } from '../webhooks/announce.ts';
import { expectedLivemode, notifyPendingEvents, type StoreResult } from '../webhooks/inbox.ts';
import { groupCommittingInboxWriter, type InboxWriter } from '../webhooks/inbox-writer.ts';

/** Stripe's default: a signature older than this is a replay. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;
/** Longer than this and we answer 503 rather than keep Stripe's connection (and ours) waiting. */
const STORE_TIMEOUT_MS = 10_000;

export interface WebhookRouteOptions {
  /** Called after a new event is stored (the in-process worker wakes up at once instead of polling). */
  onEventStored?: (() => void) | undefined;
}

export async function webhookRoutes(app: FastifyInstance, options: WebhookRouteOptions): Promise<void> {
  // Encapsulated: this body parser applies to these routes only. The body is kept as the bytes
  // received and never parsed before the signature is checked: constructEvent parses it once
  // verified, and an unverified body is never interpreted at all.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 1024 * 1024 }, (_request, body, done) => done(null, body));

  const announcer = coalescingAnnouncer(
    () => notifyPendingEvents(app.db),
    // The event is stored; workers still find it at their next poll.
    (error) => app.log.warn({ err: error }, 'could not NOTIFY the workers of new events; they find them at their next poll'),
    { minGapMs: NOTIFY_MIN_GAP_MS },
  );
  // Deliveries arriving together are committed together (src/webhooks/inbox-writer.ts).
  const inbox = groupCommittingInboxWriter(app.db);
  app.addHook('onClose', async () => {
    await inbox.settled();
    await announcer.settled();
  });

  const context = { ...options, announcer, inbox };
  const endpoint = (source: Exclude<StripeEventSource, 'backfill'>, secret: () => string | undefined) => async (request: FastifyRequest, reply: FastifyReply) =>
    receive(app, request, reply, source, secret(), context);

  app.post(
    '/webhooks/stripe',
    endpoint('platform', () => app.config.stripe.platformWebhookSecret),
  );
  app.post(
    '/webhooks/stripe/connect',
    endpoint('connect', () => app.config.stripe.connectWebhookSecret),
  );
}

async function receive(
  app: FastifyInstance,
  request: FastifyRequest,
  reply: FastifyReply,
  source: 'platform' | 'connect',
  secret: string | undefined,
  options: WebhookRouteOptions & { announcer: Announcer; inbox: InboxWriter },
): Promise<FastifyReply> {
  const reject = (reason: string) => {
    request.log.warn({ source, reason }, 'webhook rejected');
    return reply.code(400).send({ error: reason });
  };
  if (secret === undefined) {
    request.log.error({ source }, 'webhook secret not configured: answering 503 so Stripe keeps the event');
    return reply.code(503).send({ error: 'Webhook secret not configured' });
  }
  // Counted for the health page's "signing secret fails repeatedly" warning (nothing else is stored).
  const rejectSignature = async (reason: string) => {
    await recordSignatureFailure(app.db, source, reason).catch((error: unknown) =>
      request.log.error({ err: error, source }, 'could not count a signature failure'),
    );
    return reject(reason);
  };
  const signature = request.headers['stripe-signature'];
  if (typeof signature !== 'string' || signature === '') return rejectSignature('Missing Stripe-Signature header');
  const body = request.body;
  if (!Buffer.isBuffer(body) || body.length === 0) return reject('Empty body');

  let event: Stripe.Event;
  try {
    event = app.stripe.webhooks.constructEvent(body, signature, secret, SIGNATURE_TOLERANCE_SECONDS);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (isSignatureError(error)) {
      return rejectSignature(/tolerance/i.test(message) ? 'Signature timestamp too old' : 'Invalid signature');
    }
    return reject('Body is not a JSON event');
  }
  if (typeof event?.id !== 'string' || typeof event.type !== 'string' || typeof event.created !== 'number' || event.object !== 'event') {
    return reject('Body is not a Stripe event');
  }

  let stored: StoreResult;
  try {
    stored = await withTimeout(options.inbox.store(event, { source, livemode: expectedLivemode(app.config.stripe.mode), rawBody: body }), STORE_TIMEOUT_MS);
  } catch (error) {
    request.log.error({ err: error, source, event: event.id }, 'webhook not stored: answering 503 so Stripe retries');
    return reply.code(503).send({ error: 'Temporarily unavailable' });
  }
  if (stored.inserted && stored.status === 'pending') {
    options.announcer.announce();
    options.onEventStored?.();
  }
  return reply.code(200).send({ received: true, ...(stored.inserted ? {} : { duplicate: true }) });
}

/** `promise`, or a rejection after `ms`. One timer and one promise: it runs for every delivery. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
