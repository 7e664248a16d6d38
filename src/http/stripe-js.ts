// Where the pay pages (orders, saved cards, subscriptions) load Stripe.js from, and with which key.
import type Stripe from 'stripe';
import type { Config } from '../config.ts';

export interface StripeJsSettings {
  /** Stripe.js: js.stripe.com, or the emulator's stand-in offline. */
  scriptUrl: string;
  publishableKey: string;
}

/** Where the pay page loads Stripe.js from: the emulator the client talks to when offline. */
export function stripeJsSettings(config: Config, stripe: Stripe): StripeJsSettings {
  if (config.stripe.mode === 'offline') {
    // The SDK types its settings as `any`; these are the values createStripeClient set.
    const host = stripe.getApiField('host') as string;
    const port = stripe.getApiField('port') as number;
    const protocol = stripe.getApiField('protocol') as string;
    return { scriptUrl: `${protocol}://${host}:${port}/js/v3.js`, publishableKey: config.stripe.publishableKey ?? 'pk_test_emulator' };
  }
  return { scriptUrl: 'https://js.stripe.com/v3/', publishableKey: config.stripe.publishableKey ?? '' };
}
