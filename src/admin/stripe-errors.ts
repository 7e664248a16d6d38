// Telling "Stripe refused this request" (nothing happened; show Stripe's words) apart from "we could
// not hear Stripe's answer" (it may or may not have happened; the idempotency key makes a retry safe).
import Stripe from 'stripe';

/** Stripe's own message when it refused the request; undefined when the outcome is unknown. */
export function stripeRefusal(error: unknown): string | undefined {
  if (error instanceof Stripe.errors.StripeInvalidRequestError
    || error instanceof Stripe.errors.StripeCardError
    || error instanceof Stripe.errors.StripePermissionError) {
    return error.message;
  }
  return undefined;
}

export const UNKNOWN_OUTCOME = 'Stripe did not answer in time, so we do not know yet whether this went through. Nothing is recorded as done: press the button again — the same request is sent again and cannot happen twice — or wait for Stripe\'s event.';
