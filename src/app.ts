// Builds the Fastify app: two sibling scopes — Stripe's webhook endpoints, bare; and the site with
// its plugins, the session hook, CSRF on every state-changing request, routes and error pages.
// It never listens; server.ts and the tests decide where it runs.
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import view from '@fastify/view';
import Fastify, { type FastifyInstance, type FastifyRequest, type RouteOptions } from 'fastify';
import type { Kysely } from 'kysely';
import { fileURLToPath } from 'node:url';
import type { DestinationStream } from 'pino';
import type Stripe from 'stripe';
import { validateSessionToken } from './auth/sessions.ts';
import type { Config } from './config.ts';
import type { Listen } from './db/notifications.ts';
import type { Database } from './db/schema.ts';
import { cachedCatalogue, uncachedCatalogue } from './listings/catalogue-cache.ts';
import { area } from './http/areas.ts';
import { clientAddressOf, trustProxySetting } from './http/client-address.ts';
import { AccessLog, requestLoggerFactory } from './http/request-loggers.ts';
import { csrfPluginOptions } from './http/csrf.ts';
import { formatSchemaErrors, registerErrorPages, registerJsonErrors } from './http/errors.ts';
import { errorLogSerializer, redactSecretFields, requestLogSerializer } from './http/log-redaction.ts';
import { addSecurityHeaders } from './http/security-headers.ts';
import { clearSessionCookie, readSessionCookie, setSessionCookie } from './http/session-cookie.ts';
import './http/types.ts';
import { createViewEngine } from './http/views.ts';
import { accountRoutes } from './routes/account.ts';
import { authRoutes } from './routes/auth.ts';
import { healthRoutes } from './routes/health.ts';
import { publicRoutes } from './routes/public.ts';
import { sellerRoutes } from './routes/seller.ts';
import { sellerPlanRoutes } from './routes/seller-plans.ts';
import { sellerFulfilmentRoutes } from './routes/seller-fulfilment.ts';
import { sellerMoneyRoutes } from './routes/seller-money.ts';
import { orderRoutes } from './routes/orders.ts';
import { paymentMethodRoutes } from './routes/payment-methods.ts';
import { buyerDetailsRoutes } from './routes/buyer-details.ts';
import { buyerSubscriptionRoutes, publicPlanRoutes } from './routes/subscriptions.ts';
import { adminRoutes } from './routes/admin.ts';
import { adminSellerRoutes } from './routes/admin-sellers.ts';
import { adminOrderRoutes } from './routes/admin-orders.ts';
import { adminSubscriptionRoutes } from './routes/admin-subscriptions.ts';
import { adminHealthRoutes, healthMonitorRoutes } from './routes/admin-health.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { publicImageRoutes, sellerImageRoutes } from './routes/images.ts';
import { mailboxRoutes } from './routes/mailbox.ts';
import { accountRecoveryRoutes } from './routes/account-recovery.ts';
import { accountSettingsRoutes } from './routes/account-settings.ts';
import { adminModerationRoutes } from './routes/admin-moderation.ts';
import { adminRefundRequestRoutes, buyerRefundRequestRoutes, sellerRefundRequestRoutes } from './routes/refund-requests.ts';
import { createObjectStorage, type ObjectStorage } from './storage/storage.ts';
import type { WorkerThreadState } from './worker/thread-host.ts';

export interface AppDependencies {
  config: Config;
  db: Kysely<Database>;
  stripe: Stripe;
  /** Where Stripe's hosted pages and Stripe.js come from (the emulator's origin offline). */
  stripeOrigins?: string[];
  logger?: boolean;
  /** Where log lines go (server.ts: readable on a terminal, JSON otherwise; tests read them); stdout if absent. */
  logStream?: DestinationStream;
  /** Called when a webhook stores a new event: wakes the in-process worker (role `all`). */
  onEventStored?: () => void;
  /** The worker thread's state (role `all` with a PostgreSQL server), shown by /readyz. */
  workerState?: () => WorkerThreadState;
  /** Where listing pictures are kept; from config.storage when omitted. */
  storage?: ObjectStorage;
  /** Hear the database's NOTIFYs (the handle's `listen`): turns on the catalogue cache, kept correct across processes. */
  listen?: Listen | undefined;
  /** How long a catalogue page may be kept (default 2 s; a change NOTIFYs and drops it sooner). */
  catalogueCacheMs?: number;
  /** More routes inside the site scope, with its hooks and error pages (tests' probe routes). */
  siteRoutes?: (site: FastifyInstance) => void;
  /** Sees every route as it is added (tests check every route's schemas with it). */
  onRoute?: (route: RouteOptions) => void;
}

/**
 * The webhook routes' log level. Stripe delivers at its own pace (hundreds a second in a busy
 * hour), and each accepted delivery is already recorded in the inbox with its receipt time and
 * shown at /admin/events: with Stripe itself sending (test or live mode), the access-log line
 * per delivery at `info` costs CPU and log volume and tells an operator nothing, so it is
 * left out; refusals (`warn`) and failures to store (`error`) are still logged. Offline, a
 * developer watches the emulator's deliveries arrive, and any other level is kept as set.
 */
export function webhookLogLevel(config: Pick<Config, 'logLevel' | 'stripe'>): Config['logLevel'] {
  return config.logLevel === 'info' && config.stripe.mode !== 'offline' ? 'warn' : config.logLevel;
}

const VIEWS_DIR = fileURLToPath(new URL('../views', import.meta.url));
const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const { config } = deps;
  const app = Fastify({
    logger:
      deps.logger === false
        ? false
        : {
            level: config.logLevel,
            // No stack traces, headers, query values or secret fields in logs (src/http/log-redaction.ts).
            serializers: { err: errorLogSerializer, req: requestLogSerializer },
            hooks: { streamWrite: redactSecretFields },
            ...(deps.logStream !== undefined ? { stream: deps.logStream } : {}),
          },
    childLoggerFactory: requestLoggerFactory(),
    logController: new AccessLog(),
    trustProxy: trustProxySetting(config.clientAddress),
    ajv: { customOptions: { allErrors: true } },
    schemaErrorFormatter: formatSchemaErrors,
  });
  if (deps.onRoute !== undefined) app.addHook('onRoute', deps.onRoute);

  app.decorate('config', config);
  app.decorate('db', deps.db);
  app.decorate('stripe', deps.stripe);
  app.decorateRequest('auth', null);
  app.decorateRequest('clientAddress', {
    getter(this: FastifyRequest) {
      return clientAddressOf(this, config.clientAddress);
    },
  });
  // Set by an area's guard (src/http/areas.ts); `[]`: it depends on no other decorator.
  app.decorateRequest('user', null, []);

  // Stripe's webhooks live outside the site: they carry no cookies, render no page and prove
  // themselves with a signature, so none of the site's helmet headers, cookie parsing, CSRF or
  // session look-up runs for them — only what must happen before the 200 (routes/webhooks.ts).
  // Outside the site, errors are a JSON status and safe words (never Fastify's default, which
  // would log and send the raw message).
  registerJsonErrors(app);
  await app.register(webhookRoutes, { onEventStored: deps.onEventStored, logLevel: webhookLogLevel(config) });

  // Everything else is the site: pages, forms and their guards, in one scope with its plugins and hooks.
  await app.register(async (site) => {
    const stripeOrigins = deps.stripeOrigins ?? ['https://js.stripe.com', 'https://checkout.stripe.com', 'https://connect.stripe.com', 'https://*.stripe.com'];
    addSecurityHeaders(site, {
      stripeOrigins,
      helmet: {
        contentSecurityPolicy: {
          directives: {
            defaultSrc: ["'self'"],
            scriptSrc: ["'self'", ...stripeOrigins],
            frameSrc: ["'self'", ...stripeOrigins],
            connectSrc: ["'self'", ...stripeOrigins],
            imgSrc: ["'self'", 'data:'],
            styleSrc: ["'self'"],
            // Browsers apply form-action to the redirect after a POST: our 303s go to Stripe's pages.
            formAction: ["'self'", ...stripeOrigins],
            upgradeInsecureRequests: config.secureCookies ? [] : null,
          },
        },
        strictTransportSecurity: config.secureCookies,
      },
    });
    await site.register(cookie, { secret: config.cookieSecret });
    await site.register(formbody);
    await site.register(csrf, csrfPluginOptions(config));
    await site.register(rateLimit, { global: false, keyGenerator: (request) => request.clientAddress });
    await site.register(fastifyStatic, { root: `${VIEWS_DIR}/static`, prefix: '/static/', maxAge: '1h' });
    await site.register(view, {
      engine: { handlebars: createViewEngine() },
      root: VIEWS_DIR,
      layout: 'layouts/main.hbs',
      viewExt: 'hbs',
      options: {
        partials: {
          nav: 'partials/nav.hbs',
          field: 'partials/field.hbs',
          'buy-form': 'partials/buy-form.hbs',
          'invoice-table': 'partials/invoice-table.hbs',
          'refund-requests': 'partials/refund-requests.hbs',
          'seller-order-net': 'partials/seller-order-net.hbs',
          'catalogue-search': 'partials/catalogue-search.hbs',
          'catalogue-cards': 'partials/catalogue-cards.hbs',
        },
      },
      // Compiled templates are cached (recompiling on every request costs more than the page's own
      // queries); `npm run dev` sets NODE_ENV=development to pick up template edits without a restart.
      production: process.env.NODE_ENV !== 'development',
    });

    site.addHook('onRequest', async (request, reply) => {
      const token = readSessionCookie(request);
      if (token === undefined) return;
      const validated = await validateSessionToken(app.db, token);
      if (validated === null) {
        clearSessionCookie(reply);
        return;
      }
      request.auth = { user: validated.user, session: validated.session };
      if (validated.renewed) setSessionCookie(reply, token, validated.session.expires_at);
    });

    // CSRF on every state-changing request of the site, before validation, so no route can forget it.
    site.addHook('preValidation', (request, reply, done) => {
      if (!UNSAFE_METHODS.has(request.method)) return done();
      if (request.routeOptions.config.csrfCheckedInHandler === true) return done(); // multipart upload: see routes/images.ts
      site.csrfProtection(request, reply, done);
    });

    // Error pages first: Fastify binds the handlers to routes as they are registered.
    registerErrorPages(site);

    await site.register(healthRoutes, { workerState: deps.workerState });
    const catalogue =
      deps.listen === undefined
        ? uncachedCatalogue(deps.db)
        : await cachedCatalogue(deps.db, deps.listen, {
            ...(deps.catalogueCacheMs !== undefined ? { ttlMs: deps.catalogueCacheMs } : {}),
            onError: (error) => app.log.warn({ err: error }, 'catalogue cache: lost the LISTEN connection; reading the database until it is back'),
          });
    site.addHook('onClose', () => catalogue.stop());
    await site.register(publicRoutes, { catalogue });
    await site.register(authRoutes);
    await site.register(accountRecoveryRoutes);
    const storage = deps.storage ?? createObjectStorage(config.storage);
    await site.register(publicImageRoutes, { storage });
    await site.register(healthMonitorRoutes);
    // The signed-in areas: each route file is registered behind its area's one guard.
    await site.register(area('any', accountRoutes, accountSettingsRoutes));
    await site.register(publicPlanRoutes);
    await site.register(area(['buyer'], orderRoutes, paymentMethodRoutes, buyerDetailsRoutes, buyerSubscriptionRoutes, buyerRefundRequestRoutes));
    await site.register(
      area(['seller'], sellerRoutes, sellerImageRoutes(storage), sellerPlanRoutes, sellerRefundRequestRoutes, sellerMoneyRoutes, sellerFulfilmentRoutes),
    );
    await site.register(
      area(
        ['admin'],
        adminRoutes,
        adminSellerRoutes,
        adminOrderRoutes,
        adminHealthRoutes,
        adminSubscriptionRoutes,
        adminRefundRequestRoutes,
        adminModerationRoutes,
      ),
    );
    await site.register(mailboxRoutes); // offline only, this machine only
    deps.siteRoutes?.(site);
  });

  return app;
}
