/**
 * Stripe-style API errors. Throw a `StripeError` from any handler; the server turns it into
 * `{error:{type, code, decline_code?, param?, message}}` with the matching HTTP status.
 */
export type StripeErrorType = 'invalid_request_error' | 'api_error' | 'card_error' | 'idempotency_error' | 'authentication_error' | 'rate_limit_error';

export interface StripeErrorInit {
  status: number;
  type: StripeErrorType;
  message: string;
  code?: string | undefined;
  param?: string | undefined;
  decline_code?: string | undefined;
  /** Extra fields copied into the error body (e.g. `payment_intent`, `charge`, `doc_url`). */
  extra?: Record<string, unknown> | undefined;
  /** Extra response headers (e.g. `Stripe-Should-Retry`). */
  headers?: Record<string, string> | undefined;
}

export class StripeError extends Error {
  readonly status: number;
  readonly type: StripeErrorType;
  readonly code: string | undefined;
  readonly param: string | undefined;
  readonly decline_code: string | undefined;
  readonly extra: Record<string, unknown> | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(init: StripeErrorInit) {
    super(init.message);
    this.name = 'StripeError';
    this.status = init.status;
    this.type = init.type;
    this.code = init.code;
    this.param = init.param;
    this.decline_code = init.decline_code;
    this.extra = init.extra;
    this.headers = init.headers;
  }

  toBody(): { error: Record<string, unknown> } {
    const error: Record<string, unknown> = { type: this.type, message: this.message };
    if (this.code !== undefined) error.code = this.code;
    if (this.decline_code !== undefined) error.decline_code = this.decline_code;
    if (this.param !== undefined) error.param = this.param;
    if (this.code !== undefined) error.doc_url = `https://stripe.com/docs/error-codes/${this.code.replace(/_/g, '-')}`;
    if (this.extra) Object.assign(error, this.extra);
    return { error };
  }
}

/** 400 invalid_request_error (or another status when given). */
export function invalidRequest(message: string, opts: { code?: string; param?: string; status?: number; extra?: Record<string, unknown> } = {}): StripeError {
  return new StripeError({
    status: opts.status ?? 400,
    type: 'invalid_request_error',
    message,
    code: opts.code,
    param: opts.param,
    extra: opts.extra,
  });
}

/** 404 resource_missing: `No such <noun>: '<id>'`. `param` defaults to `id`. */
export function resourceMissing(noun: string, id: string, param = 'id'): StripeError {
  return new StripeError({
    status: 404,
    type: 'invalid_request_error',
    code: 'resource_missing',
    param,
    message: `No such ${noun}: '${id}'`,
  });
}

/** 400 parameter_missing. */
export function missingParam(param: string): StripeError {
  return invalidRequest(`Missing required param: ${param}.`, { code: 'parameter_missing', param });
}

/** 402 card_error (declines). */
export function cardError(message: string, opts: { code: string; decline_code?: string; param?: string; extra?: Record<string, unknown> }): StripeError {
  return new StripeError({
    status: 402,
    type: 'card_error',
    message,
    code: opts.code,
    decline_code: opts.decline_code,
    param: opts.param,
    extra: opts.extra,
  });
}

export function apiError(message = 'An unknown error occurred'): StripeError {
  return new StripeError({ status: 500, type: 'api_error', message });
}
