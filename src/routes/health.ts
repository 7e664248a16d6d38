import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';

export async function healthRoutes(app: FastifyInstance): Promise<void> {
  // Process is up: Fly restarts the machine when this stops answering.
  app.get('/healthz', async () => ({ status: 'ok' }));

  // Ready to serve: the database answers. A load balancer takes the instance out while it doesn't.
  app.get('/readyz', async (request, reply) => {
    try {
      await sql`select 1`.execute(app.db);
      return { status: 'ready' };
    } catch (error) {
      request.log.warn({ err: error }, 'readiness check: database unavailable');
      return reply.code(503).send({ status: 'unavailable', reason: 'database' });
    }
  });
}
