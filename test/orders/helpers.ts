// Shared set-up for the order tests: our app (real routes, real database) and the real Stripe SDK
// talking to the emulator over HTTP. The emulator's hosted pages (Checkout, 3DS) are driven with
// fetch like a browser without JavaScript would; Stripe's events are read back from the emulator
// and run through the payment handlers exactly as the webhook worker runs them (one transaction
// per event, through the handler registry's contract).
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type Stripe from 'stripe';
import { expect } from 'vitest';
import type { Database, Listing, ListingKind } from '../../src/db/schema.ts';
import { ensureConnectedAccount, syncAccountFromStripe } from '../../src/sellers/use-cases.ts';
import { paymentHandlers } from '../../src/webhooks/handlers/payments.ts';
import { storeEvent } from '../../src/webhooks/inbox.ts';
import { drainInbox } from '../../src/webhooks/processor.ts';
import { handlerFor } from '../../src/webhooks/registry.ts';
import { createTestUser, TEST_PASSWORD, TestClient, type Response } from '../helpers/app.ts';
import type { TestEmulator } from '../helpers/emulator.ts';

let ipCounter = 1;
const nextIp = () => `10.6.${Math.floor(ipCounter / 250)}.${(ipCounter++ % 250) + 1}`;

export async function signIn(app: FastifyInstance, role: 'buyer' | 'seller' | 'admin'): Promise<{ client: TestClient; userId: string; email: string }> {
  const user = await createTestUser(app.db, role);
  const client = new TestClient(app, nextIp());
  const response = await client.post('/login', { email: user.email, password: TEST_PASSWORD });
  expect(response.statusCode).toBe(303);
  return { client, userId: user.id, email: user.email };
}

/** A seller whose Connect account the emulator verified, recorded as `enabled` in our database. */
export async function enabledSeller(app: FastifyInstance, emulator: TestEmulator): Promise<{ sellerId: string; accountId: string; client: TestClient }> {
  const { client, userId, email } = await signIn(app, 'seller');
  const { accountId } = await ensureConnectedAccount(app.db, emulator.stripe, { sellerId: userId, country: 'US', email });
  await emulator.control('POST', `/_emulator/accounts/${accountId}/onboarding`, { outcome: 'verified' });
  await syncAccountFromStripe(app.db, emulator.stripe, accountId);
  const row = await app.db.selectFrom('sellers').select(['account_state', 'charges_enabled']).where('id', '=', userId).executeTakeFirstOrThrow();
  expect(row).toEqual({ account_state: 'enabled', charges_enabled: true });
  return { sellerId: userId, accountId, client };
}

/** A listing of `sellerId`; digital unless `kind` says otherwise (the tests written before shipping buy things nobody ships). */
export async function addListing(
  db: Kysely<Database>, sellerId: string, values: { price: number; currency?: string; stock?: number | null; title?: string; kind?: ListingKind },
): Promise<Listing> {
  return db.insertInto('listings').values({
    seller_id: sellerId,
    title: values.title ?? `Thing ${randomUUID().slice(0, 6)}`,
    price_amount: values.price,
    currency: values.currency ?? 'usd',
    stock: values.stock === undefined ? null : values.stock,
    kind: values.kind ?? 'digital',
  }).returningAll().executeTakeFirstOrThrow();
}

/** Presses "Buy now" on the listing page (the form's own attempt id unless one is given). */
export async function buy(client: TestClient, listingId: string, quantity = 1, attempt = randomUUID()): Promise<Response> {
  return client.post(`/checkout/${listingId}`, { quantity, attempt });
}

export async function orderIdFromSessionUrl(db: Kysely<Database>, sessionUrl: string): Promise<string> {
  const sessionId = new URL(sessionUrl).pathname.split('/').pop()!;
  const row = await db.selectFrom('orders').select('id').where('stripe_checkout_session_id', '=', sessionId).executeTakeFirstOrThrow();
  return row.id;
}

/** What a buyer does on Stripe's (the emulator's) Checkout page: type a card (and `fields` such as a shipping address), press Pay. */
export async function payOnCheckoutPage(
  sessionUrl: string, cardNumber: string, email = 'buyer@example.test', fields: Record<string, string> = {},
): Promise<{ status: number; location: string | null; body: string }> {
  const page = await fetch(sessionUrl);
  expect(page.status).toBe(200);
  const action = /<form method="post" action="([^"]+)"/.exec(await page.text())?.[1];
  const response = await fetch(new URL(action!, sessionUrl), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email, card_number: cardNumber, ...fields }).toString(),
  });
  return { status: response.status, location: response.headers.get('location'), body: await response.text() };
}

/** The emulator's 3DS challenge page: press "Complete" or "Fail". Returns where the browser goes next. */
export async function answerChallenge(challengeUrl: string, action: 'complete' | 'fail'): Promise<string> {
  const url = new URL(challengeUrl);
  const page = await fetch(url);
  expect(page.status).toBe(200);
  const html = await page.text();
  const secret = /name="client_secret" value="([^"]+)"/.exec(html)?.[1];
  const formAction = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  const response = await fetch(new URL(formAction!, url), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_secret: secret!, action }).toString(),
  });
  expect([302, 303]).toContain(response.status);
  let next = response.headers.get('location') ?? '';
  next = new URL(next, url).toString();
  // Checkout's 3DS returns to Checkout, which then sends the buyer to our success URL (or back to its page).
  if (next.includes('/hosted/checkout/')) {
    const back = await fetch(next, { redirect: 'manual' });
    next = new URL(back.headers.get('location') ?? next, next).toString();
  }
  return next;
}

/** Our own URL (as Stripe redirects to it) → the path the test client requests. */
export const localPath = (url: string) => { const u = new URL(url); return u.pathname + u.search; };

/**
 * Stripe's events since the last call, oldest first, run through the payment handlers by the
 * webhook worker's own code: stored in the inbox, then processed (read, transaction, after).
 */
export class EventPump {
  private seen = new Set<string>();
  constructor(private readonly db: Kysely<Database>, private readonly stripe: Stripe) {}

  async pending(filter: (event: Stripe.Event) => boolean = () => true): Promise<Stripe.Event[]> {
    const events: Stripe.Event[] = [];
    for await (const event of this.stripe.events.list({ limit: 100 })) {
      if (this.seen.has(event.id)) continue;
      if (filter(event)) events.push(event);
    }
    return events; // newest first, as Stripe lists them
  }

  /** Processes every new event (optionally only those `filter` picks; the rest stay pending). */
  async run(filter?: (event: Stripe.Event) => boolean): Promise<Stripe.Event[]> {
    const events = (await this.pending(filter)).reverse(); // the list is newest first; deliver oldest first
    for (const event of events) await this.deliver(event);
    return events;
  }

  async deliver(event: Stripe.Event): Promise<void> {
    this.seen.add(event.id);
    if (handlerFor(paymentHandlers, event.type) === undefined) return;
    await storeEvent(this.db, event, { source: 'platform', livemode: false });
    const outcome = await drainInbox(this.db, this.stripe, { handlers: paymentHandlers, concurrency: 1 });
    if (outcome.failed + outcome.dead > 0) {
      const row = await this.db.selectFrom('stripe_events').select('last_error').where('id', '=', event.id).executeTakeFirst();
      throw new Error(`${event.type} ${event.id} failed: ${row?.last_error ?? 'unknown'}`);
    }
  }
}

export async function transitionsOf(db: Kysely<Database>, orderId: string) {
  return db.selectFrom('order_transitions').select(['from_status', 'to_status', 'source', 'stripe_event_id']).where('order_id', '=', orderId).orderBy('id').execute();
}

export async function orderRow(db: Kysely<Database>, orderId: string) {
  return db.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirstOrThrow();
}
