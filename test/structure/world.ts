// The structure tests' world: this file's database, the emulator with a Stripe client for the app,
// the real app listening on a loopback port with the emulator delivering signed webhooks to it, an
// admin signed in, and the project's own use cases to make sellers and paid orders. Nothing is
// mocked. `sync()` delivers what the emulator queued and runs the worker's code until nothing is due.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type Stripe from 'stripe';
import type { Database, Order, User } from '../../src/db/schema.ts';
import { buyWithPaymentElement, syncOrderFromStripe } from '../../src/orders/use-cases.ts';
import { ensureConnectedAccount, syncAccountFromStripe } from '../../src/sellers/use-cases.ts';
import { drainInbox } from '../../src/webhooks/processor.ts';
import { buildTestApp, createTestUser, loginAs, testConfig, type TestClient } from '../helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { startTestEmulator, type TestEmulator } from '../helpers/emulator.ts';

export interface World {
  database: TestDatabase;
  /** The database the app uses (the file's own, or a pool of its own when asked for). */
  db: Kysely<Database>;
  emu: TestEmulator;
  /** The app's Stripe client. */
  stripe: Stripe;
  app: FastifyInstance;
  admin: TestClient;
  /** Delivers every queued webhook and runs the inbox until nothing is due (retries at once). */
  sync(): Promise<void>;
  /** API requests the emulator received on `path` (exact) with `method`. */
  requests(path: string, method?: string): Promise<{ path: string; idempotency_key?: string | null; fault?: string; status: number }[]>;
  /** Makes the emulator's next `count` requests to `path` meet `kind` (see the emulator's README). */
  fault(path: string, kind: string, options?: { count?: number; holdMs?: number; method?: string }): Promise<void>;
  close(): Promise<void>;
}

export async function startWorld(options: { stripe?: (emu: TestEmulator) => Stripe; db?: (database: TestDatabase) => Kysely<Database> } = {}): Promise<World> {
  const database = await createTestDatabase();
  const emu = await startTestEmulator();
  const stripe = options.stripe?.(emu) ?? emu.stripe;
  const db = options.db?.(database) ?? database.db;
  const config = testConfig();
  const app = await buildTestApp({ db, stripe, config });
  const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
  await emu.control('POST', '/_emulator/webhooks', {
    platform: { url: `${baseUrl}/webhooks/stripe`, secret: config.stripe.platformWebhookSecret },
    connect: { url: `${baseUrl}/webhooks/stripe/connect`, secret: config.stripe.connectWebhookSecret },
  });
  const { client: admin } = await loginAs(app, 'admin');
  return {
    database, db, emu, stripe, app, admin,
    sync: async () => {
      for (let round = 0; round < 6; round++) {
        await emu.control('POST', '/_emulator/delivery/flush');
        const outcome = await drainInbox(database.db, stripe, { backoffBaseMs: 1, backoffMaxMs: 1, jitter: 0 });
        const queued = await emu.control<{ data: unknown[] }>('GET', '/_emulator/deliveries?status=queued');
        if (queued.data.length === 0 && outcome.failed === 0 && outcome.done === 0) return;
      }
    },
    requests: async (path, method = 'POST') => {
      const log = await emu.control<{ data: { method: string; path: string; idempotency_key?: string | null; fault?: string; status: number }[] }>('GET', `/_emulator/requests?path=${encodeURIComponent(path)}`);
      return log.data.filter((r) => r.method === method && r.path === path);
    },
    fault: async (path, kind, { count = 1, holdMs, method = 'POST' } = {}) => {
      await emu.control('POST', '/_emulator/faults', { method, path, kind, count, ...(holdMs !== undefined ? { holdMs } : {}) });
    },
    close: async () => {
      await app.close();
      await emu.stop();
      if (db !== database.db) await db.destroy();
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
  const user = await createTestUser(w.database.db, 'seller');
  const { accountId } = await ensureConnectedAccount(w.database.db, w.stripe, { sellerId: user.id, country: 'US', email: user.email });
  await w.emu.control('POST', `/_emulator/accounts/${accountId}/onboarding`, { outcome: 'verified' });
  await w.stripe.accounts.update(accountId, { settings: { payouts: { schedule: { interval: 'manual' } } } });
  await syncAccountFromStripe(w.database.db, w.stripe, accountId);
  return { user, accountId };
}

export async function createListing(w: World, sellerId: string, price: number, stock: number | null = null): Promise<string> {
  const row = await w.database.db.insertInto('listings').values({
    seller_id: sellerId, title: `Thing ${randomUUID().slice(0, 6)}`, price_amount: price, currency: 'usd', stock, kind: 'digital',
  }).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

/** A buyer pays a new listing of `seller` through the custom flow; the order is paid and synced. */
export async function createPaidOrder(w: World, seller: Seller, amount: number, paymentMethod = 'pm_card_bypassPending'): Promise<Order> {
  const listingId = await createListing(w, seller.user.id, amount);
  const buyer = await createTestUser(w.database.db, 'buyer');
  const order = await buyWithPaymentElement(w.database.db, w.stripe, { buyerId: buyer.id, buyerEmail: buyer.email, listingId, quantity: 1, attemptId: randomUUID() });
  await w.stripe.paymentIntents.confirm(order.stripe_payment_intent_id!, { payment_method: paymentMethod });
  const paid = await syncOrderFromStripe(w.database.db, w.stripe, order, 'completion_page');
  await w.sync();
  return paid;
}

export async function orderRow(db: Kysely<Database>, orderId: string): Promise<Order> {
  return db.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirstOrThrow();
}

/** The hidden value of `name` in the first form on a page that has it. */
export function hiddenValue(body: string, name: string): string | undefined {
  return new RegExp(`name="${name}" value="([^"]*)"`).exec(body)?.[1];
}

/** What a buyer does on Stripe's (the emulator's) hosted Checkout page: type a card, press Pay. */
export async function payOnCheckoutPage(sessionUrl: string, cardNumber: string): Promise<number> {
  const page = await fetch(sessionUrl);
  const action = /<form method="post" action="([^"]+)"/.exec(await page.text())?.[1];
  if (action === undefined) throw new Error(`no payment form at ${sessionUrl}`);
  const response = await fetch(new URL(action, sessionUrl), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email: 'buyer@example.test', card_number: cardNumber }).toString(),
  });
  return response.status;
}
