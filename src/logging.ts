// Where the process's log lines go. On a terminal: one readable line per entry (pino-pretty), and a
// request as a single "GET /path → 200 (3 ms)" line instead of its JSON access line. Anywhere
// else (a pipe, a file, Fly's log collector): one JSON object per line, for machines.
import { pino, type DestinationStream, type Logger } from 'pino';
import type { Config } from './config.ts';
import { redactSecretFields, redactSecretTokens } from './http/log-redaction.ts';

export interface Logging {
  /** Fastify's logger writes here too (AppDependencies.logStream), so all lines share one order. */
  stream: DestinationStream;
  /** Start-up progress and, as `logger.child({ name: 'worker' })`, the worker. */
  logger: Logger;
  pretty: boolean;
}

/** The writable end we print to: process.stdout, or a stand-in in tests. */
export interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
}

export async function createLogging(level: Config['logLevel'], output: Output = process.stdout): Promise<Logging> {
  const pretty = output.isTTY === true;
  // Synchronous writes: log lines and the plain text server.ts prints (the demo logins) come out in
  // the order they were written.
  const stream: DestinationStream = pretty
    ? await readableStream(output)
    : {
        write: (line: string) => {
          output.write(line);
        },
      };
  const logger = pino(
    {
      level,
      // As in app.ts: an error is its type and message, never a stack trace, and no secret it quoted.
      serializers: { err: (err: unknown) => (err instanceof Error ? { type: err.name, message: redactSecretTokens(err.message) } : err) },
      // The worker, the CLIs and start-up log through this logger, not Fastify's: the same fields are
      // removed (authorization, cookie, password, secrets…), and Stripe keys, webhook secrets, client
      // secrets and card numbers are cut out of messages.
      hooks: {
        streamWrite: redactSecretFields,
        logMethod(args, method) {
          method.apply(this, args.map((arg: unknown) => (typeof arg === 'string' ? redactSecretTokens(arg) : arg)) as Parameters<typeof method>);
        },
      },
    },
    stream,
  );
  return { stream, logger, pretty };
}

async function readableStream(output: Output): Promise<DestinationStream> {
  // Loaded only for a terminal: JSON logging does not pay for it.
  const { prettyFactory } = await import('pino-pretty');
  const prettify = prettyFactory({ colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname', singleLine: true });
  const requests = new RequestLines();
  return {
    write(line: string) {
      let entry: LogEntry;
      try {
        entry = JSON.parse(line) as LogEntry;
      } catch {
        output.write(line);
        return;
      }
      const shown = requests.collapse(withoutTimings(entry));
      if (shown !== undefined) output.write(prettify(shown));
    },
  };
}

type LogEntry = Record<string, unknown> & { msg?: string; reqId?: string };

/** Start-up steps carry their timings for machines (src/bench/startup.ts); their message says it for people. */
function withoutTimings(entry: LogEntry): LogEntry {
  if (entry.step === undefined) return entry;
  const { step: _step, ms: _ms, cpuMs: _cpuMs, role: _role, mode: _mode, ...rest } = entry;
  return rest;
}

/**
 * A request's "request completed" line (status, time; ours also carries the method and URL: see
 * AccessLog in ./http/request-loggers.ts) printed as one line, `GET /path → 200 (3 ms)`. Where an
 * "incoming request" line comes first (Fastify's default, or ours at `debug`), it is held and its
 * method and URL used when the request completes.
 */
export class RequestLines {
  private readonly pending = new Map<string, string>();

  constructor(private readonly limit = 1000) {}

  /** The entry to print, or undefined to print nothing for it. */
  collapse(entry: LogEntry): LogEntry | undefined {
    const { reqId } = entry;
    if (typeof reqId !== 'string') return entry;
    if (entry.msg === 'incoming request') {
      // A request that never completes (a dropped connection) must not be kept for ever.
      if (this.pending.size >= this.limit) this.pending.delete(this.pending.keys().next().value!);
      this.pending.set(reqId, methodAndUrl(entry.req) ?? '');
      return undefined;
    }
    if (entry.msg === 'request completed') {
      const { req, res, responseTime, reqId: _id, ...rest } = entry;
      const request = this.pending.get(reqId) ?? methodAndUrl(req) ?? 'request';
      this.pending.delete(reqId);
      const status = (res as { statusCode?: number } | undefined)?.statusCode;
      const took = typeof responseTime === 'number' ? ` (${Math.round(responseTime)} ms)` : '';
      return { ...rest, msg: `${request} → ${status ?? '?'}${took}` };
    }
    return entry;
  }
}

function methodAndUrl(req: unknown): string | undefined {
  if (req === null || typeof req !== 'object') return undefined;
  const { method, url } = req as { method?: unknown; url?: unknown };
  const text = `${typeof method === 'string' ? method : ''} ${typeof url === 'string' ? url : ''}`.trim();
  return text === '' ? undefined : text;
}
