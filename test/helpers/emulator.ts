// A fresh in-memory Stripe emulator per test file, and the real `stripe` SDK pointed at it over
// HTTP: tests exercise exactly the client code production runs. Nothing here mocks the SDK.
import type Stripe from 'stripe';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import { createStripeClient } from '../../src/stripe/client.ts';

export interface TestEmulator {
  emulator: RunningEmulator;
  /** The platform's client, as the app uses it. */
  stripe: Stripe;
  url: string;
  /** Calls the emulator's control API (`/_emulator/...`) and returns its JSON. */
  control<T = unknown>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T>;
  /** Advances the emulator's clock (link and session expiry, balance availability, payouts). */
  advanceClock(seconds: number): Promise<void>;
  /** API requests the emulator received on exactly `path` with `method` (POST unless given), oldest first. */
  requests(path: string, method?: string): Promise<RequestLogEntry[]>;
  /** The emulator's next `count` requests to `path` meet `kind` (emulator README, "Faults"). */
  fault(path: string, kind: string, options?: { count?: number; holdMs?: number; method?: string }): Promise<void>;
  clearFaults(): Promise<void>;
  /** Lets every request a `delay` fault is holding go on now. */
  releaseDelays(): Promise<void>;
  stop(): Promise<void>;
}

export interface RequestLogEntry {
  method: string;
  path: string;
  idempotency_key: string | null;
  status: number;
  fault?: string;
  replayed?: boolean;
}

export async function startTestEmulator(options: { maxNetworkRetries?: number } = {}): Promise<TestEmulator> {
  const emulator = await startEmulator({ port: 0, host: '127.0.0.1' });
  const stripe = createStripeClient({
    secretKey: 'sk_test_emulator',
    emulator: { host: '127.0.0.1', port: emulator.port },
    maxNetworkRetries: options.maxNetworkRetries ?? 0,
    timeoutMs: 10_000,
  });
  const control = async <T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> => {
    // The control API takes JSON only (a cross-site form cannot send it), even with no body.
    const response = await fetch(`${emulator.url}${path}`, {
      method,
      ...(method === 'GET' ? {} : { headers: { 'content-type': 'application/json' } }),
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`emulator control ${method} ${path} → ${response.status}: ${text}`);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  };
  return {
    emulator,
    stripe,
    url: emulator.url,
    control,
    advanceClock: async (seconds) => {
      await control('POST', '/_emulator/clock/advance', { seconds });
    },
    requests: async (path, method = 'POST') => {
      const log = await control<{ data: RequestLogEntry[] }>('GET', `/_emulator/requests?path=${encodeURIComponent(path)}`);
      return log.data.filter((r) => r.method === method && r.path === path);
    },
    fault: async (path, kind, { count = 1, holdMs, method = 'POST' } = {}) => {
      await control('POST', '/_emulator/faults', { method, path, kind, count, ...(holdMs !== undefined ? { holdMs } : {}) });
    },
    clearFaults: async () => {
      await control('DELETE', '/_emulator/faults');
    },
    releaseDelays: async () => {
      await control('POST', '/_emulator/faults/release');
    },
    stop: () => emulator.stop(),
  };
}
