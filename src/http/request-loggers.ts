// The logger each request gets (request.log), and the access log Fastify writes with it. Fastify makes one per request by calling the
// factory with an options object even when it holds nothing ({}), and pino treats any options
// object as a reason to take its slow path: it rebuilds its formatters for every request, and for
// a route with a level of its own (the webhooks' `warn`) every log method too. On the webhook
// endpoint, at a few thousand deliveries a second, that was a visible share of its CPU.
// Here a request's logger is a plain child with the request id (pino's fast path), and a route's
// own level is applied once, to one logger per level that the request loggers descend from.
import { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from 'fastify';
import type { FastifyChildLoggerFactory } from 'fastify/types/logger.js';

export function requestLoggerFactory(): FastifyChildLoggerFactory {
  const byLevel = new WeakMap<FastifyBaseLogger, Map<string, FastifyBaseLogger>>();
  const atLevel = (logger: FastifyBaseLogger, level: string): FastifyBaseLogger => {
    let levels = byLevel.get(logger);
    if (levels === undefined) byLevel.set(logger, (levels = new Map<string, FastifyBaseLogger>()));
    let base = levels.get(level);
    if (base === undefined) levels.set(level, (base = logger.child({}, { level })));
    return base;
  };
  return (logger, bindings, options) => {
    const { level, ...other } = options;
    // Anything else (a route's own serializers): pino's general path, as Fastify would.
    if (Object.keys(other).length > 0) return logger.child(bindings, options);
    const parent = level === undefined || level === logger.level ? logger : atLevel(logger, level);
    return parent.child(bindings);
  };
}

/**
 * One access-log line per request, written when it completes: method, URL, client, status and
 * time together. Fastify's default writes two (one on arrival with the request, one on completion
 * with the status), and on a cached catalogue page those two lines were a quarter of the page's
 * CPU. The arrival line is still there at `debug`, for following a request that never completes.
 */
export class AccessLog extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    if (this.isLogDisabled(request)) return;
    request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    if (error) reply.log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
    else reply.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}
