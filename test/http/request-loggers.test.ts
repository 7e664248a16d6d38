// Each request's logger (src/http/request-loggers.ts): the request id on every line, a route's own
// level applied to that route only, and the server's level everywhere else, before and after.
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { AccessLog, requestLoggerFactory } from '../../src/http/request-loggers.ts';

async function appLoggingTo(lines: Record<string, unknown>[]) {
  const app = Fastify({
    logger: { level: 'info', stream: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } },
    childLoggerFactory: requestLoggerFactory(),
  });
  const logBoth = (message: string) => async (request: { log: { info: (m: string) => void; warn: (m: string) => void } }) => {
    request.log.info(`${message} info`);
    request.log.warn(`${message} warn`);
    return 'ok';
  };
  app.get('/plain', logBoth('plain'));
  app.get('/quiet', { logLevel: 'warn' }, logBoth('quiet'));
  app.get('/serialized', { logSerializers: { user: (user: { name: string }) => user.name } }, async (request) => {
    request.log.info({ user: { name: 'Ada', secret: 'x' } }, 'serialized info');
    return 'ok';
  });
  await app.ready();
  return app;
}

describe('request loggers', () => {
  it("keep the server's level, apply a route's own level to that route only, and tag every line with the request id", async () => {
    const lines: Record<string, unknown>[] = [];
    const app = await appLoggingTo(lines);
    for (const url of ['/plain', '/quiet', '/quiet', '/plain']) expect((await app.inject({ url })).statusCode).toBe(200);
    await app.close();
    // Fastify's own request lines are at info: the quiet route leaves them out too.
    const plain = (id: string) => [
      [id, 'incoming request'],
      [id, 'plain info'],
      [id, 'plain warn'],
      [id, 'request completed'],
    ];
    expect(lines.map((line) => [line.reqId, line.msg])).toEqual([...plain('req-1'), ['req-2', 'quiet warn'], ['req-3', 'quiet warn'], ...plain('req-4')]);
  });

  it("apply a route's own serializers", async () => {
    const lines: Record<string, unknown>[] = [];
    const app = await appLoggingTo(lines);
    await app.inject({ url: '/serialized' });
    await app.close();
    expect(lines.filter((line) => line.msg === 'serialized info')).toEqual([expect.objectContaining({ user: 'Ada', reqId: 'req-1' })]);
  });

  it('write one access line per request, when it completes, with the request and its outcome; the arrival only at debug', async () => {
    for (const level of ['info', 'debug'] as const) {
      const lines: Record<string, unknown>[] = [];
      const app = Fastify({
        logger: { level, stream: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } },
        childLoggerFactory: requestLoggerFactory(),
        logController: new AccessLog(),
      });
      app.get('/page', async () => 'ok');
      app.get('/broken', async () => {
        throw new Error('no');
      });
      await app.inject({ url: '/page?x=1' });
      await app.inject({ url: '/broken' });
      await app.close();
      const access = lines.filter((line) => line.reqId !== undefined && line.msg !== 'no');
      const expected = [
        ...(level === 'debug' ? [{ msg: 'incoming request', reqId: 'req-1', req: expect.objectContaining({ method: 'GET', url: '/page?x=1' }) }] : []),
        {
          msg: 'request completed',
          reqId: 'req-1',
          req: expect.objectContaining({ method: 'GET', url: '/page?x=1' }),
          res: { statusCode: 200 },
          responseTime: expect.any(Number),
        },
        ...(level === 'debug' ? [{ msg: 'incoming request', reqId: 'req-2', req: expect.objectContaining({ url: '/broken' }) }] : []),
        {
          msg: 'request completed',
          reqId: 'req-2',
          req: expect.objectContaining({ method: 'GET', url: '/broken' }),
          res: { statusCode: 500 },
          responseTime: expect.any(Number),
        },
      ];
      expect(access).toEqual(expected.map((entry): unknown => expect.objectContaining(entry)));
    }
  });
});
