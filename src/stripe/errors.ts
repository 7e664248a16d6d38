// The one reading of a Stripe failure. Every caller needs the same three answers:
// - refused: Stripe answered no (bad request, declined, not allowed); nothing happened there, and
//   its message is fit to show. `accountGone` when the connected account no longer lets us in.
// - unavailable: no usable answer (network, timeout, 5xx, rate limit, or another request with the
//   same idempotency key still in flight). For a write the outcome is unknown: the same request
//   again, with the same key, is safe and tells.
// - undefined: not a Stripe API failure (our bug, a bad key, a key reused with other parameters):
//   let it fail loudly.
import Stripe from 'stripe';

export type StripeProblem = { kind: 'refused'; message: string; code: string | undefined; accountGone: boolean } | { kind: 'unavailable' };

export function classifyStripeError(error: unknown): StripeProblem | undefined {
  if (!(error instanceof Stripe.errors.StripeError)) return undefined;
  if (
    error instanceof Stripe.errors.StripeConnectionError ||
    error instanceof Stripe.errors.StripeAPIError ||
    error instanceof Stripe.errors.StripeRateLimitError ||
    error.statusCode === 409 ||
    (error.statusCode ?? 0) >= 500
  ) {
    return { kind: 'unavailable' };
  }
  if (error instanceof Stripe.errors.StripePermissionError) return { kind: 'refused', message: error.message, code: error.code, accountGone: true };
  if (error instanceof Stripe.errors.StripeInvalidRequestError || error instanceof Stripe.errors.StripeCardError) {
    return { kind: 'refused', message: error.message, code: error.code, accountGone: error.code === 'account_invalid' };
  }
  return undefined;
}

/**
 * Any failure of a Stripe API call, classified above or not (a revoked key, an account that let us
 * go): for an optional read, such as a balance, whose page can say "unavailable" and go on.
 */
export function isStripeFailure(error: unknown): boolean {
  return error instanceof Stripe.errors.StripeError;
}

/** True when a webhook's signature (or its timestamp) did not verify. */
export function isSignatureError(error: unknown): boolean {
  return error instanceof Stripe.errors.StripeSignatureVerificationError;
}

/** Another request with this idempotency key is still being processed at Stripe. */
export function isKeyInUse(error: unknown): boolean {
  return error instanceof Stripe.errors.StripeError && error.statusCode === 409 && error.code === 'idempotency_key_in_use';
}
