/**
 * Signed event delivery to the platform and Connect endpoints, with retries and test controls
 * (duplicate, drop, delay, reorder) and a `flush()` that makes tests deterministic.
 */
import { createHmac } from 'node:crypto';
import type Stripe from 'stripe';
import { randomToken } from './ids.ts';

export interface EndpointConfig {
  url: string;
  secret: string;
}

export interface WebhookConfig {
  platform?: EndpointConfig | null | undefined;
  connect?: EndpointConfig | null | undefined;
}

export interface DeliveryOptions {
  /** First retry delay; doubles each attempt (default 1000 ms). */
  retryBaseMs?: number;
  /** Upper bound for a retry delay (default 60 000 ms). */
  retryMaxMs?: number;
  /** Attempts before a delivery is marked failed (default 8). */
  maxAttempts?: number;
  /** Per-attempt HTTP timeout (default 10 000 ms). */
  timeoutMs?: number;
}

export type DeliveryModeName = 'normal' | 'duplicate' | 'reorder' | 'drop' | 'delay';

export interface DeliveryMode {
  mode: DeliveryModeName;
  /** Apply the mode to the next `count` events only, then return to normal (default: until changed). */
  count?: number | undefined;
  /** Only events of these types are affected (default: all). */
  types?: string[] | undefined;
  /** `delay`: how long to hold each delivery (default 1000 ms). */
  delayMs?: number | undefined;
  /** `duplicate`: copies delivered per event (default 2). */
  copies?: number | undefined;
  /** `reorder`: deliveries held, then released newest-first once this many are held (default 2) or on flush. */
  batch?: number | undefined;
}

export interface Target {
  /** `platform`, `connect`, or a `we_…` id. */
  endpoint: string;
  url: string;
  secret: string;
}

export interface DeliveryAttempt {
  at: string;
  status: number | null;
  error?: string;
  duration_ms: number;
}

export interface Delivery {
  id: string;
  event: string;
  event_type: string;
  account: string | null;
  endpoint: string;
  url: string;
  status: 'queued' | 'held' | 'succeeded' | 'failed' | 'dropped';
  attempts: DeliveryAttempt[];
  next_attempt_at: number | null;
  /** Exact body sent (the same bytes on every attempt, as Stripe does). */
  payload: string;
  secret: string;
}

export function signPayload(payload: string, secret: string, timestamp = Math.floor(Date.now() / 1000)): string {
  const v1 = createHmac('sha256', secret).update(`${timestamp}.${payload}`, 'utf8').digest('hex');
  return `t=${timestamp},v1=${v1}`;
}

export class WebhookDelivery {
  config: WebhookConfig;
  private mode: DeliveryMode = { mode: 'normal' };
  private log: Delivery[] = [];
  private timer: NodeJS.Timeout | undefined;
  private pumping: Promise<void> | undefined;
  private fastForward = 0;
  private stopped = false;
  private readonly opts: Required<DeliveryOptions>;

  constructor(
    config: WebhookConfig,
    opts: DeliveryOptions,
    private readonly extraTargets: (evt: Stripe.Event) => Target[],
    private readonly onAcknowledged: (eventId: string) => void,
  ) {
    this.config = config;
    this.opts = {
      retryBaseMs: opts.retryBaseMs ?? 1000,
      retryMaxMs: opts.retryMaxMs ?? 60_000,
      maxAttempts: opts.maxAttempts ?? 8,
      timeoutMs: opts.timeoutMs ?? 10_000,
    };
  }

  setMode(mode: DeliveryMode): void {
    this.mode = { ...mode };
    if (mode.mode !== 'reorder') this.releaseHeld();
  }

  getMode(): DeliveryMode {
    return { ...this.mode };
  }

  targets(evt: Stripe.Event): Target[] {
    const out: Target[] = [];
    const ep = evt.account ? this.config.connect : this.config.platform;
    if (ep?.url) out.push({ endpoint: evt.account ? 'connect' : 'platform', url: ep.url, secret: ep.secret });
    out.push(...this.extraTargets(evt));
    return out;
  }

  deliveries(): Delivery[] {
    return this.log.map((d) => ({ ...d, attempts: [...d.attempts] }));
  }

  clearLog(): void {
    this.log = this.log.filter((d) => d.status === 'queued' || d.status === 'held');
  }

  /** Queue an event for every matching endpoint, applying the current delivery mode. */
  enqueue(evt: Stripe.Event): void {
    if (this.stopped) return;
    const targets = this.targets(evt);
    if (targets.length === 0) return;
    const payload = JSON.stringify(evt, null, 2);
    const m = this.mode;
    const applies = m.mode !== 'normal' && (!m.types || m.types.includes(evt.type));
    if (applies && m.count !== undefined) {
      m.count -= 1;
      if (m.count <= 0) this.mode = { mode: 'normal' };
    }
    const mode = applies ? m.mode : 'normal';
    for (const t of targets) {
      const copies = mode === 'duplicate' ? Math.max(2, m.copies ?? 2) : 1;
      for (let i = 0; i < copies; i++) {
        const d: Delivery = {
          id: `dlv_${randomToken(20)}`,
          event: evt.id,
          event_type: evt.type,
          account: evt.account ?? null,
          endpoint: t.endpoint,
          url: t.url,
          status: 'queued',
          attempts: [],
          next_attempt_at: Date.now(),
          payload,
          secret: t.secret,
        };
        if (mode === 'drop') {
          d.status = 'dropped';
          d.next_attempt_at = null;
        } else if (mode === 'delay') {
          d.next_attempt_at = Date.now() + (m.delayMs ?? 1000);
        } else if (mode === 'reorder') {
          d.status = 'held';
          d.next_attempt_at = null;
        }
        this.log.push(d);
      }
    }
    if (this.log.length > 5000) this.log.splice(0, this.log.length - 5000);
    if (mode === 'reorder' && this.log.filter((d) => d.status === 'held').length >= (m.batch ?? 2)) this.releaseHeld();
    this.kick();
  }

  /** Release held (reorder) deliveries newest-first. */
  private releaseHeld(): void {
    const held = this.log.filter((d) => d.status === 'held');
    if (held.length === 0) return;
    const base = Date.now();
    // move them to the end of the log in reverse order so the pump sends them newest-first
    this.log = this.log.filter((d) => d.status !== 'held');
    held.reverse().forEach((d) => {
      d.status = 'queued';
      d.next_attempt_at = base;
      this.log.push(d);
    });
    this.kick();
  }

  /** Attempt every queued delivery now (ignoring delays and backoff), retrying until each succeeds or exhausts its attempts. */
  async flush(): Promise<void> {
    this.fastForward++;
    try {
      this.releaseHeld();
      for (;;) {
        if (this.stopped) return;
        for (const d of this.log) if (d.status === 'queued') d.next_attempt_at = 0;
        await this.pump();
        if (!this.log.some((d) => d.status === 'queued')) break;
      }
    } finally {
      this.fastForward--;
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private kick(): void {
    if (this.stopped) return;
    void this.pump().catch(() => undefined);
  }

  private pump(): Promise<void> {
    if (this.pumping) return this.pumping.then(() => (!this.stopped && this.hasDue() ? this.pump() : undefined));
    // Start asynchronously so `this.pumping` is set before the loop can finish.
    const run: Promise<void> = Promise.resolve()
      .then(() => this.loop())
      .finally(() => {
        if (this.pumping === run) this.pumping = undefined;
        this.schedule();
      });
    this.pumping = run;
    return run;
  }

  private async loop(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      const d = this.nextDue();
      if (!d) return;
      await this.attempt(d);
    }
  }

  private hasDue(): boolean {
    return this.nextDue() !== undefined;
  }

  private nextDue(): Delivery | undefined {
    const now = Date.now();
    let best: Delivery | undefined;
    for (const d of this.log) {
      if (d.status !== 'queued' || d.next_attempt_at === null || d.next_attempt_at > now) continue;
      if (!best || (best.next_attempt_at ?? 0) > d.next_attempt_at) best = d;
    }
    return best;
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    let next = Infinity;
    for (const d of this.log) if (d.status === 'queued' && d.next_attempt_at !== null) next = Math.min(next, d.next_attempt_at);
    if (next === Infinity) return;
    this.timer = setTimeout(() => this.kick(), Math.max(0, next - Date.now()));
    this.timer.unref();
  }

  private async attempt(d: Delivery): Promise<void> {
    const started = Date.now();
    const attempt: DeliveryAttempt = { at: new Date(started).toISOString(), status: null, duration_ms: 0 };
    try {
      const res = await fetch(d.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
          'stripe-signature': signPayload(d.payload, d.secret),
        },
        body: d.payload,
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
      attempt.status = res.status;
      await res.arrayBuffer().catch(() => undefined);
    } catch (err) {
      attempt.error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
    attempt.duration_ms = Date.now() - started;
    d.attempts.push(attempt);
    if (attempt.status !== null && attempt.status >= 200 && attempt.status < 300) {
      d.status = 'succeeded';
      d.next_attempt_at = null;
      this.onAcknowledged(d.event);
    } else if (d.attempts.length >= this.opts.maxAttempts) {
      d.status = 'failed';
      d.next_attempt_at = null;
    } else {
      const backoff = Math.min(this.opts.retryMaxMs, this.opts.retryBaseMs * 2 ** (d.attempts.length - 1));
      d.next_attempt_at = this.fastForward > 0 ? 0 : Date.now() + backoff;
    }
  }
}
