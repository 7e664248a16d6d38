// The admin tests' world: a real database, the emulator with the real SDK, and the app listening on a
// port so the emulator delivers signed webhooks to its real endpoints; `sync()` flushes deliveries
// and drains the inbox through the real worker code. Sellers and paid orders are made with the
// project's own use cases (onboarding, buyWithPaymentElement, syncOrderFromStripe) — nothing is mocked.
import type { FastifyInstance } from 'fastify';
import type Stripe from 'stripe';
import type { User } from '../../src/db/schema.ts';
import { buyWithPaymentElement, syncOrderFromStripe } from '../../src/orders/use-cases.ts';
import { ensureConnectedAccount, syncAccountFromStripe } from '../../src/sellers/use-cases.ts';
import { drainInbox } from '../../src/webhooks/processor.ts';
import { buildTestApp, createTestUser, loginAs, testConfig, type TestClient } from '../helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { startTestEmulator, type TestEmulator } from '../helpers/emulator.ts';
import { randomUUID } from 'node:crypto';

export interface Harness {
  database: TestDatabase;
  emu: TestEmulator;
  app: FastifyInstance;
  stripe: Stripe;
  baseUrl: string;
  admin: TestClient;
  adminUser: User;
  /** Delivers every queued webhook and processes the inbox until nothing is due. */
  sync(): Promise<void>;
  /** Counts API requests the emulator received on a path (e.g. '/v1/refunds'). */
  requests(path: string, method?: string): Promise<number>;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const database = await createTestDatabase();
  const emu = await startTestEmulator();
  const config = testConfig();
  const app = await buildTestApp({ db: database.db, stripe: emu.stripe, config });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('app did not listen');
  const baseUrl = `http://127.0.0.1:${address.port}`;
  await emu.control('POST', '/_emulator/webhooks', {
    platform: { url: `${baseUrl}/webhooks/stripe`, secret: config.stripe.platformWebhookSecret },
    connect: { url: `${baseUrl}/webhooks/stripe/connect`, secret: config.stripe.connectWebhookSecret },
  });
  const { client: admin, user: adminUser } = await loginAs(app, 'admin');
  const sync = async () => {
    for (let round = 0; round < 5; round++) {
      await emu.control('POST', '/_emulator/delivery/flush');
      const outcome = await drainInbox(database.db, emu.stripe, { backoffBaseMs: 1, backoffMaxMs: 1, jitter: 0 });
      // Handlers may call Stripe and cause new events: go round until quiet.
      const pending = await emu.control<{ data: { status: string }[] }>('GET', '/_emulator/deliveries?status=queued');
      if (pending.data.length === 0 && outcome.failed === 0) return;
    }
  };
  return {
    database, emu, app, stripe: emu.stripe, baseUrl, admin, adminUser, sync,
    requests: async (path, method = 'POST') => {
      const list = await emu.control<{ data: { method?: string; path: string }[] }>('GET', `/_emulator/requests?path=${encodeURIComponent(path)}`);
      return list.data.filter((r) => r.method === undefined || r.method === method).length;
    },
    close: async () => {
      await app.close();
      await emu.stop();
      await database.close();
    },
  };
}

export interface TestSeller {
  user: User;
  accountId: string;
}

/** A seller whose Connect account finished onboarding (charges and payouts enabled). */
export async function createSeller(h: Harness, options: { manualPayouts?: boolean } = {}): Promise<TestSeller> {
  const user = await createTestUser(h.database.db, 'seller');
  const { accountId } = await ensureConnectedAccount(h.database.db, h.stripe, { sellerId: user.id, country: 'US', email: user.email });
  await h.emu.control('POST', `/_emulator/accounts/${accountId}/onboarding`, { outcome: 'verified' });
  if (options.manualPayouts === true) await h.stripe.accounts.update(accountId, { settings: { payouts: { schedule: { interval: 'manual' } } } });
  await syncAccountFromStripe(h.database.db, h.stripe, accountId);
  return { user, accountId };
}

export async function createListing(h: Harness, sellerId: string, price: number, currency = 'usd'): Promise<string> {
  const row = await h.database.db.insertInto('listings').values({
    seller_id: sellerId, title: `Thing ${randomUUID().slice(0, 6)}`, price_amount: price, currency, stock: null, kind: 'digital',
  }).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

/** A buyer pays a listing through the custom flow with `paymentMethod`; the order is paid. */
export async function createPaidOrder(h: Harness, seller: TestSeller, options: { amount: number; paymentMethod?: string; buyer?: User }): Promise<string> {
  const listingId = await createListing(h, seller.user.id, options.amount);
  const buyer = options.buyer ?? await createTestUser(h.database.db, 'buyer');
  const order = await buyWithPaymentElement(h.database.db, h.stripe, { buyerId: buyer.id, buyerEmail: buyer.email, listingId, quantity: 1, attemptId: randomUUID() });
  await h.stripe.paymentIntents.confirm(order.stripe_payment_intent_id!, { payment_method: options.paymentMethod ?? 'pm_card_bypassPending' });
  await syncOrderFromStripe(h.database.db, h.stripe, order, 'reconcile');
  await h.sync();
  return order.id;
}

export function csrfFrom(body: string): string | undefined {
  return /name="_csrf" value="([^"]+)"/.exec(body)?.[1];
}

/** The hidden value of `name` in the first form on a page that has it. */
export function hiddenValue(body: string, name: string): string | undefined {
  return new RegExp(`name="${name}" value="([^"]*)"`).exec(body)?.[1];
}

/** An admin refunds `amount` ("25.00") of an order through the order page's form, reversing the transfer and the fee; returns the refund's id. */
export async function refundByAdmin(h: Harness, orderId: string, amount: string): Promise<string> {
  const page = await h.admin.get(`/admin/orders/${orderId}`);
  const refundId = hiddenValue(page.body, 'refund_id')!;
  const form = { refund_id: refundId, amount, reason: 'requested_by_customer', reverse_transfer: 'on', refund_application_fee: 'on', confirm: 'yes' };
  const response = await h.admin.post(`/admin/orders/${orderId}/refunds`, form);
  if (response.statusCode !== 303) throw new Error(`refund of ${orderId} answered ${response.statusCode}`);
  await h.sync();
  return refundId;
}
