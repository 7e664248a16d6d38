import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { pingDatabase } from '../db/ping.ts';

export const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // Process is up: Fly restarts the machine when this stops answering.
  app.get('/healthz', async () => ({ status: 'ok' }));

  // Ready to serve: the database answers. A load balancer takes the instance out while it doesn't.
  app.get('/readyz', async (request, reply) => {
    try {
      await pingDatabase(app.db);
      return { status: 'ready' };
    } catch (error) {
      request.log.warn({ err: error }, 'readiness check: database unavailable');
      return reply.code(503).send({ status: 'unavailable', reason: 'database' });
    }
  });
};
