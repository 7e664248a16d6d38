/**
 * One `/v1` request, step by step, as Stripe processes it:
 *   fault → API key → route → Stripe-Account → params → idempotency (replay or take the key)
 *   → validation → handler (in the request context, for events) → expand → store → answer.
 * Errors before the handler are answered and never stored; the handler's own StripeErrors are
 * its result (stored for replay, as Stripe does); a crash is a 500 that frees the key.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StripeError, invalidRequest } from './errors.ts';
import { parseForm, validate, canonical, type Params } from './params.ts';
import { API_VERSION } from './events.ts';
import { requestContext } from './context.ts';
import { expandPaths, expandResponse } from './expand.ts';
import { drain, headerValue, readBody, sendJson, asStripeError } from './http-io.ts';
import type { Store } from './store.ts';
import type { Registry, ApiRoute } from './registry.ts';
import type { FaultInjector } from './faults.ts';
import type { IdempotencyEntry, IdempotencyStore } from './idempotency.ts';
import type { RequestLog } from './request-log.ts';
import type { ApiRequest, Fault, RequestLogEntry } from './types.ts';

export interface ApiPipelineDeps {
  registry: Registry;
  faults: FaultInjector;
  idempotency: IdempotencyStore;
  requestLog: RequestLog;
  store: Store;
  platformAccount: string;
  apiKeyPrefix: string;
  /** Is `id` the platform or a known connected account? */
  knownAccount(id: string): boolean;
  /** Something persistent changed (the stored idempotent answers). */
  onStateChange(): void;
}

/** The request being answered: its log entry, and the one place that writes the answer. */
class ApiExchange {
  /** Set by an `apply_then_*` fault: the request runs to the end, then this replaces the answer. */
  loseAnswer: 'apply_then_drop' | 'apply_then_500' | undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly log: RequestLogEntry,
  ) {}

  send(status: number, body: string, headers: Record<string, string> = {}): void {
    if (this.loseAnswer === 'apply_then_drop') return this.closeWithoutAnswer();
    if (this.loseAnswer === 'apply_then_500') {
      const lost = new StripeError({
        status: 500,
        type: 'api_error',
        message: 'An unknown error occurred (injected by the emulator after the request was applied).',
      });
      this.log.status = 500;
      return sendJson(this.res, 500, JSON.stringify(lost.toBody(), null, 2));
    }
    this.log.status = status;
    sendJson(this.res, status, body, headers);
  }

  fail(err: StripeError): void {
    if (this.res.headersSent) return;
    this.send(err.status, JSON.stringify(err.toBody(), null, 2), err.headers ?? {});
  }

  replay(entry: IdempotencyEntry, requestId: string): void {
    this.log.replayed = true;
    this.send(entry.status, entry.body, { 'Idempotent-Replayed': 'true', 'Original-Request': entry.requestId ?? requestId });
  }

  closeWithoutAnswer(): void {
    this.log.status = -1;
    this.req.socket.destroy();
  }
}

export async function handleApiRequest(deps: ApiPipelineDeps, req: IncomingMessage, res: ServerResponse, requestId: string, url: URL): Promise<void> {
  const method = (req.method ?? 'GET').toUpperCase();
  const path = url.pathname;
  const apiVersion = headerValue(req.headers['stripe-version']) ?? API_VERSION;
  res.setHeader('Stripe-Version', apiVersion);
  const idempotencyKey = headerValue(req.headers['idempotency-key']) ?? null;
  const stripeAccount = headerValue(req.headers['stripe-account']) ?? null;
  const log = deps.requestLog.start({ id: requestId, at: Date.now(), method, path, account: stripeAccount, idempotency_key: idempotencyKey, status: 0 });
  const exchange = new ApiExchange(req, res, log);

  const fault = deps.faults.take(method, path);
  if (fault) log.fault = fault.kind;
  const beforeProcessing = await applyFaultBeforeProcessing(deps.faults, fault, exchange);
  if (beforeProcessing.answered) return;
  try {
    await processRequest(deps, exchange, { method, path, url, requestId, apiVersion, idempotencyKey, stripeAccount, preReadBody: beforeProcessing.body });
  } catch (err) {
    await drain(req);
    exchange.fail(asStripeError(err));
  }
}

interface RequestFacts {
  method: string;
  path: string;
  url: URL;
  requestId: string;
  apiVersion: string;
  idempotencyKey: string | null;
  stripeAccount: string | null;
  /** Set when a `delay` fault read the body before waiting. */
  preReadBody: string | undefined;
}

async function processRequest(deps: ApiPipelineDeps, exchange: ApiExchange, facts: RequestFacts): Promise<void> {
  const { req } = exchange;
  const key = authenticate(req.headers.authorization, deps.apiKeyPrefix);
  const route = findRoute(deps.registry, facts.method, facts.path);
  const account = actingAccount(deps, facts.stripeAccount, key);
  const rawParams = await readParams(req, facts);
  const idempotency = idempotencyOf(facts, account, rawParams);
  if (idempotency) {
    const stored = deps.idempotency.lookup(idempotency.scope, idempotency.key, idempotency.fingerprint);
    if (stored) return exchange.replay(stored, facts.requestId);
  }
  const apiReq: ApiRequest = {
    method: facts.method,
    path: facts.path,
    pathParams: route.pathParams,
    params: validateParams(rawParams, route.route),
    account,
    isPlatform: account === deps.platformAccount,
    requestId: facts.requestId,
    idempotencyKey: facts.idempotencyKey,
    apiVersion: facts.apiVersion,
    headers: req.headers,
  };
  if (idempotency) deps.idempotency.begin(idempotency.scope, idempotency.fingerprint);
  const outcome = await runHandler(deps, route.route, apiReq, idempotency?.scope);
  if (idempotency) {
    deps.idempotency.finish(idempotency.scope, { fingerprint: idempotency.fingerprint, requestId: facts.requestId, ...outcome });
    deps.onStateChange();
  }
  exchange.send(outcome.status, outcome.body, outcome.headers);
}

/**
 * Faults that act before the request is processed. `delay` waits, then lets it through (with
 * its body already read, so a caller giving up meanwhile does not cancel it); `apply_then_*`
 * only mark the exchange. Returns whether the request has been dealt with.
 */
async function applyFaultBeforeProcessing(
  faults: FaultInjector,
  fault: Fault | undefined,
  exchange: ApiExchange,
): Promise<{ answered: boolean; body?: string }> {
  if (!fault) return { answered: false };
  const { req } = exchange;
  switch (fault.kind) {
    case 'apply_then_drop':
    case 'apply_then_500':
      exchange.loseAnswer = fault.kind;
      return { answered: false };
    case 'delay': {
      let body: string;
      try {
        body = await readBody(req);
      } catch (err) {
        exchange.fail(err instanceof StripeError ? err : invalidRequest('Could not read the request body.'));
        return { answered: true };
      }
      if (!(await faults.wait(fault.holdMs ?? 1000))) {
        exchange.closeWithoutAnswer();
        return { answered: true };
      }
      return { answered: false, body };
    }
    case '500':
      await drain(req);
      exchange.fail(new StripeError({ status: 500, type: 'api_error', message: 'An unknown error occurred (injected by the emulator).' }));
      return { answered: true };
    case '429':
      await drain(req);
      exchange.fail(
        new StripeError({
          status: 429,
          type: 'invalid_request_error',
          code: 'rate_limit',
          message: 'Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits. (injected by the emulator)',
        }),
      );
      return { answered: true };
    case 'drop':
      await drain(req);
      exchange.closeWithoutAnswer();
      return { answered: true };
    case 'timeout':
      // Never answer; the connection closes after holdMs.
      await drain(req);
      exchange.log.status = -1;
      faults.holdOpen(req.socket, fault.holdMs ?? 30_000);
      return { answered: true };
  }
}

/** The secret key from `Authorization: Bearer …` (or Basic); 401 as Stripe words it. */
function authenticate(authorization: string | undefined, prefix: string): string {
  const key = apiKeyFrom(authorization);
  if (!key) {
    throw new StripeError({
      status: 401,
      type: 'invalid_request_error',
      message:
        "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
    });
  }
  if (!key.startsWith(prefix) || key.length <= prefix.length) {
    throw new StripeError({ status: 401, type: 'invalid_request_error', message: `Invalid API Key provided: ${maskKey(key)}` });
  }
  return key;
}

function findRoute(registry: Registry, method: string, path: string): { route: ApiRoute; pathParams: Record<string, string> } {
  const match = registry.api.match(method, path);
  if (!match) {
    throw new StripeError({
      status: 404,
      type: 'invalid_request_error',
      message: `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
    });
  }
  return { route: match.handler, pathParams: match.pathParams };
}

/** The account the request acts as: `Stripe-Account` (which must exist) or the platform. */
function actingAccount(deps: ApiPipelineDeps, stripeAccount: string | null, key: string): string {
  if (!stripeAccount || stripeAccount === deps.platformAccount) return deps.platformAccount;
  if (deps.knownAccount(stripeAccount)) return stripeAccount;
  throw new StripeError({
    status: 403,
    type: 'invalid_request_error',
    code: 'account_invalid',
    message: `The provided key '${maskKey(key)}' does not have access to account '${stripeAccount}' (or that account does not exist). Application access may have been revoked.`,
  });
}

/** Query string, plus the form body for POST. */
async function readParams(req: IncomingMessage, facts: RequestFacts): Promise<Params> {
  const query = parseForm(facts.url.search.slice(1));
  let body: string;
  try {
    body = facts.preReadBody ?? (facts.method === 'POST' ? await readBody(req) : (await drain(req), ''));
  } catch (err) {
    throw err instanceof StripeError ? err : invalidRequest('Could not read the request body.');
  }
  return facts.method === 'POST' ? { ...query, ...parseForm(body) } : query;
}

/** POSTs with an `Idempotency-Key` are idempotent per account + key. */
function idempotencyOf(facts: RequestFacts, account: string, rawParams: Params): { scope: string; key: string; fingerprint: string } | undefined {
  const key = facts.idempotencyKey;
  if (facts.method !== 'POST' || !key) return undefined;
  if (key.length > 255) throw invalidRequest('Idempotency-Key must be at most 255 characters long.', { param: 'Idempotency-Key' });
  return { scope: `${account}|${key}`, key, fingerprint: `${facts.method} ${facts.path} ${canonical(rawParams)}` };
}

function validateParams(rawParams: Params, route: ApiRoute): Params {
  let v: ReturnType<typeof validate>;
  try {
    v = validate(rawParams, route.spec, []);
  } catch (err) {
    throw err instanceof StripeError ? err : invalidRequest(String(err));
  }
  return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
}

/**
 * Runs the handler inside the request context (so emitted events carry the request id and key)
 * and renders its result with `expand[]`. A StripeError is a result; anything else is a crash:
 * logged, the idempotency key freed, and a 500 thrown.
 */
async function runHandler(
  deps: ApiPipelineDeps,
  route: ApiRoute,
  apiReq: ApiRequest,
  idempotencyScope: string | undefined,
): Promise<{ status: number; body: string; headers: Record<string, string> }> {
  try {
    const context = { id: apiReq.requestId, idempotencyKey: apiReq.idempotencyKey, account: apiReq.account };
    const result = await requestContext.run(context, async () => route.handler(apiReq));
    const expanded = expandResponse(deps.store, JSON.parse(JSON.stringify(result ?? null)) as unknown, expandPaths(apiReq.params.expand));
    return { status: 200, body: JSON.stringify(expanded, null, 2), headers: {} };
  } catch (err) {
    if (err instanceof StripeError) return { status: err.status, body: JSON.stringify(err.toBody(), null, 2), headers: err.headers ?? {} };
    console.error('[stripe-emulator] handler crashed', apiReq.method, apiReq.path, err);
    if (idempotencyScope) deps.idempotency.abandon(idempotencyScope);
    throw new StripeError({ status: 500, type: 'api_error', message: `Internal emulator error: ${err instanceof Error ? err.message : String(err)}` });
  }
}

function apiKeyFrom(auth: string | undefined): string | undefined {
  if (!auth) return undefined;
  const [scheme, value] = auth.split(' ', 2);
  if (!value) return undefined;
  if (scheme?.toLowerCase() === 'bearer') return value.trim();
  if (scheme?.toLowerCase() === 'basic') return Buffer.from(value, 'base64').toString('utf8').split(':')[0];
  return undefined;
}

function maskKey(key: string): string {
  return key.length <= 12 ? key : `${key.slice(0, 8)}${'*'.repeat(Math.max(0, key.length - 12))}${key.slice(-4)}`;
}
