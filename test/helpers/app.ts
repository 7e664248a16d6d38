// Builds the real app for a test file and talks to it through `inject`, keeping cookies and
// filling in CSRF tokens the way a browser with our forms would.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, RouteOptions } from 'fastify';
import type { Kysely } from 'kysely';
import type Stripe from 'stripe';
import { buildApp } from '../../src/app.ts';
import { createUser } from '../../src/auth/users.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import type { Database, Role, User } from '../../src/db/schema.ts';
import { createStripeClient } from '../../src/stripe/client.ts';

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ DATA_DIR: mkdtempSync(join(tmpdir(), 'marketplace-test-')), LOG_LEVEL: 'silent', ...env });
}

export async function buildTestApp(options: {
  db: Kysely<Database>;
  stripe?: Stripe;
  config?: Config;
  /** Where Stripe's pages and Stripe.js come from (for a browser: the emulator's origin; Stripe's own by default). */
  stripeOrigins?: string[];
  /** Extra routes a test needs, inside the site scope (its session hook, CSRF and error pages). */
  register?: (app: FastifyInstance) => void;
  /** Sees every route the app adds (with its schema). */
  onRoute?: (route: RouteOptions) => void;
}): Promise<FastifyInstance> {
  const config = options.config ?? testConfig();
  // Without an emulator, point the SDK at a closed port: a test that reaches Stripe by mistake fails loudly.
  const stripe = options.stripe ?? createStripeClient({ secretKey: 'sk_test_unused', emulator: { host: '127.0.0.1', port: 9 }, maxNetworkRetries: 0 });
  const app = await buildApp({
    config,
    db: options.db,
    stripe,
    logger: false,
    ...(options.stripeOrigins !== undefined ? { stripeOrigins: options.stripeOrigins } : {}),
    ...(options.onRoute !== undefined ? { onRoute: options.onRoute } : {}),
    ...(options.register !== undefined ? { siteRoutes: options.register } : {}),
  });
  await app.ready();
  return app;
}

export interface Response {
  statusCode: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
  location: string | undefined;
}

export class TestClient {
  readonly cookies = new Map<string, string>();
  private csrf: string | undefined;

  constructor(
    readonly app: FastifyInstance,
    readonly ip = '127.0.0.1',
  ) {}

  async get(url: string): Promise<Response> {
    return this.request('GET', url);
  }

  /** Posts a form as a browser would: with the CSRF token from our pages unless `csrf: false`. */
  async post(url: string, fields: Record<string, string | number | boolean> = {}, options: { csrf?: boolean | string } = {}): Promise<Response> {
    const form: Record<string, string> = {};
    for (const [key, value] of Object.entries(fields)) form[key] = String(value);
    if (options.csrf !== false) form._csrf = typeof options.csrf === 'string' ? options.csrf : await this.csrfToken();
    return this.request('POST', url, new URLSearchParams(form).toString());
  }

  async csrfToken(): Promise<string> {
    if (this.csrf === undefined) {
      const page = await this.get('/login');
      const token = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1];
      if (token === undefined) throw new Error('no CSRF token on /login');
      this.csrf = token;
    }
    return this.csrf;
  }

  private async request(method: 'GET' | 'POST', url: string, payload?: string): Promise<Response> {
    const response = await this.app.inject({
      method,
      url,
      remoteAddress: this.ip,
      headers: {
        accept: 'text/html',
        ...(payload !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...(this.cookies.size > 0 ? { cookie: [...this.cookies].map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('; ') } : {}),
      },
      ...(payload !== undefined ? { payload } : {}),
    });
    for (const cookie of response.cookies) {
      // CSRF tokens are bound to the session and their secret is replaced at sign-in and sign-out:
      // as a browser reloading the page would, fetch a fresh token next time.
      if (/^(__Host-)?(session|csrf)$/.test(cookie.name)) this.csrf = undefined;
      const expired = cookie.value === '' || (cookie.expires !== undefined && cookie.expires.getTime() <= Date.now()) || cookie.maxAge === 0;
      if (expired) this.cookies.delete(cookie.name);
      else this.cookies.set(cookie.name, cookie.value);
    }
    const location = response.headers.location;
    return { statusCode: response.statusCode, headers: response.headers, body: response.body, location: typeof location === 'string' ? location : undefined };
  }
}

let userCounter = 0;
export const TEST_PASSWORD = 'correct-horse-battery';

export async function createTestUser(db: Kysely<Database>, role: Role, overrides: { email?: string; displayName?: string } = {}): Promise<User> {
  userCounter += 1;
  const created = await createUser(db, {
    email: overrides.email ?? `${role}-${userCounter}-${Date.now()}@example.test`,
    password: TEST_PASSWORD,
    role,
    displayName: overrides.displayName ?? `Test ${role} ${userCounter}`,
  });
  if (!created.ok) throw new Error(`could not create test ${role}`);
  return created.user;
}

/** A client signed in as a new user of `role`, through the real login form. */
export async function loginAs(app: FastifyInstance, role: Role): Promise<{ client: TestClient; user: User }> {
  const user = await createTestUser(app.db, role);
  const client = new TestClient(app);
  const response = await client.post('/login', { email: user.email, password: TEST_PASSWORD });
  if (response.statusCode !== 303) throw new Error(`login as ${role} failed with ${response.statusCode}`);
  return { client, user };
}
