import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { pingDatabase } from '../db/ping.ts';
import type { WorkerThreadState } from '../worker/thread-host.ts';

export const healthRoutes: FastifyPluginAsyncTypebox<{ workerState?: (() => WorkerThreadState) | undefined }> = async (app, options) => {
  // Process is up: Fly restarts the machine when this stops answering.
  app.get('/healthz', async () => ({ status: 'ok' }));

  // Ready to serve: the database answers. A load balancer takes the instance out while it doesn't.
  // In a process that runs the worker in a thread (`npm start` with a PostgreSQL server) the body
  // also says whether that thread is running or being replaced after it died (thread-host.ts); it
  // does not make the answer a 503: pages and webhook intake still work, and taking the instance
  // out of the balancer would not bring the worker back sooner.
  const { workerState } = options;
  app.get('/readyz', async (request, reply) => {
    const workerPart = workerState !== undefined ? { worker: workerState() } : {};
    try {
      await pingDatabase(app.db);
      return { status: 'ready', ...workerPart };
    } catch (error) {
      request.log.warn({ err: error }, 'readiness check: database unavailable');
      return reply.code(503).send({ status: 'unavailable', reason: 'database', ...workerPart });
    }
  });
};
