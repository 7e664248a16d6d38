/**
 * The emulator core, as resource modules and tests see it. It owns the state (store, clock,
 * ledger, events, webhook delivery) and composes the parts that live in their own files:
 *   registry.ts       routes, pages, controls, seeds that modules register
 *   server.ts         the HTTP server and dispatch; api-pipeline.ts the `/v1` request steps
 *   control-api.ts    `/_emulator/…`; guard.ts who may call it
 *   persistence.ts    the state file; idempotency.ts, faults.ts, request-log.ts
 * See ../CORE_API.md for the contract.
 */
import type http from 'node:http';
import type Stripe from 'stripe';
import { Store, type Collection } from './store.ts';
import { Clock, type Ticker } from './clock.ts';
import { Events, type EmitInput, type EventOf, type EventType } from './events.ts';
import { Ledger, type PostEntry } from './ledger.ts';
import { WebhookDelivery, type Delivery, type Target } from './webhooks.ts';
import { newId } from './ids.ts';
import { Registry } from './registry.ts';
import { FaultInjector } from './faults.ts';
import { IdempotencyStore } from './idempotency.ts';
import { RequestLog } from './request-log.ts';
import { StateFile } from './persistence.ts';
import { paginate, type ListItem } from './paginate.ts';
import { allowedHostNames } from './guard.ts';
import { registerCoreControls } from './control-api.ts';
import { closeHttpServer, startHttpServer } from './server.ts';
import {
  DEFAULT_PLATFORM_ACCOUNT,
  type ApiHandler,
  type ApiRequest,
  type ControlHandler,
  type EmulatorOptions,
  type Fault,
  type PageHandler,
  type RequestLogEntry,
  type RouteOptions,
} from './types.ts';

export { DEFAULT_PLATFORM_ACCOUNT, FAULT_KINDS } from './types.ts';
export type {
  ApiHandler,
  ApiRequest,
  ControlHandler,
  EmulatorOptions,
  Fault,
  FaultKind,
  PageHandler,
  PageRequest,
  PageResponse,
  RequestLogEntry,
  RouteOptions,
} from './types.ts';

export class EmulatorCore {
  readonly platformAccount: string;
  readonly store = new Store();
  readonly clock = new Clock();
  readonly ledger: Ledger;
  readonly delivery: WebhookDelivery;
  readonly options: EmulatorOptions;
  readonly registry = new Registry();
  readonly faults = new FaultInjector();
  /** Set once listening. */
  url = '';
  private readonly events: Events;
  private readonly idempotency = new IdempotencyStore();
  private readonly requestLog = new RequestLog();
  private readonly stateFile: StateFile;
  private tickTimer: NodeJS.Timeout | undefined;
  private server: http.Server | undefined;

  constructor(options: EmulatorOptions = {}) {
    this.options = options;
    this.platformAccount = options.platformAccountId ?? DEFAULT_PLATFORM_ACCOUNT;
    this.delivery = new WebhookDelivery(
      { platform: options.webhooks?.platform ?? null, connect: options.webhooks?.connect ?? null },
      options.delivery ?? {},
      (evt) => this.registry.extraTargets(evt),
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
    this.stateFile = new StateFile(options.stateFile, () => ({
      platformAccount: this.platformAccount,
      clockOffset: this.clock.offset,
      storeJson: this.store.serializeJson(),
      idempotencyJson: this.idempotency.persistableJson(),
      webhooks: this.delivery.config,
    }));
  }

  // ------------------------------------------------------------------------------------------
  // Module API (CORE_API.md §2)
  // ------------------------------------------------------------------------------------------

  /** Register a `/v1/...` API route. */
  route(method: string, path: string, options: RouteOptions, handler: ApiHandler): void {
    this.registry.addRoute(method, path, options, handler);
  }

  /** Accept more parameters on an already registered route (additive; see CORE_API.md). */
  extendRoute(method: string, path: string, options: Pick<RouteOptions, 'params' | 'required'>): void {
    this.registry.extendRoute(method, path, options);
  }

  /** Register a hosted page (no auth): HTML, redirects, or JSON/text. */
  page(method: string, path: string, handler: PageHandler): void {
    this.registry.addPage(method, path, handler);
  }

  /** Register a control endpoint under `/_emulator/` (no auth, JSON in/out). `path` must start with `/_emulator/`. */
  control(method: string, path: string, handler: ControlHandler): void {
    this.registry.addControl(method, path, handler);
  }

  /** Run scheduled work whenever time moves (clock advance, or real time with tickIntervalMs). */
  onTick(name: string, fn: Ticker): void {
    this.clock.onTick(name, fn);
  }

  /** Idempotent seeding, run at start (after state load) and after every reset. */
  seed(fn: () => void): void {
    this.registry.addSeed(fn);
  }

  /** Extra webhook targets (e.g. endpoints created with `webhookEndpoints.create`). */
  addWebhookTargets(fn: (evt: Stripe.Event) => Target[]): void {
    this.registry.addWebhookTargets(fn);
  }

  /** Lets `Stripe-Account` validation know which connected accounts exist. */
  addAccountResolver(fn: (id: string) => boolean): void {
    this.registry.addAccountResolver(fn);
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
    return paginate(req, items, url);
  }

  /** An account (platform or connected) by id, as stored by the Connect module. */
  getAccount(id: string): Stripe.Account | undefined {
    return this.store.collection<Stripe.Account>('account').get(id);
  }

  /** Is `id` the platform or a known connected account? */
  knownAccount(id: string): boolean {
    return id === this.platformAccount || this.registry.accountExists(id);
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
    return this.faults.add(f);
  }

  requests(): RequestLogEntry[] {
    return this.requestLog.all();
  }

  publicDeliveries(): Array<Omit<Delivery, 'secret'>> {
    return this.delivery.deliveries().map(({ secret: _secret, ...d }) => d);
  }

  reset(): void {
    this.store.clear();
    this.idempotency.clear();
    this.faults.clear();
    this.requestLog.clear();
    this.delivery.clearLog();
    this.delivery.setMode({ mode: 'normal' });
    this.clock.offset = 0;
    this.clock.syncLastTick();
    this.registry.runSeeds();
  }

  /** Persistent state changed outside the store (webhook endpoints): save soon. */
  stateChanged(): void {
    this.stateFile.scheduleSave();
  }

  /** Write the state file now (no-op in memory). */
  saveState(): void {
    this.stateFile.saveNow();
  }

  // ------------------------------------------------------------------------------------------
  // Lifecycle
  // ------------------------------------------------------------------------------------------

  async listen(): Promise<{ url: string; port: number }> {
    this.loadState();
    this.clock.syncLastTick();
    this.registry.runSeeds();
    if (!this.registry.controls.match('GET', '/_emulator/health')) registerCoreControls(this);
    this.store.onChange = () => this.stateFile.scheduleSave();
    const host = this.options.host ?? '127.0.0.1';
    const server = await startHttpServer(
      {
        core: this,
        api: {
          registry: this.registry,
          faults: this.faults,
          idempotency: this.idempotency,
          requestLog: this.requestLog,
          store: this.store,
          platformAccount: this.platformAccount,
          apiKeyPrefix: this.options.apiKeyPrefix ?? 'sk_test_',
          knownAccount: (id) => this.knownAccount(id),
          onStateChange: () => this.stateFile.scheduleSave(),
        },
        allowedHosts: allowedHostNames({ listenHost: host, publicUrl: this.options.publicUrl, allowedHosts: this.options.allowedHosts }),
        logRequests: !!this.options.logRequests,
      },
      this.options.port ?? 0,
      host,
    );
    this.server = server;
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
    if (this.tickTimer) clearInterval(this.tickTimer);
    this.faults.stop();
    this.delivery.stop();
    await this.stateFile.close();
    if (this.server) await closeHttpServer(this.server);
  }

  private loadState(): void {
    const state = this.stateFile.read();
    if (!state) return;
    this.store.load(state.store);
    this.clock.offset = state.clockOffset;
    this.idempotency.load(state.idempotency);
    // endpoints given as options win over persisted ones
    this.delivery.config = {
      platform: this.options.webhooks?.platform ?? state.webhooks?.platform ?? null,
      connect: this.options.webhooks?.connect ?? state.webhooks?.connect ?? null,
    };
  }
}
