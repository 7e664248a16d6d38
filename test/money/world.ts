// The money tests' world: this file's database, the emulator with the real SDK, the real app
// listening on a loopback port with the emulator delivering signed webhooks to its endpoints, an
// admin signed in, and the project's own use cases to make sellers and paid orders. Nothing is
// mocked.
//
// Event order is in the test's hands: `holdEvents()` makes the emulator keep every event it emits
// (delivery mode `drop`: logged, never sent), `heldEvents()` returns them in emission order, and
// `deliver()` posts each one, signed with the endpoint's secret, to the app's real endpoint and
// runs the real worker code on it before posting the next — so the inbox processes them in exactly
// the order given.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type Stripe from 'stripe';
import type { Actor } from '../../src/admin/audit.ts';
import type { Database, DisputeRow, Order, RefundRow, User } from '../../src/db/schema.ts';
import { buyWithPaymentElement, syncOrderFromStripe } from '../../src/orders/use-cases.ts';
import { ensureConnectedAccount, syncAccountFromStripe } from '../../src/sellers/use-cases.ts';
import { drainInbox } from '../../src/webhooks/processor.ts';
import { buildTestApp, createTestUser, loginAs, testConfig, type TestClient } from '../helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { startTestEmulator, type TestEmulator } from '../helpers/emulator.ts';
import { makeEvent, signature } from '../helpers/webhooks.ts';

export interface HeldEvent {
  id: string;
  type: string;
  endpoint: 'platform' | 'connect';
  payload: string;
}

export interface RequestLogEntry {
  method: string;
  path: string;
  idempotency_key: string | null;
  status: number;
  fault?: string;
  replayed?: boolean;
}

export interface World {
  database: TestDatabase;
  db: Kysely<Database>;
  emu: TestEmulator;
  stripe: Stripe;
  app: FastifyInstance;
  baseUrl: string;
  admin: TestClient;
  adminUser: User;
  actor: Actor;
  /** Delivers every queued webhook and runs the inbox until nothing is due (retries at once). */
  sync(): Promise<void>;
  /** POST (or `method`) requests the emulator received on exactly `path`, oldest first. */
  requests(path: string, method?: string): Promise<RequestLogEntry[]>;
  /** The emulator's next `count` requests to `path` meet `kind` (emulator README, "Faults"). */
  fault(path: string, kind: string, options?: { count?: number; method?: string }): Promise<void>;
  clearFaults(): Promise<void>;
  /** From now on the emulator keeps every event instead of sending it (after delivering what was queued). */
  holdEvents(): Promise<void>;
  /** The events kept since `holdEvents()` (or the last `heldEvents(true)`), in emission order. */
  heldEvents(clear?: boolean): Promise<HeldEvent[]>;
  /** Back to normal delivery (events emitted from now on are sent as usual). */
  releaseEvents(): Promise<void>;
  /** Posts each event, signed, to the app's real endpoint and processes it before the next. */
  deliver(events: HeldEvent[]): Promise<void>;
  close(): Promise<void>;
}

export async function startWorld(): Promise<World> {
  const database = await createTestDatabase();
  const emu = await startTestEmulator();
  const config = testConfig();
  const app = await buildTestApp({ db: database.db, stripe: emu.stripe, config });
  const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
  const secrets = { platform: config.stripe.platformWebhookSecret!, connect: config.stripe.connectWebhookSecret! };
  await emu.control('POST', '/_emulator/webhooks', {
    platform: { url: `${baseUrl}/webhooks/stripe`, secret: secrets.platform },
    connect: { url: `${baseUrl}/webhooks/stripe/connect`, secret: secrets.connect },
  });
  const { client: admin, user: adminUser } = await loginAs(app, 'admin');
  const drain = () => drainInbox(database.db, emu.stripe, { backoffBaseMs: 1, backoffMaxMs: 1, jitter: 0, concurrency: 1 });
  const controlDelete = async (path: string) => {
    const response = await fetch(`${emu.url}${path}`, { method: 'DELETE', headers: { 'content-type': 'application/json' } });
    if (!response.ok) throw new Error(`emulator control DELETE ${path} → ${response.status}`);
  };
  const sync = async () => {
    for (let round = 0; round < 6; round++) {
      await emu.control('POST', '/_emulator/delivery/flush');
      const outcome = await drain();
      const queued = await emu.control<{ data: unknown[] }>('GET', '/_emulator/deliveries?status=queued');
      if (queued.data.length === 0 && outcome.failed === 0 && outcome.done === 0) return;
    }
  };
  return {
    database, db: database.db, emu, stripe: emu.stripe, app, baseUrl, admin, adminUser, actor: { id: adminUser.id, email: adminUser.email },
    sync,
    requests: async (path, method = 'POST') => {
      const log = await emu.control<{ data: RequestLogEntry[] }>('GET', `/_emulator/requests?path=${encodeURIComponent(path)}`);
      return log.data.filter((r) => r.method === method && r.path === path);
    },
    fault: async (path, kind, { count = 1, method = 'POST' } = {}) => {
      await emu.control('POST', '/_emulator/faults', { method, path, kind, count });
    },
    clearFaults: () => controlDelete('/_emulator/faults'),
    holdEvents: async () => {
      await sync();
      await controlDelete('/_emulator/deliveries');
      await emu.control('POST', '/_emulator/delivery', { mode: 'drop' });
    },
    heldEvents: async (clear = false) => {
      const log = await emu.control<{ data: { event: string; event_type: string; endpoint: 'platform' | 'connect'; payload: string }[] }>('GET', '/_emulator/deliveries?status=dropped');
      if (clear) await controlDelete('/_emulator/deliveries');
      return log.data.map((d) => ({ id: d.event, type: d.event_type, endpoint: d.endpoint, payload: d.payload }));
    },
    releaseEvents: async () => {
      await emu.control('POST', '/_emulator/delivery', { mode: 'normal' });
    },
    deliver: async (events) => {
      for (const event of events) {
        const path = event.endpoint === 'connect' ? '/webhooks/stripe/connect' : '/webhooks/stripe';
        const response = await fetch(`${baseUrl}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': signature(event.payload, secrets[event.endpoint]) },
          body: event.payload,
        });
        if (response.status !== 200) throw new Error(`${event.type} ${event.id} → ${response.status}`);
        const outcome = await drain();
        if (outcome.failed > 0 || outcome.dead > 0) throw new Error(`${event.type} ${event.id} failed in the worker`);
      }
    },
    close: async () => {
      await app.close();
      await emu.stop();
      await database.close();
    },
  };
}

export interface Seller {
  user: User;
  accountId: string;
}

/** A seller whose Connect account finished onboarding, with manual payouts (balances stay put). */
export async function createSeller(w: World): Promise<Seller> {
  const user = await createTestUser(w.db, 'seller');
  const { accountId } = await ensureConnectedAccount(w.db, w.stripe, { sellerId: user.id, country: 'US', email: user.email });
  await w.emu.control('POST', `/_emulator/accounts/${accountId}/onboarding`, { outcome: 'verified' });
  await w.stripe.accounts.update(accountId, { settings: { payouts: { schedule: { interval: 'manual' } } } });
  await syncAccountFromStripe(w.db, w.stripe, accountId);
  return { user, accountId };
}

export async function createListing(w: World, sellerId: string, price: number, currency = 'usd'): Promise<string> {
  const row = await w.db.insertInto('listings').values({
    seller_id: sellerId, title: `Thing ${randomUUID().slice(0, 6)}`, price_amount: price, currency, stock: null, kind: 'digital',
  }).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

/** A custom-flow order with its PaymentIntent made and recorded, nobody has paid yet. */
export async function createPendingOrder(w: World, seller: Seller, amount: number, currency = 'usd'): Promise<Order> {
  const listingId = await createListing(w, seller.user.id, amount, currency);
  const buyer = await createTestUser(w.db, 'buyer');
  return buyWithPaymentElement(w.db, w.stripe, { buyerId: buyer.id, buyerEmail: buyer.email, listingId, quantity: 1, attemptId: randomUUID() });
}

/** A buyer pays a new listing of `seller` through the custom flow; the order is paid and synced. */
export async function createPaidOrder(w: World, seller: Seller, amount: number, paymentMethod = 'pm_card_bypassPending'): Promise<Order> {
  const order = await createPendingOrder(w, seller, amount);
  await w.stripe.paymentIntents.confirm(order.stripe_payment_intent_id!, { payment_method: paymentMethod });
  await syncOrderFromStripe(w.db, w.stripe, order, 'completion_page');
  await w.sync();
  return orderRow(w.db, order.id);
}

export async function orderRow(db: Kysely<Database>, orderId: string): Promise<Order> {
  return db.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirstOrThrow();
}

export async function refundRows(db: Kysely<Database>, orderId: string): Promise<RefundRow[]> {
  return db.selectFrom('refunds').selectAll().where('order_id', '=', orderId).orderBy('created_at').execute();
}

export async function disputeRow(db: Kysely<Database>, disputeId: string): Promise<DisputeRow | undefined> {
  return db.selectFrom('disputes').selectAll().where('id', '=', disputeId).executeTakeFirst();
}

/** The hidden value of `name` in the first form on a page that has it. */
export function hiddenValue(body: string, name: string): string | undefined {
  return new RegExp(`name="${name}" value="([^"]*)"`).exec(body)?.[1];
}

/** A seeded permutation (mulberry32 + Fisher–Yates): the same seed gives the same order on every run. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** In order, reversed, and `SEEDS.length` seeded shuffles: the orders every family is delivered in. */
export const SEEDS = [11, 29, 1_847, 90_210] as const;
export function deliveryOrders<T>(events: readonly T[]): { name: string; events: T[] }[] {
  return [
    { name: 'in order', events: [...events] },
    { name: 'reversed', events: [...events].reverse() },
    ...SEEDS.map((seed) => ({ name: `shuffled (seed ${seed})`, events: shuffled(events, seed) })),
  ];
}

/** What a buyer does on Stripe's (the emulator's) hosted Checkout page: type a card, press Pay. */
export async function payOnCheckoutPage(sessionUrl: string, cardNumber: string): Promise<void> {
  const page = await fetch(sessionUrl);
  const action = /<form method="post" action="([^"]+)"/.exec(await page.text())?.[1];
  if (action === undefined) throw new Error(`no payment form at ${sessionUrl}`);
  const response = await fetch(new URL(action, sessionUrl), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email: 'buyer@example.test', card_number: cardNumber }).toString(),
  });
  if (response.status >= 400) throw new Error(`paying on ${sessionUrl} → ${response.status}`);
}

/** A platform event we write ourselves (Stripe's shape, our signature), for a snapshot Stripe sent earlier. */
export function craftedEvent(type: string, object: object, created: number): HeldEvent {
  const event = makeEvent(type, object as Record<string, unknown>, { created });
  return { id: event.id, type, endpoint: 'platform', payload: JSON.stringify(event) };
}
