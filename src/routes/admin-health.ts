// Webhook health for operators: /admin/health (page) and /admin/health.json (for monitors: 200
// when healthy, 503 with the warnings otherwise). The page is in the admin area; the JSON is not,
// because it also accepts `Authorization: Bearer <HEALTH_MONITOR_TOKEN>` so an uptime monitor can
// poll it without a session (it checks an admin session or the token itself).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { checkWebhookHealth } from '../health/webhook-health.ts';
import { render } from '../http/render.ts';
import { healthJson, healthView } from './health-view.ts';

export const adminHealthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/admin/health', async (request, reply) => {
    const health = await checkWebhookHealth(app.db, app.config.webhookHealth);
    return render(request, reply, 'admin/health', { health: healthView(health) });
  });
};

export const healthMonitorRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/admin/health.json', async (request, reply) => {
    if (!mayReadHealth(request, app.config.healthMonitorToken)) {
      return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'An admin session or the monitor token is required.' });
    }
    const health = await checkWebhookHealth(app.db, app.config.webhookHealth);
    return reply
      .code(health.status === 'ok' ? 200 : 503)
      .header('cache-control', 'no-store')
      .send(healthJson(health));
  });
};

function mayReadHealth(request: FastifyRequest, token: string | undefined): boolean {
  if (request.auth?.user.role === 'admin') return true;
  const header = request.headers.authorization;
  if (token === undefined || typeof header !== 'string' || !header.startsWith('Bearer ')) return false;
  // Compared as digests: constant time whatever the lengths.
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(header.slice('Bearer '.length)), digest(token));
}
