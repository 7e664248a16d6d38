import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import type { DestinationStream } from 'pino';
import { AccessLog } from '../src/http/request-loggers.ts';
import { createLogging, RequestLines } from '../src/logging.ts';

/** Collects what would reach the terminal or the pipe. */
function output(isTTY: boolean) {
  const chunks: string[] = [];
  return {
    isTTY,
    write: (text: string) => {
      chunks.push(text);
    },
    text: () => chunks.join(''),
  };
}

async function serveOneRequest(stream: DestinationStream) {
  const app = Fastify({ logger: { level: 'info', stream }, logController: new AccessLog() });
  app.get('/listings/:id', async () => ({ ok: true }));
  await app.inject({ method: 'GET', url: '/listings/42?page=2' });
  await app.close();
}

describe('logging', () => {
  it('writes one readable line per request on a terminal', async () => {
    const terminal = output(true);
    const logging = await createLogging('info', terminal);
    await serveOneRequest(logging.stream);
    logging.logger.child({ name: 'worker' }).warn({ failed: 1 }, 'webhook events failed');
    logging.logger.info({ step: 'database', ms: 1234 }, 'Database: opened (1.2 s)');

    const lines = terminal.text().trimEnd().split('\n');
    expect(logging.pretty).toBe(true);
    expect(lines.filter((line) => line.includes('/listings/42'))).toHaveLength(1);
    // eslint-disable-next-line no-control-regex
    const plain = terminal.text().replace(/\u001b\[[0-9;]*m/g, '');
    expect(plain).toMatch(/\[\d\d:\d\d:\d\d\] INFO: GET \/listings\/42\?page=2 → 200 \(\d+ ms\)/);
    expect(plain).toMatch(/WARN \(worker\): webhook events failed/);
    expect(plain).not.toContain('{"level"');
    // A start-up step's timings are for the benchmark; its message already says them.
    expect(plain).toMatch(/INFO: Database: opened \(1\.2 s\)\n/);
  });

  it('writes JSON lines anywhere else', async () => {
    const pipe = output(false);
    const logging = await createLogging('info', pipe);
    await serveOneRequest(logging.stream);
    logging.logger.error({ err: new Error('database away') }, 'worker: could not process the inbox');

    const entries = pipe
      .text()
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logging.pretty).toBe(false);
    // One access line per request, with the request and its outcome.
    expect(entries.map((entry) => entry.msg)).toEqual(['request completed', 'worker: could not process the inbox']);
    expect(entries[0]).toMatchObject({ req: { method: 'GET', url: '/listings/42?page=2' }, res: { statusCode: 200 } });
    expect(typeof entries[0]!.responseTime).toBe('number');
    // No stack traces in logs.
    expect(entries[1]!.err).toEqual({ type: 'Error', message: 'database away' });
  });

  it('keeps secrets out of the process log (worker, CLIs, start-up): fields, keys, webhook secrets, card numbers', async () => {
    const pipe = output(false);
    const logging = await createLogging('info', pipe);
    logging.logger.info({ headers: { authorization: 'Bearer abc', cookie: 'session=xyz' }, password: 'hunter2-hunter2' }, 'calling out');
    logging.logger.warn('key sk_live_51Habc123 and whsec_abcDEF123 and pi_1_secret_zzz9 and card 4242 4242 4242 4242, order 1790000000000');
    logging.logger.error({ err: new Error('Stripe said: invalid key sk_test_51Hxyz789') }, 'failed');
    const text = pipe.text();
    for (const secret of ['Bearer abc', 'session=xyz', 'hunter2', 'sk_live_51Habc123', 'whsec_abcDEF123', 'zzz9', '4242 4242 4242 4242', 'sk_test_51Hxyz789']) {
      expect(text).not.toContain(secret);
    }
    // A long number that is not a card (fails the Luhn check) stays readable.
    expect(text).toContain('order 1790000000000');
    expect(text).toContain('[redacted]');
  });

  it("reads the method and URL from the completed line itself, or from an arrival line held before it (Fastify's default, or ours at debug)", () => {
    const lines = new RequestLines();
    expect(
      lines.collapse({ reqId: 'x', msg: 'request completed', req: { method: 'POST', url: '/login' }, res: { statusCode: 303 }, responseTime: 2.4 })?.msg,
    ).toBe('POST /login → 303 (2 ms)');
    expect(lines.collapse({ reqId: 'y', msg: 'incoming request', req: { method: 'GET', url: '/y' } })).toBeUndefined();
    expect(lines.collapse({ reqId: 'y', msg: 'request completed', res: { statusCode: 200 } })?.msg).toBe('GET /y → 200');
  });

  it('forgets requests that never complete beyond a bound', () => {
    const lines = new RequestLines(2);
    for (const id of ['a', 'b', 'c']) lines.collapse({ reqId: id, msg: 'incoming request', req: { method: 'GET', url: `/${id}` } });
    expect(lines.collapse({ reqId: 'a', msg: 'request completed', res: { statusCode: 200 } })?.msg).toBe('request → 200');
    expect(lines.collapse({ reqId: 'c', msg: 'request completed', res: { statusCode: 404 } })?.msg).toBe('GET /c → 404');
  });
});
