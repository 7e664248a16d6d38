import type Stripe from 'stripe';
import type { Config } from '../config.ts';
import { createStripeClient } from '../stripe/client.ts';

/** Stripe for a command: the configured key, or offline the emulator of a running `npm start` (EMULATOR_PORT). */
export function stripeForCli(config: Config): Stripe {
  return config.stripe.mode === 'offline'
    ? createStripeClient({ secretKey: 'sk_test_offline_emulator', emulator: { host: '127.0.0.1', port: config.emulatorPort } })
    : createStripeClient({ secretKey: config.stripe.secretKey! });
}
