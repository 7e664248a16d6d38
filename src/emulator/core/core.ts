/**
 * The emulator core: state, clock, ledger, events, delivery, routing and the HTTP server.
 * Resource modules receive an `EmulatorCore` and register routes, pages, control endpoints,
 * tickers and seeds on it. See ../CORE_API.md.
 */
import http from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { readFileSync, writeFileSync, renameSync, existsSync } from 'node:fs';
import type Stripe from 'stripe';
import { StripeError, invalidRequest } from './errors.ts';
import { parseForm, validate, toSpec, canonical, p, type Params, type ParamValue, type Spec, type SpecLike } from './params.ts';
import { Store, type Collection, type SerializedStore } from './store.ts';
import { Clock, type Ticker } from './clock.ts';
import { Events, API_VERSION, type EmitInput, type EventOf, type EventType } from './events.ts';
import { Ledger, type PostEntry } from './ledger.ts';
import { WebhookDelivery, type DeliveryOptions, type WebhookConfig, type Target } from './webhooks.ts';
import { Router } from './router.ts';
import { requestContext } from './context.ts';
import { newId, randomToken } from './ids.ts';
import { allowedHostNames, checkControlRequest, checkHost } from './guard.ts';

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

export interface RequestLogEntry {
  id: string;
  at: number;
  method: string;
  path: string;
  account: string | null;
  idempotency_key: string | null;
  status: number;
  fault?: string;
  replayed?: boolean;
}

interface IdempotencyEntry {
  fingerprint: string;
  /** Request-Id of the request that produced the stored response. */
  requestId?: string;
  status: number;
  body: string;
  createdAt: number;
  inFlight?: boolean;
}

interface PersistedState {
  version: 1;
  savedAt: string;
  platformAccount: string;
  clockOffset: number;
  store: SerializedStore;
  idempotency: Array<[string, IdempotencyEntry]>;
  webhooks: WebhookConfig;
}

type ListItem = { id: string; created?: number };

export class EmulatorCore {
  readonly platformAccount: string;
  readonly store = new Store();
  readonly clock = new Clock();
  readonly ledger: Ledger;
  readonly delivery: WebhookDelivery;
  readonly options: EmulatorOptions;
  /** Set once listening. */
  url = '';
  private events: Events;
  private readonly api = new Router<{ handler: ApiHandler; spec: Spec; list: boolean }>();
  private readonly pages = new Router<PageHandler>();
  private readonly controls = new Router<ControlHandler>();
  private readonly seeds: Array<() => void> = [];
  private readonly extraTargets: Array<(evt: Stripe.Event) => Target[]> = [];
  private readonly accountExists: Array<(id: string) => boolean> = [];
  private idempotency = new Map<string, IdempotencyEntry>();
  private faults: Fault[] = [];
  private requestLog: RequestLogEntry[] = [];
  private heldSockets = new Set<Socket>();
  /** Requests waiting out a `delay` fault; `stop()` ends their wait (with `false`). */
  private delayedRequests = new Set<(proceed: boolean) => void>();
  private stopping = false;
  private saveTimer: NodeJS.Timeout | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private server: http.Server | undefined;
  private allowedHosts = new Set<string>();

  constructor(options: EmulatorOptions = {}) {
    this.options = options;
    this.platformAccount = options.platformAccountId ?? DEFAULT_PLATFORM_ACCOUNT;
    this.delivery = new WebhookDelivery(
      { platform: options.webhooks?.platform ?? null, connect: options.webhooks?.connect ?? null },
      options.delivery ?? {},
      (evt) => this.extraTargets.flatMap((f) => f(evt)),
      (id) => this.events.acknowledged(id),
    );
    this.events = new Events(
      this.store.collection<Stripe.Event>('event'),
      this.clock,
      this.platformAccount,
      (evt) => this.delivery.targets(evt).length,
      (evt) => this.delivery.enqueue(evt),
    );
    this.ledger = new Ledger(this.store.collection<Stripe.BalanceTransaction>('balance_transaction'), this.clock, () => this.events, this.platformAccount);
    this.clock.onTick('balance-availability', (now) => this.ledger.release(now));
  }

  // ------------------------------------------------------------------------------------------
  // Module API
  // ------------------------------------------------------------------------------------------

  /** Register a `/v1/...` API route. */
  route(method: string, path: string, options: RouteOptions, handler: ApiHandler): void {
    const fields: Record<string, Spec> = {};
    const base = options.params ? toSpec(options.params) : p.object({});
    if (base.$t !== 'object') throw new Error('route params must be an object spec');
    Object.assign(fields, base.fields);
    fields.expand ??= p.array(p.string);
    if (options.list) {
      fields.limit ??= p.int(1, 100);
      fields.starting_after ??= p.string;
      fields.ending_before ??= p.string;
      fields.created ??= p.range;
    }
    const spec: Spec = { $t: 'object', fields, ...(options.required ? { required: options.required } : {}) };
    this.api.add(method, path, { handler, spec, list: !!options.list });
  }

  /** Register a hosted page (no auth): HTML, redirects, or JSON/text. */
  page(method: string, path: string, handler: PageHandler): void {
    this.pages.add(method, path, handler);
  }

  /** Register a control endpoint under `/_emulator/` (no auth, JSON in/out). `path` must start with `/_emulator/`. */
  control(method: string, path: string, handler: ControlHandler): void {
    if (!path.startsWith('/_emulator/')) throw new Error('control paths live under /_emulator/');
    this.controls.add(method, path, handler);
  }

  /** Run scheduled work whenever time moves (clock advance, or real time with tickIntervalMs). */
  onTick(name: string, fn: Ticker): void {
    this.clock.onTick(name, fn);
  }

  /** Idempotent seeding, run at start (after state load) and after every reset. */
  seed(fn: () => void): void {
    this.seeds.push(fn);
  }

  /** Extra webhook targets (e.g. endpoints created with `webhookEndpoints.create`). */
  addWebhookTargets(fn: (evt: Stripe.Event) => Target[]): void {
    this.extraTargets.push(fn);
  }

  /** Lets `Stripe-Account` validation know which connected accounts exist. */
  addAccountResolver(fn: (id: string) => boolean): void {
    this.accountExists.push(fn);
  }

  collection<T extends { id: string }>(type: string, noun?: string): Collection<T> {
    return this.store.collection<T>(type, noun);
  }

  now(): number {
    return this.clock.now();
  }

  newId(prefix: string): string {
    return newId(prefix);
  }

  /** Create, store and deliver an event. `request` is filled from the request being handled. */
  emitEvent<T extends EventType>(input: EmitInput<T>): EventOf<T> {
    return this.events.emit(input);
  }

  /** Post a balance transaction to an account's ledger. */
  postLedger(entry: PostEntry): Stripe.BalanceTransaction {
    return this.ledger.post(entry);
  }

  /** Absolute URL for a hosted page path (uses `publicUrl` when set). */
  pageUrl(path: string): string {
    const base = (this.options.publicUrl ?? this.url).replace(/\/$/, '');
    return `${base}${path}`;
  }

  /** Apply Stripe's pagination and `created` filters to newest-first items. */
  paginate<T extends ListItem>(req: ApiRequest, items: T[], url: string = req.path): Stripe.ApiList<T> {
    let list = items;
    const created = req.params.created;
    if (typeof created === 'number') list = list.filter((x) => x.created === created);
    else if (created && typeof created === 'object' && !Array.isArray(created)) {
      const r = created;
      list = list.filter((x) => {
        const c = x.created ?? 0;
        if (typeof r.gt === 'number' && !(c > r.gt)) return false;
        if (typeof r.gte === 'number' && !(c >= r.gte)) return false;
        if (typeof r.lt === 'number' && !(c < r.lt)) return false;
        if (typeof r.lte === 'number' && !(c <= r.lte)) return false;
        return true;
      });
    }
    const limit = typeof req.params.limit === 'number' ? req.params.limit : 10;
    const after = typeof req.params.starting_after === 'string' && req.params.starting_after ? req.params.starting_after : undefined;
    const before = typeof req.params.ending_before === 'string' && req.params.ending_before ? req.params.ending_before : undefined;
    if (after) {
      const i = list.findIndex((x) => x.id === after);
      if (i < 0) throw invalidRequest(`Invalid starting_after id: ${after}`, { param: 'starting_after', code: 'resource_missing' });
      list = list.slice(i + 1);
      return { object: 'list', data: list.slice(0, limit), has_more: list.length > limit, url };
    }
    if (before) {
      const i = list.findIndex((x) => x.id === before);
      if (i < 0) throw invalidRequest(`Invalid ending_before id: ${before}`, { param: 'ending_before', code: 'resource_missing' });
      const prior = list.slice(0, i);
      const page = prior.slice(Math.max(0, prior.length - limit));
      return { object: 'list', data: page, has_more: prior.length > limit, url };
    }
    return { object: 'list', data: list.slice(0, limit), has_more: list.length > limit, url };
  }

  /** An account (platform or connected) by id, as stored by the Connect module. */
  getAccount(id: string): Stripe.Account | undefined {
    return this.store.collection<Stripe.Account>('account').get(id);
  }

  /** Is `id` the platform or a known connected account? */
  knownAccount(id: string): boolean {
    return id === this.platformAccount || this.accountExists.some((f) => f(id));
  }

  // ------------------------------------------------------------------------------------------
  // Control operations (also used in-process by tests)
  // ------------------------------------------------------------------------------------------

  advanceClock(seconds: number): Promise<number> {
    return this.clock.advance(seconds);
  }

  flushDeliveries(): Promise<void> {
    return this.delivery.flush();
  }

  addFault(f: Omit<Fault, 'id'>): Fault {
    const fault: Fault = { ...f, id: `flt_${randomToken(10)}` };
    this.faults.push(fault);
    return fault;
  }

  requests(): RequestLogEntry[] {
    return [...this.requestLog];
  }

  reset(): void {
    this.store.clear();
    this.idempotency.clear();
    this.faults = [];
    this.requestLog = [];
    this.delivery.clearLog();
    this.delivery.setMode({ mode: 'normal' });
    this.clock.offset = 0;
    this.clock.syncLastTick();
    for (const s of this.seeds) s();
  }

  // ------------------------------------------------------------------------------------------
  // Lifecycle
  // ------------------------------------------------------------------------------------------

  async listen(): Promise<{ url: string; port: number }> {
    this.loadState();
    this.clock.syncLastTick();
    for (const s of this.seeds) s();
    this.registerCoreControls();
    this.store.onChange = () => this.scheduleSave();
    const server = http.createServer((req, res) => {
      void this.handle(req, res).catch((err: unknown) => {
        console.error('[stripe-emulator] unhandled', err);
        if (!res.headersSent) this.sendError(res, new StripeError({ status: 500, type: 'api_error', message: 'Internal emulator error' }));
      });
    });
    this.server = server;
    server.keepAliveTimeout = 5000;
    const host = this.options.host ?? '127.0.0.1';
    this.allowedHosts = allowedHostNames({ listenHost: host, publicUrl: this.options.publicUrl, allowedHosts: this.options.allowedHosts });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, host, () => resolve());
    });
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    this.url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    if (this.options.tickIntervalMs && this.options.tickIntervalMs > 0) {
      this.tickTimer = setInterval(() => void this.clock.tick(), this.options.tickIntervalMs);
      this.tickTimer.unref();
    }
    return { url: this.url, port };
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const finish of [...this.delayedRequests]) finish(false);
    if (this.tickTimer) clearInterval(this.tickTimer);
    this.delivery.stop();
    for (const s of this.heldSockets) s.destroy();
    this.heldSockets.clear();
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      this.saveTimer = undefined;
    }
    this.saveState();
    const server = this.server;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
  }

  private scheduleSave(): void {
    if (!this.options.stateFile || this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      try {
        this.saveState();
      } catch (err) {
        console.error(`[stripe-emulator] could not save state to ${this.options.stateFile}:`, err);
      }
    }, 200);
    this.saveTimer.unref();
  }

  saveState(): void {
    const file = this.options.stateFile;
    if (!file) return;
    const cutoff = Date.now() - 24 * 3600 * 1000;
    const state: PersistedState = {
      version: 1,
      savedAt: new Date().toISOString(),
      platformAccount: this.platformAccount,
      clockOffset: this.clock.offset,
      store: this.store.serialize(),
      idempotency: [...this.idempotency.entries()].filter(([, e]) => !e.inFlight && e.createdAt > cutoff),
      webhooks: this.delivery.config,
    };
    const tmp = `${file}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(state));
    renameSync(tmp, file);
  }

  private loadState(): void {
    const file = this.options.stateFile;
    if (!file || !existsSync(file)) return;
    const state = JSON.parse(readFileSync(file, 'utf8')) as PersistedState;
    if (state.version !== 1) throw new Error(`unsupported emulator state version in ${file}`);
    this.store.load(state.store);
    this.clock.offset = state.clockOffset;
    this.idempotency = new Map(state.idempotency);
    // endpoints given as options win over persisted ones
    this.delivery.config = {
      platform: this.options.webhooks?.platform ?? state.webhooks?.platform ?? null,
      connect: this.options.webhooks?.connect ?? state.webhooks?.connect ?? null,
    };
  }

  // ------------------------------------------------------------------------------------------
  // HTTP
  // ------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = `req_${randomToken(14)}`;
    res.setHeader('Request-Id', requestId);
    const url = new URL(req.url ?? '/', 'http://emulator.local');
    const path = url.pathname;
    const method = (req.method ?? 'GET').toUpperCase();
    if (this.options.logRequests) console.error(`[stripe-emulator] ${method} ${path}`);

    const page = path.startsWith('/_emulator/') ? undefined : this.pages.match(method, path);
    if (page) return this.handlePage(req, res, method, path, url, page.handler, page.pathParams);
    try {
      checkHost(req.headers, this.allowedHosts);
      if (path.startsWith('/_emulator/')) checkControlRequest(method, req.headers);
    } catch (err) {
      await drain(req);
      if (err instanceof StripeError) return this.sendError(res, err);
      throw err;
    }
    if (path.startsWith('/_emulator/')) return this.handleControl(req, res, method, path, url);
    return this.handleApi(req, res, method, path, url, requestId);
  }

  private async handleApi(req: IncomingMessage, res: ServerResponse, method: string, path: string, url: URL, requestId: string): Promise<void> {
    const apiVersion = headerValue(req.headers['stripe-version']) ?? API_VERSION;
    res.setHeader('Stripe-Version', apiVersion);
    const stripeAccount = headerValue(req.headers['stripe-account']) ?? null;
    const idemKey = headerValue(req.headers['idempotency-key']) ?? null;
    const log: RequestLogEntry = { id: requestId, at: Date.now(), method, path, account: stripeAccount, idempotency_key: idemKey, status: 0 };
    this.requestLog.push(log);
    if (this.requestLog.length > 2000) this.requestLog.splice(0, this.requestLog.length - 2000);
    // `apply_then_*` faults: everything below runs as usual, only the answer is replaced.
    let loseAnswer: Fault['kind'] | undefined;
    const send = (status: number, body: string, headers: Record<string, string>): void => {
      if (loseAnswer === 'apply_then_drop') {
        log.status = -1;
        req.socket.destroy();
        return;
      }
      if (loseAnswer === 'apply_then_500') {
        const lost = new StripeError({ status: 500, type: 'api_error', message: 'An unknown error occurred (injected by the emulator after the request was applied).' });
        log.status = 500;
        res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(lost.toBody(), null, 2));
        return;
      }
      log.status = status;
      res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
      res.end(body);
    };
    const respond = (status: number, body: string, extra: Record<string, string> = {}): void => send(status, body, extra);
    const fail = (err: StripeError): void => {
      if (res.headersSent) return;
      send(err.status, JSON.stringify(err.toBody(), null, 2), err.headers ?? {});
    };

    // Fault injection (before anything else, like an upstream failure)
    let preReadBody: string | undefined;
    const fault = this.takeFault(method, path);
    if (fault) {
      log.fault = fault.kind;
      if (fault.kind === 'apply_then_drop' || fault.kind === 'apply_then_500') {
        loseAnswer = fault.kind;
      } else if (fault.kind === 'delay') {
        // Read the body first: a client that gives up during the wait must not lose the request.
        try {
          preReadBody = await readBody(req);
        } catch (err) {
          return fail(err instanceof StripeError ? err : invalidRequest('Could not read the request body.'));
        }
        if (!(await this.hold(fault.holdMs ?? 1000))) {
          req.socket.destroy();
          return;
        }
      } else {
        await drain(req);
        if (fault.kind === '500') return fail(new StripeError({ status: 500, type: 'api_error', message: 'An unknown error occurred (injected by the emulator).' }));
        if (fault.kind === '429')
          return fail(
            new StripeError({ status: 429, type: 'invalid_request_error', code: 'rate_limit', message: 'Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits. (injected by the emulator)' }),
          );
        if (fault.kind === 'drop') {
          log.status = -1;
          req.socket.destroy();
          return;
        }
        // timeout: never answer; close after holdMs
        log.status = -1;
        const sock = req.socket;
        this.heldSockets.add(sock);
        const t = setTimeout(() => {
          sock.destroy();
          this.heldSockets.delete(sock);
        }, fault.holdMs ?? 30_000);
        t.unref();
        sock.once('close', () => {
          clearTimeout(t);
          this.heldSockets.delete(sock);
        });
        return;
      }
    }

    // Authentication
    const key = apiKeyFrom(req.headers.authorization);
    const prefix = this.options.apiKeyPrefix ?? 'sk_test_';
    if (!key) {
      await drain(req);
      return fail(
        new StripeError({
          status: 401,
          type: 'invalid_request_error',
          message: "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
        }),
      );
    }
    if (!key.startsWith(prefix) || key.length <= prefix.length) {
      await drain(req);
      return fail(new StripeError({ status: 401, type: 'invalid_request_error', message: `Invalid API Key provided: ${maskKey(key)}` }));
    }

    // Routing
    const match = this.api.match(method, path);
    if (!match) {
      await drain(req);
      return fail(
        new StripeError({
          status: 404,
          type: 'invalid_request_error',
          message: `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
        }),
      );
    }

    // Account context
    let account = this.platformAccount;
    if (stripeAccount && stripeAccount !== this.platformAccount) {
      if (!this.knownAccount(stripeAccount)) {
        await drain(req);
        return fail(
          new StripeError({
            status: 403,
            type: 'invalid_request_error',
            code: 'account_invalid',
            message: `The provided key '${maskKey(key)}' does not have access to account '${stripeAccount}' (or that account does not exist). Application access may have been revoked.`,
          }),
        );
      }
      account = stripeAccount;
    }

    // Parameters
    let rawParams: Params;
    try {
      const body = preReadBody ?? (method === 'POST' ? await readBody(req) : (await drain(req), ''));
      rawParams = method === 'POST' ? { ...parseForm(url.search.slice(1)), ...parseForm(body) } : parseForm(url.search.slice(1));
    } catch (err) {
      return fail(err instanceof StripeError ? err : invalidRequest('Could not read the request body.'));
    }

    // Idempotency (POST only): scoped per account + key
    const idemScope = method === 'POST' && idemKey ? `${account}|${idemKey}` : undefined;
    const fingerprint = `${method} ${path} ${canonical(rawParams)}`;
    if (idemScope) {
      if (idemKey && idemKey.length > 255) return fail(invalidRequest('Idempotency-Key must be at most 255 characters long.', { param: 'Idempotency-Key' }));
      const prev = this.idempotency.get(idemScope);
      if (prev) {
        if (prev.fingerprint !== fingerprint) {
          return fail(
            new StripeError({
              status: 400,
              type: 'idempotency_error',
              message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idemKey}' if you meant to execute a different request.`,
            }),
          );
        }
        if (prev.inFlight) {
          return fail(
            new StripeError({
              status: 409,
              type: 'invalid_request_error',
              code: 'idempotency_key_in_use',
              message: 'There is currently another in-progress request using this Stripe-Account and Idempotency-Key. Please try again later.',
            }),
          );
        }
        log.replayed = true;
        return respond(prev.status, prev.body, { 'Idempotent-Replayed': 'true', 'Original-Request': prev.requestId ?? requestId });
      }
    }

    let params: Params;
    try {
      const v = validate(rawParams, match.handler.spec, []);
      params = v && typeof v === 'object' && !Array.isArray(v) ? v : {};
    } catch (err) {
      return fail(err instanceof StripeError ? err : invalidRequest(String(err)));
    }

    const apiReq: ApiRequest = {
      method,
      path,
      pathParams: match.pathParams,
      params,
      account,
      isPlatform: account === this.platformAccount,
      requestId,
      idempotencyKey: idemKey,
      apiVersion,
      headers: req.headers,
    };
    if (idemScope) this.idempotency.set(idemScope, { fingerprint, status: 0, body: '', createdAt: Date.now(), inFlight: true });

    let status = 200;
    let body: string;
    let errorHeaders: Record<string, string> = {};
    try {
      const result = await requestContext.run({ id: requestId, idempotencyKey: idemKey, account }, async () => match.handler.handler(apiReq));
      const expanded = this.expand(JSON.parse(JSON.stringify(result ?? null)) as unknown, expandPaths(params.expand), account);
      body = JSON.stringify(expanded, null, 2);
    } catch (err) {
      if (!(err instanceof StripeError)) {
        console.error('[stripe-emulator] handler crashed', method, path, err);
        if (idemScope) this.idempotency.delete(idemScope);
        return fail(new StripeError({ status: 500, type: 'api_error', message: `Internal emulator error: ${err instanceof Error ? err.message : String(err)}` }));
      }
      status = err.status;
      body = JSON.stringify(err.toBody(), null, 2);
      errorHeaders = err.headers ?? {};
    }
    if (idemScope) {
      this.idempotency.set(idemScope, { fingerprint, requestId, status, body, createdAt: Date.now() });
      if (this.idempotency.size > 20_000) this.pruneIdempotency();
      this.scheduleSave();
    }
    respond(status, body, errorHeaders);
  }

  /** Stripe prunes keys after at least 24 hours. */
  private pruneIdempotency(): void {
    const cutoff = Date.now() - 24 * 3600 * 1000;
    for (const [k, e] of this.idempotency) if (!e.inFlight && e.createdAt < cutoff) this.idempotency.delete(k);
  }

  /** Wait `ms` on a timer (the event loop stays free for other requests). False when stopping. */
  private hold(ms: number): Promise<boolean> {
    if (this.stopping) return Promise.resolve(false);
    return new Promise((resolve) => {
      const finish = (proceed: boolean): void => {
        clearTimeout(timer);
        this.delayedRequests.delete(finish);
        resolve(proceed);
      };
      const timer = setTimeout(() => finish(true), ms);
      this.delayedRequests.add(finish);
    });
  }

  private takeFault(method: string, path: string): Fault | undefined {
    const f = this.faults.find((x) => {
      if (x.count <= 0) return false;
      if (x.method && x.method.toUpperCase() !== method) return false;
      if (x.path.endsWith('*')) return path.startsWith(x.path.slice(0, -1));
      return path === x.path || path.startsWith(x.path.endsWith('/') ? x.path : `${x.path}/`);
    });
    if (!f) return undefined;
    f.count -= 1;
    if (f.count <= 0) this.faults = this.faults.filter((x) => x !== f);
    return f;
  }

  /** Apply `expand[]` paths (nested with dots; `data.` for lists) to a response. */
  private expand(value: unknown, paths: string[], account: string): unknown {
    for (const path of paths) this.expandPath(value, path.split('.'), account);
    return value;
  }

  private expandPath(node: unknown, segs: string[], account: string): void {
    if (!node || typeof node !== 'object' || segs.length === 0) return;
    if (Array.isArray(node)) {
      for (const x of node) this.expandPath(x, segs, account);
      return;
    }
    const obj = node as Record<string, unknown>;
    const [head, ...rest] = segs;
    if (head === undefined) return;
    let v = obj[head];
    if (typeof v === 'string') {
      const rec = this.store.getRecord(v);
      if (rec) {
        v = JSON.parse(JSON.stringify(rec.data)) as unknown;
        obj[head] = v;
      }
    }
    if (rest.length > 0) this.expandPath(v, rest, account);
  }

  private async handlePage(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    path: string,
    url: URL,
    handler: PageHandler,
    pathParams: Record<string, string>,
  ): Promise<void> {
    const body = method === 'POST' ? await readBody(req) : (await drain(req), '');
    const ct = headerValue(req.headers['content-type']) ?? '';
    const form: Params = ct.includes('application/json') && body ? jsonToParams(body) : parseForm(body);
    let out: PageResponse;
    try {
      out = await handler({ method, path, pathParams, query: parseForm(url.search.slice(1)), form, headers: req.headers });
    } catch (err) {
      if (err instanceof StripeError) {
        this.sendError(res, err);
        return;
      }
      throw err;
    }
    const headers: Record<string, string> = { 'Cache-Control': 'no-store', ...(out.headers ?? {}) };
    if (out.redirect) {
      res.writeHead(out.status ?? 303, { ...headers, Location: out.redirect });
      res.end();
    } else if (out.html !== undefined) {
      res.writeHead(out.status ?? 200, { ...headers, 'Content-Type': 'text/html; charset=utf-8' });
      res.end(out.html);
    } else if (out.json !== undefined) {
      res.writeHead(out.status ?? 200, { ...headers, 'Content-Type': 'application/json' });
      res.end(JSON.stringify(out.json, null, 2));
    } else {
      res.writeHead(out.status ?? 200, { ...headers, 'Content-Type': out.contentType ?? 'text/plain; charset=utf-8' });
      res.end(out.text ?? '');
    }
  }

  private async handleControl(req: IncomingMessage, res: ServerResponse, method: string, path: string, url: URL): Promise<void> {
    const raw = method === 'GET' ? (await drain(req), '') : await readBody(req);
    let body: Record<string, unknown> = {};
    if (raw.trim()) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        return this.sendError(res, invalidRequest('Control API: body is not valid JSON.'));
      }
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return this.sendError(res, invalidRequest('Control API: the body must be a JSON object.'));
      body = parsed as Record<string, unknown>;
    }
    const match = this.controls.match(method, path);
    if (!match) {
      return this.sendError(res, new StripeError({ status: 404, type: 'invalid_request_error', message: `Unknown control endpoint (${method}: ${path}).` }));
    }
    try {
      const query = parseForm(url.search.slice(1));
      const out = await match.handler({ method, path, pathParams: match.pathParams, query, form: {}, headers: req.headers, body });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(out ?? { ok: true }, null, 2));
    } catch (err) {
      if (err instanceof StripeError) return this.sendError(res, err);
      this.sendError(res, new StripeError({ status: 500, type: 'api_error', message: err instanceof Error ? err.message : String(err) }));
    }
  }

  private sendError(res: ServerResponse, err: StripeError): void {
    if (res.headersSent) return;
    res.writeHead(err.status, { 'Content-Type': 'application/json', ...(err.headers ?? {}) });
    res.end(JSON.stringify(err.toBody(), null, 2));
  }

  private registerCoreControls(): void {
    if (this.controls.match('GET', '/_emulator/health')) return;
    this.control('GET', '/_emulator/health', () => ({ ok: true, platform_account: this.platformAccount, now: this.clock.now(), url: this.url }));
    this.control('GET', '/_emulator/clock', () => ({ now: this.clock.now(), offset: this.clock.offset }));
    this.control('POST', '/_emulator/clock/advance', async ({ body }) => {
      let seconds = Number(body.seconds ?? 0) + Number(body.minutes ?? 0) * 60 + Number(body.hours ?? 0) * 3600 + Number(body.days ?? 0) * 86400;
      if (body.to !== undefined) seconds = Number(body.to) - this.clock.now();
      if (!Number.isFinite(seconds) || seconds < 0) throw invalidRequest('seconds must be a non-negative number (time only moves forward)', { param: 'seconds' });
      const now = await this.advanceClock(seconds);
      return { now, offset: this.clock.offset };
    });
    // Secrets are write-only here: whoever configures an endpoint already knows its secret.
    this.control('GET', '/_emulator/webhooks', () => webhookConfigView(this.delivery.config));
    this.control('POST', '/_emulator/webhooks', ({ body }) => {
      const ep = (v: unknown): WebhookConfig['platform'] => {
        if (v === null || v === '') return null;
        if (!v || typeof v !== 'object') throw invalidRequest('endpoint must be {url, secret} or null');
        const o = v as Record<string, unknown>;
        if (typeof o.url !== 'string' || typeof o.secret !== 'string') throw invalidRequest('endpoint needs url and secret strings');
        return { url: o.url, secret: o.secret };
      };
      if ('platform' in body) this.delivery.config.platform = ep(body.platform);
      if ('connect' in body) this.delivery.config.connect = ep(body.connect);
      this.scheduleSave();
      return webhookConfigView(this.delivery.config);
    });
    this.control('GET', '/_emulator/delivery', () => this.delivery.getMode());
    this.control('POST', '/_emulator/delivery', ({ body }) => {
      const mode = String(body.mode ?? 'normal');
      if (!['normal', 'duplicate', 'reorder', 'drop', 'delay'].includes(mode)) throw invalidRequest(`Invalid mode: ${mode}`, { param: 'mode' });
      const num = (k: string): number | undefined => (body[k] === undefined ? undefined : Number(body[k]));
      const types = Array.isArray(body.types) ? body.types.map(String) : undefined;
      this.delivery.setMode({
        mode: mode as 'normal',
        count: num('count'),
        delayMs: num('delayMs') ?? num('delay_ms'),
        copies: num('copies'),
        batch: num('batch'),
        types,
      });
      return this.delivery.getMode();
    });
    this.control('POST', '/_emulator/delivery/flush', async () => {
      await this.delivery.flush();
      return { ok: true, deliveries: this.publicDeliveries().length };
    });
    this.control('GET', '/_emulator/deliveries', ({ query }) => {
      let list = this.publicDeliveries();
      if (typeof query.event === 'string') list = list.filter((d) => d.event === query.event);
      if (typeof query.status === 'string') list = list.filter((d) => d.status === query.status);
      if (typeof query.endpoint === 'string') list = list.filter((d) => d.endpoint === query.endpoint);
      if (typeof query.type === 'string') list = list.filter((d) => d.event_type === query.type);
      return { object: 'list', data: list };
    });
    this.control('DELETE', '/_emulator/deliveries', () => {
      this.delivery.clearLog();
      return { ok: true };
    });
    this.control('GET', '/_emulator/faults', () => ({ object: 'list', data: this.faults }));
    this.control('POST', '/_emulator/faults', ({ body }) => {
      const kind = String(body.kind ?? '500');
      if (!isFaultKind(kind)) throw invalidRequest(`Invalid kind: ${kind} (one of ${FAULT_KINDS.join(', ')})`, { param: 'kind' });
      if (typeof body.path !== 'string' || !body.path.startsWith('/')) throw invalidRequest('path is required (e.g. /v1/payouts)', { param: 'path' });
      const f: Omit<Fault, 'id'> = { path: body.path, kind, count: Number(body.count ?? 1) };
      if (!Number.isInteger(f.count) || f.count < 1) throw invalidRequest('count must be a positive integer', { param: 'count' });
      if (typeof body.method === 'string' && body.method) f.method = body.method.toUpperCase();
      if (body.holdMs !== undefined || body.hold_ms !== undefined) {
        f.holdMs = Number(body.holdMs ?? body.hold_ms);
        if (!Number.isFinite(f.holdMs) || f.holdMs < 0) throw invalidRequest('holdMs must be a non-negative number of milliseconds', { param: 'holdMs' });
      }
      return this.addFault(f);
    });
    this.control('DELETE', '/_emulator/faults', () => {
      this.faults = [];
      return { ok: true };
    });
    this.control('GET', '/_emulator/requests', ({ query }) => {
      let list = this.requests();
      if (typeof query.path === 'string') list = list.filter((r) => r.path === query.path);
      return { object: 'list', data: list };
    });
    this.control('POST', '/_emulator/reset', () => {
      this.reset();
      return { ok: true };
    });
  }

  publicDeliveries(): Array<Omit<ReturnType<WebhookDelivery['deliveries']>[number], 'secret'>> {
    return this.delivery.deliveries().map(({ secret: _secret, ...d }) => d);
  }
}

// ---------------------------------------------------------------------------------------------

/** Webhook endpoints as the control API shows them: the URL and the secret's last four characters. */
function webhookConfigView(config: WebhookConfig): Record<'platform' | 'connect', { url: string; secret_last4: string } | null> {
  const view = (ep: WebhookConfig['platform']) => (ep ? { url: ep.url, secret_last4: ep.secret.slice(-4) } : null);
  return { platform: view(config.platform), connect: view(config.connect) };
}

function isFaultKind(kind: string): kind is FaultKind {
  return (FAULT_KINDS as readonly string[]).includes(kind);
}

function headerValue(v: string | string[] | undefined): string | undefined {
  if (Array.isArray(v)) return v[0];
  return v === undefined || v === '' ? undefined : v;
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

function expandPaths(v: ParamValue | undefined): string[] {
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string' && x !== '');
  return typeof v === 'string' && v ? [v] : [];
}

function jsonToParams(body: string): Params {
  try {
    const v = JSON.parse(body) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Params) : {};
  } catch {
    return {};
  }
}

const MAX_BODY = 1024 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(invalidRequest('Request body too large.', { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function drain(req: IncomingMessage): Promise<void> {
  if (req.readableEnded) return;
  await readBody(req).catch(() => undefined);
}
