/**
 * Test harness for the emulator: an in-process emulator on a random port, the real `stripe`
 * SDK pointed at it, and a webhook receiver registered as both platform and Connect endpoint.
 * Every emulator test file takes its emulator from `useTestEmulator()`.
 */
import http from 'node:http';
import Stripe from 'stripe';
import { afterAll, beforeAll } from 'vitest';
import { startEmulator, type RunningEmulator, type EmulatorOptions } from '../../src/emulator/index.ts';
import { EXPRESS_ACCOUNT } from '../../src/sellers/use-cases.ts';

export const PLATFORM_SECRET = 'whsec_test_platform_secret';
export const CONNECT_SECRET = 'whsec_test_connect_secret';
export const API_KEY = 'sk_test_emulator_key';

export interface Received {
  endpoint: 'platform' | 'connect';
  body: string;
  signature: string;
  headers: http.IncomingHttpHeaders;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Status to answer with; a function can vary it per call (e.g. fail the first N). */
  respond: (r: Received, index: number) => number;
  /** The next `hang` requests are never answered (the sender must time out). */
  hang: number;
  /** Every received body verified with `stripe.webhooks.constructEvent` (throws if any fails). */
  events(stripe: Stripe, endpoint?: 'platform' | 'connect'): Stripe.Event[];
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const receiver: Receiver = {
    url: '',
    received,
    respond: () => 200,
    hang: 0,
    events(stripe, endpoint) {
      return received
        .filter((r) => !endpoint || r.endpoint === endpoint)
        .map((r) => stripe.webhooks.constructEvent(r.body, r.signature, r.endpoint === 'platform' ? PLATFORM_SECRET : CONNECT_SECRET));
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = {
        endpoint: req.url === '/connect' ? 'connect' : 'platform',
        body: Buffer.concat(chunks).toString('utf8'),
        signature: String(req.headers['stripe-signature'] ?? ''),
        headers: req.headers,
      };
      received.push(r);
      if (receiver.hang > 0) {
        receiver.hang -= 1;
        return;
      }
      res.writeHead(receiver.respond(r, received.length - 1), { 'content-type': 'application/json' });
      res.end('{"received":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const addr = server.address();
  receiver.url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  return receiver;
}

export interface TestEmulator {
  emu: RunningEmulator;
  url: string;
  stripe: Stripe;
  /** A client that sends `Stripe-Account` for every request. */
  stripeFor(account: string, config?: Partial<Stripe.StripeConfig>): Stripe;
  client(config?: Partial<Stripe.StripeConfig>): Stripe;
  receiver: Receiver;
  control<T = unknown>(path: string, body?: unknown, method?: string): Promise<T>;
  advance(seconds: number): Promise<void>;
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestEmulator(opts: EmulatorOptions & { webhooksOn?: boolean } = {}): Promise<TestEmulator> {
  const receiver = await startReceiver();
  const { webhooksOn = true, ...options } = opts;
  const emu = await startEmulator({
    port: 0,
    delivery: { retryBaseMs: 10, maxAttempts: 5, timeoutMs: 2000 },
    ...(webhooksOn
      ? {
          webhooks: {
            platform: { url: `${receiver.url}/platform`, secret: PLATFORM_SECRET },
            connect: { url: `${receiver.url}/connect`, secret: CONNECT_SECRET },
          },
        }
      : {}),
    ...options,
  });
  const client = (config: Partial<Stripe.StripeConfig> = {}) => stripeAt(emu.url, config);
  const control = async <T>(path: string, body?: unknown, method?: string): Promise<T> => {
    const res = await fetch(`${emu.url}${path}`, {
      method: method ?? (body === undefined ? 'GET' : 'POST'),
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await res.json()) as T;
    if (!res.ok) throw new Error(`control ${path} → ${res.status}: ${JSON.stringify(json)}`);
    return json;
  };
  return {
    emu,
    url: emu.url,
    stripe: client(),
    client,
    stripeFor: (account, config = {}) => client({ stripeAccount: account, ...config }),
    receiver,
    control,
    advance: async (seconds) => {
      await control('/_emulator/clock/advance', { seconds });
    },
    flush: async () => {
      await control('/_emulator/delivery/flush', {});
    },
    stop: async () => {
      await emu.stop();
      await receiver.close();
    },
  };
}

/** The real SDK, talking to the emulator at `url` (one started with `startEmulator` directly, e.g. on a state file). */
export function stripeAt(url: string, config: Partial<Stripe.StripeConfig> = {}): Stripe {
  const u = new URL(url);
  return new Stripe(API_KEY, { host: u.hostname, port: Number(u.port), protocol: 'http', maxNetworkRetries: 0, telemetry: false, ...config });
}

/**
 * The emulator for the whole test file: started before its tests (before the file's own beforeAll
 * hooks, which may use it), its queued webhooks delivered and then stopped after them. The object
 * is returned at once and filled in when the file starts, so the file can keep it in a const.
 */
export function useTestEmulator(options: Parameters<typeof startTestEmulator>[0] = {}): TestEmulator {
  const t = {} as TestEmulator;
  beforeAll(async () => {
    Object.assign(t, await startTestEmulator(options));
  });
  afterAll(async () => {
    // Deliveries first: stopping with deliveries still due spins the core's delivery pump.
    await t.flush();
    await t.stop();
  });
  return t;
}

/** A product and its monthly price in USD, for subscriptions. */
export async function monthlyPrice(t: TestEmulator, productName: string, unitAmount = 2000): Promise<Stripe.Price> {
  const product = await t.stripe.products.create({ name: productName });
  return t.stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: unitAmount, recurring: { interval: 'month' } });
}

/**
 * Delivers what is queued, then returns the platform's (not Connect's) verified events: those
 * received from index `after` on (an index into everything received, both endpoints), of `types` if given.
 */
export async function platformEvents(t: TestEmulator, options: { after?: number; types?: string[] } = {}): Promise<Stripe.Event[]> {
  await t.flush();
  return t.receiver
    .events(t.stripe)
    .slice(options.after ?? 0)
    .filter((e) => e.account === undefined && (options.types === undefined || options.types.includes(e.type)));
}

/** Create an Express-style connected account (the controller properties our sellers module sends) and optionally onboard it. */
export async function createExpressAccount(
  t: TestEmulator,
  opts: {
    outcome?: 'verified' | 'pending_verification' | 'requirements_due' | 'rejected' | 'incomplete';
    interval?: 'daily' | 'weekly' | 'monthly' | 'manual';
    email?: string;
  } = {},
): Promise<Stripe.Account> {
  const acct = await t.stripe.accounts.create({
    country: 'US',
    email: opts.email ?? 'seller@example.com',
    business_type: 'individual',
    ...EXPRESS_ACCOUNT,
    ...(opts.interval ? { settings: { payouts: { schedule: { interval: opts.interval } } } } : {}),
  });
  if (!opts.outcome) return acct;
  return t.control<Stripe.Account>(`/_emulator/accounts/${acct.id}/onboarding`, { outcome: opts.outcome });
}
