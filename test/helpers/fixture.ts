// The one test fixture: a test file says what it needs in one line,
//
//   const w = useWorld({ webhooks: true, admin: true });
//
// and gets, for the whole file, its own database (cloned from the migrated template), the Stripe
// emulator with the real SDK pointed at it over HTTP, the real app built on both, clients signed
// in through the real login form, and `w.events` to apply Stripe's events the one way production
// does: signed, through the real endpoint, the inbox and the worker (see stripe-events.ts). A
// browser journey's world is the same one with `browser: true` (`e2eTest` in browser.ts).
import type { FastifyInstance, RouteOptions } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import type { Kysely } from 'kysely';
import type Stripe from 'stripe';
import { afterAll, beforeAll, expect } from 'vitest';
import type { Actor } from '../../src/admin/audit.ts';
import type { Config } from '../../src/config.ts';
import type { Database, Role, User } from '../../src/db/schema.ts';
import { buildTestApp, createTestUser, TEST_PASSWORD, TestClient, testConfig } from './app.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { startTestEmulator, type TestEmulator } from './emulator.ts';
import { freePort } from './ports.ts';
import { StripeEvents } from './stripe-events.ts';
import { pointEmulatorAt } from './webhooks.ts';

export interface WorldOptions {
  /** Start the emulator and give the app the SDK pointed at it (without it, Stripe is a closed port). */
  emulator?: boolean;
  /**
   * The app listens on a loopback port and the emulator sends its signed webhooks there (implies
   * `emulator`). `'held'`: the emulator keeps every event until the test delivers it (`w.events.run`).
   */
  webhooks?: boolean | 'held';
  /**
   * For a browser (implies `webhooks`): the app listens on a port chosen before it is built, so
   * PUBLIC_URL, where Stripe's pages send the browser back, is its address; and the emulator's
   * origin stands in for Stripe's in the content security policy (as in offline mode), since its
   * hosted pages are form targets and Stripe.js is loaded from it. Not with `config`.
   */
  browser?: boolean;
  /** Sign in an admin at start (`w.admin`, `w.adminUser`, `w.actor`). */
  admin?: boolean;
  /** The app's configuration (default: `testConfig()`, offline, silent, its own data directory). */
  config?: Config;
  /** The app's Stripe client instead of the emulator's own (e.g. one with retries or a proxy). */
  stripe?: (emu: TestEmulator) => Stripe;
  /** The database the app uses instead of the file's own pool (e.g. one with a plugin); closed with the world. */
  db?: (database: TestDatabase) => Kysely<Database>;
  /** Extra routes inside the site scope, and a look at every route the app adds (see buildTestApp). */
  register?: (app: FastifyInstance) => void;
  onRoute?: (route: RouteOptions) => void;
}

export interface SignedIn {
  client: TestClient;
  user: User;
  userId: string;
  email: string;
}

/** What a world has only when its options asked for it. */
interface Running {
  emu?: TestEmulator;
  stripe?: Stripe;
  baseUrl?: string;
  events?: StripeEvents;
  admin?: SignedIn;
}

const CLOSE_STEP_LIMIT_MS = 15_000;

/** Waits for `step` up to CLOSE_STEP_LIMIT_MS, then says on stderr that it hung and goes on. */
async function boundedStep(name: string, step: () => Promise<unknown> | undefined, describeHang?: () => string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<'hung'>((resolve) => {
    timer = setTimeout(() => resolve('hung'), CLOSE_STEP_LIMIT_MS);
  });
  try {
    if ((await Promise.race([step(), limit])) === 'hung')
      console.warn(
        `World.close: ${name} did not finish in ${CLOSE_STEP_LIMIT_MS / 1000} s; going on${describeHang === undefined ? '' : `\n${describeHang()}`}`,
      );
  } finally {
    clearTimeout(timer);
  }
}

/**
 * What is still open when the app's close hangs (it did, rarely, in CI): the process's open
 * resources by kind and every TCP socket with its ports, beside the ports of the app, the emulator
 * and the database, so the next reader can tell whose connection keeps it waiting.
 */
function openSockets(ports: Record<string, number | undefined>): string {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  const sockets = handles
    .filter((handle): handle is Socket => handle instanceof Socket)
    .map((socket) => `${socket.localPort ?? '?'} → ${socket.remotePort ?? '?'}${socket.destroyed ? ' (destroyed)' : ''}`);
  const kinds = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  return [
    `  known ports: ${Object.entries(ports)
      .map(([who, port]) => `${who} ${port ?? '-'}`)
      .join(', ')}`,
    `  open resources: ${[...kinds].map(([kind, n]) => `${kind} ×${n}`).join(', ')}`,
    `  TCP sockets (local → remote): ${sockets.join('; ') || 'none'}`,
  ].join('\n');
}

let ipCounter = 0;
/** Each signed-in client comes from its own address, so the per-address login limits never join tests up. */
function nextIp(): string {
  ipCounter += 1;
  return `10.${20 + Math.floor(ipCounter / 62_500)}.${Math.floor(ipCounter / 250) % 250}.${(ipCounter % 250) + 1}`;
}

export class World {
  database!: TestDatabase;
  /** The file's own database (the app's too, unless `options.db` gave it another pool). */
  db!: Kysely<Database>;
  app!: FastifyInstance;
  config!: Config;
  private readonly unanswered = new Set<string>();
  private readonly running: Running = {};

  constructor(private readonly options: WorldOptions = {}) {}

  get emu(): TestEmulator {
    return this.need('emu', 'emulator: true');
  }
  /** The app's Stripe client. */
  get stripe(): Stripe {
    return this.need('stripe', 'emulator: true');
  }
  /** Where the app listens, e.g. `http://127.0.0.1:41234`. */
  get baseUrl(): string {
    return this.need('baseUrl', 'webhooks: true');
  }
  get events(): StripeEvents {
    return this.need('events', 'webhooks: true');
  }
  get admin(): TestClient {
    return this.need('admin', 'admin: true').client;
  }
  get adminUser(): User {
    return this.need('admin', 'admin: true').user;
  }
  /** The signed-in admin as the audit log names them. */
  get actor(): Actor {
    const { user } = this.need('admin', 'admin: true');
    return { id: user.id, email: user.email };
  }

  /**
   * Lets the emulator deliver what it queued and the worker process it, until all is quiet. A
   * property, so a test may take it out of the world (`{ settle }`) and call it alone.
   */
  readonly settle = (): Promise<void> => this.events.settle();

  async start(): Promise<this> {
    const { options } = this;
    const browser = options.browser === true;
    if (browser && options.config !== undefined) throw new Error('a browser world makes its own config (its PUBLIC_URL is its port)');
    const webhooks = browser || (options.webhooks !== undefined && options.webhooks !== false);
    this.database = await createTestDatabase();
    this.db = this.database.db;
    const port = browser ? await freePort() : 0;
    this.config = options.config ?? testConfig(browser ? { PUBLIC_URL: `http://127.0.0.1:${port}` } : {});
    if (options.emulator === true || webhooks) {
      const emu = await startTestEmulator();
      this.running.emu = emu;
      this.running.stripe = options.stripe?.(emu) ?? emu.stripe;
    }
    this.app = await buildTestApp({
      db: options.db?.(this.database) ?? this.db,
      config: this.config,
      ...(this.running.stripe !== undefined ? { stripe: this.running.stripe } : {}),
      ...(browser ? { stripeOrigins: [this.emu.url] } : {}),
      ...(options.register !== undefined ? { register: options.register } : {}),
      ...(options.onRoute !== undefined ? { onRoute: options.onRoute } : {}),
    });
    // Requests over HTTP that have not been answered yet, named if the app's close hangs.
    this.app.server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      const entry = `${request.method ?? '?'} ${(request.url ?? '?').split('?')[0]} from port ${request.socket.remotePort ?? '?'}, since ${new Date().toISOString()}`;
      this.unanswered.add(entry);
      response.once('close', () => this.unanswered.delete(entry));
    });
    if (webhooks) await this.connectWebhooks(port, options.webhooks === 'held');
    if (options.admin === true) this.running.admin = await this.signIn('admin');
    return this;
  }

  /** A client signed in through the real login form as a new user of `role` (or as the user `userId`). */
  signIn(role: Role, userId?: string): Promise<SignedIn> {
    return signInTo(this.app, role, userId);
  }

  async close(): Promise<void> {
    const appDb = this.app?.db;
    // Each step is bounded: in two full CI runs one file's close never finished (which step, not
    // yet known), so the file failed after all its tests had passed. A step that hangs is named on
    // stderr and the next steps still run; dropping the database (WITH FORCE) ends any stuck query.
    const appPort = (() => {
      const address = this.app?.server.address();
      return typeof address === 'object' && address !== null ? address.port : undefined;
    })();
    const databasePort = Number(new URL(process.env.DATABASE_URL ?? 'postgres://x:5432/').port || 5432);
    await boundedStep(
      'app.close()',
      () => this.app?.close(),
      () =>
        `${openSockets({
          app: appPort,
          emulator: this.running.emu === undefined ? undefined : Number(new URL(this.running.emu.url).port),
          database: databasePort,
        })}\n  requests to the app not answered: ${[...this.unanswered].join('; ') || 'none'}`,
    );
    await boundedStep('emulator stop', () => this.running.emu?.stop());
    if (appDb !== undefined && appDb !== this.db) await boundedStep("the app's own pool", () => appDb.destroy());
    await this.database?.close();
  }

  private async connectWebhooks(port: number, held: boolean): Promise<void> {
    const baseUrl = await this.app.listen({ port, host: '127.0.0.1' });
    const secrets = { platform: this.config.stripe.platformWebhookSecret!, connect: this.config.stripe.connectWebhookSecret! };
    await pointEmulatorAt(this.emu, baseUrl, secrets.platform, secrets.connect);
    this.running.baseUrl = baseUrl;
    // The worker runs on the file's own pool: a test's `db` option is the app's alone.
    this.running.events = new StripeEvents(this.emu, this.db, this.stripe, baseUrl, secrets);
    if (held) await this.running.events.hold();
  }

  private need<K extends keyof Running>(key: K, option: string): NonNullable<Running[K]> {
    const value = this.running[key];
    if (value === undefined) throw new Error(`this world has no ${key}: start it with useWorld({ ${option} })`);
    return value;
  }
}

/** A client signed in through the real login form (from an address of its own) as a new user of `role`, or as `userId`. */
export async function signInTo(app: FastifyInstance, role: Role, userId?: string): Promise<SignedIn> {
  const user =
    userId === undefined ? await createTestUser(app.db, role) : await app.db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirstOrThrow();
  const client = new TestClient(app, nextIp());
  const response = await client.post('/login', { email: user.email, password: TEST_PASSWORD });
  expect(response.statusCode).toBe(303);
  return { client, user, userId: user.id, email: user.email };
}

/** Starts a world for a test file (or `describe` block): before its tests, closed after them. */
export function useWorld(options: WorldOptions = {}): World {
  const world = new World(options);
  beforeAll(async () => {
    await world.start();
  });
  afterAll(async () => {
    await world.close();
  });
  return world;
}

/** A world started by hand (a test that needs two, or one with its own lifetime); close it yourself. */
export function startWorld(options: WorldOptions = {}): Promise<World> {
  return new World(options).start();
}

/** Just this file's database, for tests of queries and rules below the app. */
export function useDatabase(): { readonly database: TestDatabase; readonly db: Kysely<Database>; readonly url: string | undefined } {
  let database: TestDatabase | undefined;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.close();
  });
  return {
    get database() {
      return database!;
    },
    get db() {
      return database!.db;
    },
    /** For a second client, e.g. a child process (undefined on PGlite). */
    get url() {
      return database!.url;
    },
  };
}
