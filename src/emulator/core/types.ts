/**
 * The types resource modules and callers see: options, the request a handler gets, pages,
 * control endpoints, faults and the request log. Re-exported by core.ts (see ../CORE_API.md).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Params, Spec, SpecLike } from './params.ts';
import type { DeliveryOptions, WebhookConfig } from './webhooks.ts';

export const DEFAULT_PLATFORM_ACCOUNT = 'acct_platform00000000000000';

export interface EmulatorOptions {
  /** 0 = random free port (default 0). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Persist state as JSON here (debounced + on stop) and reload it at start. In-memory when absent. */
  stateFile?: string;
  webhooks?: WebhookConfig;
  /** Base URL for hosted-page links (default: the listen URL). */
  publicUrl?: string;
  /** Required prefix of the secret key (default `sk_test_`). */
  apiKeyPrefix?: string;
  /** Platform account id (default `acct_platform00000000000000`). */
  platformAccountId?: string;
  /** Webhook retry/timeout tuning (tests: e.g. `{retryBaseMs: 20, maxAttempts: 5}`). */
  delivery?: DeliveryOptions;
  /** Run tickers on real time every N ms (balance availability, payouts…). 0/undefined = only on clock advance. */
  tickIntervalMs?: number;
  /** Log each request to stderr. */
  logRequests?: boolean;
  /**
   * Host names clients may use besides loopback names, `host` and `publicUrl`'s host (e.g. a
   * container name). Requests to the API or control API with any other `Host` get 403.
   */
  allowedHosts?: string[];
}

export interface ApiRequest {
  method: string;
  /** Path without query string, e.g. `/v1/payouts/po_123`. */
  path: string;
  pathParams: Record<string, string>;
  /** Validated, coerced parameters (body for POST, query for GET/DELETE). `expand` included. */
  params: Params;
  /** The account this request acts as: the `Stripe-Account` header, or the platform. */
  account: string;
  /** True when no `Stripe-Account` header was sent (or it named the platform). */
  isPlatform: boolean;
  requestId: string;
  idempotencyKey: string | null;
  apiVersion: string;
  headers: IncomingHttpHeaders;
}

export type ApiHandler = (req: ApiRequest) => unknown;

export interface RouteOptions {
  /** Accepted parameters; anything else → 400 parameter_unknown. `expand` is always accepted. */
  params?: Record<string, SpecLike> | Spec;
  /** Required top-level params → 400 parameter_missing. */
  required?: string[];
  /** Adds `limit`, `starting_after`, `ending_before`, `created` (list endpoints). */
  list?: boolean;
}

export interface PageRequest {
  method: string;
  path: string;
  pathParams: Record<string, string>;
  query: Params;
  /** Parsed form body (POST). */
  form: Params;
  headers: IncomingHttpHeaders;
}

export interface PageResponse {
  status?: number;
  html?: string;
  /** 302/303 redirect target. */
  redirect?: string;
  json?: unknown;
  text?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

export type PageHandler = (req: PageRequest) => PageResponse | Promise<PageResponse>;
/** Control handlers return a JSON-serialisable value (status 200) or throw StripeError. */
export type ControlHandler = (req: PageRequest & { body: Record<string, unknown> }) => unknown;

/**
 * What an injected fault does to a matching API request.
 * - Before processing (the request has no effect): `500`, `429`, `timeout` (held open, then
 *   closed), `drop` (socket destroyed).
 * - `delay`: a slow Stripe; the request waits `holdMs`, then is processed and answered normally.
 * - After processing (the answer is lost): `apply_then_drop` destroys the socket and
 *   `apply_then_500` answers 500 `api_error` once the request has had all its effects and its
 *   idempotent result is stored, so only a retry with the same `Idempotency-Key` is safe.
 */
export type FaultKind = '500' | '429' | 'timeout' | 'drop' | 'delay' | 'apply_then_drop' | 'apply_then_500';
export const FAULT_KINDS: readonly FaultKind[] = ['500', '429', 'timeout', 'drop', 'delay', 'apply_then_drop', 'apply_then_500'];

export interface Fault {
  id: string;
  method?: string;
  /** Exact path, or prefix (matches the path itself and anything below it; a trailing `*` also works). */
  path: string;
  kind: FaultKind;
  /** Remaining requests to fail. */
  count: number;
  /** `timeout`: hold the connection this long before closing it (default 30 000 ms). `delay`: wait this long, then process (default 1 000 ms). */
  holdMs?: number;
}

export interface RequestLogEntry {
  id: string;
  at: number;
  method: string;
  path: string;
  account: string | null;
  idempotency_key: string | null;
  /** 0 while in progress; -1 when the connection was closed without an answer. */
  status: number;
  fault?: string;
  replayed?: boolean;
}
