// Builds the Fastify app: plugins, the session hook, CSRF on every state-changing request, routes
// and error pages. It never listens; server.ts and the tests decide where it runs.
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import view from '@fastify/view';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { fileURLToPath } from 'node:url';
import type Stripe from 'stripe';
import { SESSION_COOKIE, validateSessionToken } from './auth/sessions.ts';
import type { Config } from './config.ts';
import type { Database } from './db/schema.ts';
import { area } from './http/areas.ts';
import { registerErrorPages } from './http/errors.ts';
import { clearSessionCookie, setSessionCookie } from './http/session-cookie.ts';
import './http/types.ts';
import { createViewEngine } from './http/views.ts';
import { accountRoutes } from './routes/account.ts';
import { authRoutes } from './routes/auth.ts';
import { healthRoutes } from './routes/health.ts';
import { publicRoutes } from './routes/public.ts';
import { sellerRoutes } from './routes/seller.ts';
import { orderRoutes } from './routes/orders.ts';
import { adminRoutes } from './routes/admin.ts';
import { adminSellerRoutes } from './routes/admin-sellers.ts';
import { adminOrderRoutes } from './routes/admin-orders.ts';
import { webhookRoutes } from './routes/webhooks.ts';

export interface AppDependencies {
  config: Config;
  db: Kysely<Database>;
  stripe: Stripe;
  /** Where Stripe's hosted pages and Stripe.js come from (the emulator's origin offline). */
  stripeOrigins?: string[];
  logger?: boolean;
  /** Called when a webhook stores a new event: wakes the in-process worker (role `all`). */
  onEventStored?: () => void;
}

const VIEWS_DIR = fileURLToPath(new URL('../views', import.meta.url));
const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const { config } = deps;
  const app = Fastify({
    logger: deps.logger === false ? false : {
      level: config.logLevel,
      // Errors are logged by type and message only: no stack traces, and request logs carry no
      // cookies or authorization headers (Fastify's request serializer omits headers).
      serializers: {
        // pino's type wants a stack; we log an empty one on purpose.
        err: (err: FastifyError) => ({ type: err.name, message: err.message, stack: '', code: err.code, statusCode: err.statusCode }),
      },
    },
    trustProxy: config.secureCookies, // behind Fly's proxy in production, X-Forwarded-For is real
    ajv: { customOptions: { allErrors: true } },
  });

  app.decorate('config', config);
  app.decorate('db', deps.db);
  app.decorate('stripe', deps.stripe);
  app.decorateRequest('auth', null);
  // Set by an area's guard (src/http/areas.ts); `[]`: it depends on no other decorator.
  app.decorateRequest('user', null, []);

  const stripeOrigins = deps.stripeOrigins ?? ['https://js.stripe.com', 'https://checkout.stripe.com', 'https://connect.stripe.com', 'https://*.stripe.com'];
  await app.register(helmet, {
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
    hsts: config.secureCookies,
  });
  await app.register(cookie, { secret: config.cookieSecret });
  await app.register(formbody);
  await app.register(csrf, {
    cookieKey: 'csrf',
    cookieOpts: { path: '/', httpOnly: true, sameSite: 'lax', signed: true, secure: config.secureCookies },
  });
  await app.register(rateLimit, { global: false });
  await app.register(fastifyStatic, { root: `${VIEWS_DIR}/static`, prefix: '/static/', maxAge: '1h' });
  await app.register(view, {
    engine: { handlebars: createViewEngine() },
    root: VIEWS_DIR,
    layout: 'layouts/main.hbs',
    viewExt: 'hbs',
    options: { partials: { nav: 'partials/nav.hbs', field: 'partials/field.hbs', 'buy-form': 'partials/buy-form.hbs' } },
    // Compiled templates are cached (recompiling on every request costs more than the page's own
    // queries); `npm run dev` sets NODE_ENV=development to pick up template edits without a restart.
    production: process.env.NODE_ENV !== 'development',
  });

  app.addHook('onRequest', async (request, reply) => {
    const token = request.cookies[SESSION_COOKIE];
    if (token === undefined) return;
    const validated = await validateSessionToken(app.db, token);
    if (validated === null) {
      clearSessionCookie(reply);
      return;
    }
    request.auth = { user: validated.user, session: validated.session };
    if (validated.renewed) setSessionCookie(reply, token, validated.session.expires_at);
  });

  // CSRF on every state-changing request, before validation, so no route can forget it. Webhooks
  // are exempt: Stripe proves itself with a signature, not a cookie.
  app.addHook('preValidation', (request, reply, done) => {
    if (!UNSAFE_METHODS.has(request.method) || request.url.startsWith('/webhooks/')) return done();
    app.csrfProtection(request, reply, done);
  });

  // Error pages first: Fastify binds the handlers to routes as they are registered.
  registerErrorPages(app);

  await app.register(healthRoutes);
  await app.register(publicRoutes);
  await app.register(authRoutes);
  await app.register(webhookRoutes, { onEventStored: deps.onEventStored });
  // The signed-in areas: each route file is registered behind its area's one guard.
  await app.register(area('any', accountRoutes));
  await app.register(area(['buyer'], orderRoutes));
  await app.register(area(['seller'], sellerRoutes));
  await app.register(area(['admin'], adminRoutes, adminSellerRoutes, adminOrderRoutes));

  return app;
}
