// Load generators, reduced to what the benchmarks report. Loopback only, bounded in time:
// autocannon for "as fast as it will go", and an evenly paced sender for "at N per second".
import { Agent, request as httpRequest } from 'node:http';
import autocannon from 'autocannon';
import type { SignedEvent } from './events.ts';

export interface LoadResult {
  /** Mean requests per second over the run. */
  rps: number;
  p50: number;
  p99: number;
  ok: number;
  non2xx: number;
  errors: number;
  seconds: number;
}

function summarise(result: Awaited<ReturnType<typeof autocannon>>): LoadResult {
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    seconds: result.duration,
  };
}

/** POSTs a fresh signed event per request, as fast as `connections` connections allow. */
export async function postEvents(url: string, next: () => SignedEvent, options: { seconds: number; connections: number; path?: string }): Promise<LoadResult> {
  return summarise(
    await autocannon({
      url,
      connections: options.connections,
      duration: options.seconds,
      timeout: 10,
      requests: [
        {
          method: 'POST',
          setupRequest: (request) => {
            const event = next();
            return {
              ...request,
              path: options.path ?? event.path,
              body: event.body,
              headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': event.signature },
            };
          },
        },
      ],
    }),
  );
}

/**
 * POSTs a fresh signed event every 1/rate s for `seconds`, evenly spaced, over up to `connections`
 * keep-alive connections. Not autocannon's `overallRate`: that lets each connection send its share
 * of a second as fast as it can and then wait for the next second, so "500 per second" arrives as
 * a burst of 500 in the first few hundred milliseconds of every second (measured: ~700/s for
 * 750 ms, then nothing), which is not how Stripe delivers. A request's latency counts from when it
 * was due, so a server that falls behind is not flattered by the sender waiting for it.
 */
export async function postEventsPaced(
  url: string,
  next: () => SignedEvent,
  options: { seconds: number; rate: number; connections: number },
): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  const target = new URL(url);
  const total = Math.round(options.seconds * options.rate);
  const latencies: number[] = [];
  const counts = { ok: 0, non2xx: 0, errors: 0 };
  const pending = new Set<Promise<void>>();
  const send = (dueAt: number) => {
    const event = next();
    const done = new Promise<void>((resolve) => {
      const req = httpRequest(
        {
          agent,
          host: target.hostname,
          port: target.port,
          method: 'POST',
          path: event.path,
          timeout: 10_000,
          headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': event.signature, 'content-length': Buffer.byteLength(event.body) },
        },
        (response) => {
          response.resume();
          response.on('end', () => {
            latencies.push(performance.now() - dueAt);
            if (response.statusCode !== undefined && response.statusCode >= 200 && response.statusCode < 300) counts.ok += 1;
            else counts.non2xx += 1;
            resolve();
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', () => {
        counts.errors += 1;
        resolve();
      });
      req.end(event.body);
    });
    pending.add(done);
    void done.then(() => pending.delete(done));
  };
  const start = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) * options.rate) / 1000) + 1);
      while (sent < due) send(start + (sent++ * 1000) / options.rate);
      if (sent >= total) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(tick, 1);
    tick();
  });
  await Promise.all(pending);
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();
  return {
    rps: total / elapsed,
    p50: Math.round(percentile(latencies, 50)),
    p99: Math.round(percentile(latencies, 99)),
    ...counts,
    seconds: options.seconds,
  };
}

export async function getPage(url: string, options: { seconds: number; connections: number; headers?: Record<string, string> }): Promise<LoadResult> {
  return summarise(
    await autocannon({
      url,
      connections: options.connections,
      duration: options.seconds,
      timeout: 10,
      ...(options.headers ? { headers: options.headers } : {}),
    }),
  );
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

export const seconds = (name: string, fallback: number): number => {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number (got "${raw}")`);
  return value;
};

/** GETs `paths` of `base` in turn, one per request across all connections (to defeat a page cache on purpose). */
export async function getPages(base: string, paths: string[], options: { seconds: number; connections: number }): Promise<LoadResult> {
  let next = 0;
  return summarise(
    await autocannon({
      url: base,
      connections: options.connections,
      duration: options.seconds,
      timeout: 10,
      requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: paths[next++ % paths.length]! }) }],
    }),
  );
}
