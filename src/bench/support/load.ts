// autocannon, reduced to what the benchmarks report. Loopback only, bounded in time.
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

/** POSTs a fresh signed event per request; `rate` caps the total events per second. */
export async function postEvents(
  url: string,
  next: () => SignedEvent,
  options: { seconds: number; connections: number; rate?: number; path?: string },
): Promise<LoadResult> {
  return summarise(
    await autocannon({
      url,
      connections: options.connections,
      duration: options.seconds,
      ...(options.rate !== undefined ? { overallRate: options.rate } : {}),
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
