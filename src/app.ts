// Builds the Fastify app: plugins, the session hook, CSRF on every state-changing request, routes
// and error pages. It never listens; server.ts and the tests decide where it runs.
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import view from '@fastify/view';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { fileURLToPath } from 'node:url';
import type { DestinationStream } from 'pino';
import type Stripe from 'stripe';
import { clearSessionCookie, readSessionCookie, setSessionCookie } from './auth/session-cookie.ts';
import { validateSessionToken } from './auth/sessions.ts';
import type { Config } from './config.ts';
import type { Database } from './db/schema.ts';
import { clientAddressOf, trustProxySetting } from './http/client-address.ts';
import { csrfPluginOptions } from './http/csrf.ts';
import { errorLogSerializer, REDACT_PATHS, REDACTED, requestLogSerializer } from './http/log-redaction.ts';
import { render } from './http/render.ts';
import { addSecurityHeaders } from './http/security-headers.ts';
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
import { adminHealthRoutes } from './routes/admin-health.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { imageRoutes } from './routes/images.ts';
import { createObjectStorage, type ObjectStorage } from './storage/storage.ts';

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
  /** Where listing pictures are kept; from config.storage when omitted. */
  storage?: ObjectStorage;
}

const VIEWS_DIR = fileURLToPath(new URL('../views', import.meta.url));
const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const { config } = deps;
  const app = Fastify({
    logger: deps.logger === false ? false : {
      level: config.logLevel,
      // No stack traces, headers, query values or secret fields in logs (src/http/log-redaction.ts).
      serializers: { err: errorLogSerializer, req: requestLogSerializer },
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      ...(deps.logStream !== undefined ? { stream: deps.logStream } : {}),
    },
    trustProxy: trustProxySetting(config.clientAddress),
    ajv: { customOptions: { allErrors: true } },
  });

  app.decorate('config', config);
  app.decorate('db', deps.db);
  app.decorate('stripe', deps.stripe);
  app.decorateRequest('auth', null);
  app.decorateRequest('clientAddress', { getter(this: FastifyRequest) { return clientAddressOf(this, config.clientAddress); } });

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
  addSecurityHeaders(app, { stripeOrigins });
  await app.register(cookie, { secret: config.cookieSecret });
  await app.register(formbody);
  await app.register(csrf, csrfPluginOptions(config));
  await app.register(rateLimit, { global: false, keyGenerator: (request) => request.clientAddress });
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

  // CSRF on every state-changing request, before validation, so no route can forget it. Webhooks
  // are exempt: Stripe proves itself with a signature, not a cookie.
  app.addHook('preValidation', (request, reply, done) => {
    if (!UNSAFE_METHODS.has(request.method) || request.url.startsWith('/webhooks/')) return done();
    if (request.routeOptions.config.csrfCheckedInHandler === true) return done(); // multipart upload: see routes/images.ts
    app.csrfProtection(request, reply, done);
  });

  // Error pages first: Fastify binds the handlers to routes as they are registered.
  app.setNotFoundHandler(async (request, reply) => {
    if (!wantsHtml(request)) return reply.code(404).send({ error: 'Not found' });
    return render(request, reply, 'errors/404', {}, 404);
  });

  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    const message = publicMessage(error, status);
    if (!wantsHtml(request)) return reply.code(status).send({ error: message });
    return renderErrorPage(request, reply, status, message);
  });

  await app.register(healthRoutes);
  await app.register(publicRoutes);
  await app.register(authRoutes);
  await app.register(accountRoutes);
  await app.register(sellerRoutes);
  await app.register(orderRoutes);
  await app.register(webhookRoutes, { onEventStored: deps.onEventStored });
  await app.register(adminRoutes);
  await app.register(adminSellerRoutes);
  await app.register(adminOrderRoutes);
  await app.register(imageRoutes, { storage: deps.storage ?? createObjectStorage(config.storage) });
  await app.register(adminHealthRoutes);

  return app;
}

function wantsHtml(request: FastifyRequest): boolean {
  if (request.url.startsWith('/webhooks/') || request.url.startsWith('/healthz') || request.url.startsWith('/readyz')) return false;
  const accept = request.headers.accept ?? '';
  return accept === '' || accept.includes('text/html') || accept.includes('*/*');
}

/** What a person may be told: never internals for a 5xx. */
function publicMessage(error: FastifyError, status: number): string {
  if (status >= 500) return 'Something went wrong on our side. Please try again in a moment.';
  if (error.code?.startsWith('FST_CSRF')) return 'This form has expired or was not sent from this site. Reload the page and try again.';
  if (error.validation !== undefined) return `The request was not valid: ${error.message}`;
  if (status === 429) return 'Too many attempts. Please wait a little and try again.';
  return error.message;
}

async function renderErrorPage(request: FastifyRequest, reply: FastifyReply, status: number, message: string): Promise<FastifyReply> {
  const template = status === 404 ? 'errors/404' : status === 403 ? 'errors/403' : status >= 500 ? 'errors/500' : 'errors/400';
  try {
    return await render(request, reply, template, { message, status, requestId: request.id }, status);
  } catch {
    // The error page itself failed (e.g. the view engine): fall back to plain text.
    return reply.code(status).type('text/plain').send(message);
  }
}
