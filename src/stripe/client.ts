// The one Stripe client. The API version is pinned here and nowhere else, so an SDK upgrade can't
// silently change the shapes our code and the emulator agree on.
import Stripe from 'stripe';

export const STRIPE_API_VERSION = '2026-10-28.endive' as const;

export interface StripeClientOptions {
  secretKey: string;
  /** Set in offline mode and in tests: the local emulator instead of api.stripe.com. */
  emulator?: { host: string; port: number };
  maxNetworkRetries?: number;
  timeoutMs?: number;
}

export function createStripeClient(options: StripeClientOptions): Stripe {
  return new Stripe(options.secretKey, {
    apiVersion: STRIPE_API_VERSION,
    // Retries reuse the SDK's Idempotency-Key, and our money-moving calls pass keys derived from
    // our own ids, so retrying a POST never moves money twice.
    maxNetworkRetries: options.maxNetworkRetries ?? 2,
    timeout: options.timeoutMs ?? 20_000,
    appInfo: { name: 'marketplace-platform', version: '0.1.0' },
    ...(options.emulator !== undefined ? { host: options.emulator.host, port: options.emulator.port, protocol: 'http' as const } : {}),
  });
}
