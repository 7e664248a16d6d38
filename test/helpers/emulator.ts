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
  control<T = unknown>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T>;
  /** Advances the emulator's clock (link and session expiry, balance availability, payouts). */
  advanceClock(seconds: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestEmulator(options: { maxNetworkRetries?: number } = {}): Promise<TestEmulator> {
  const emulator = await startEmulator({ port: 0, host: '127.0.0.1' });
  const stripe = createStripeClient({
    secretKey: 'sk_test_emulator',
    emulator: { host: '127.0.0.1', port: emulator.port },
    maxNetworkRetries: options.maxNetworkRetries ?? 0,
    timeoutMs: 10_000,
  });
  const control = async <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> => {
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
    advanceClock: async (seconds) => { await control('POST', '/_emulator/clock/advance', { seconds }); },
    stop: () => emulator.stop(),
  };
}
