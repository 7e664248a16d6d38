/**
 * Idempotency keys, as Stripe keeps them: per account + key, the first request's fingerprint
 * (method, path, canonical params) and its answer. Same params → the stored answer is replayed;
 * other params → 400 `idempotency_error`; while the first is still running → 409.
 */
import { StripeError } from './errors.ts';

export interface IdempotencyEntry {
  fingerprint: string;
  /** Request-Id of the request that produced the stored response. */
  requestId?: string;
  status: number;
  body: string;
  createdAt: number;
  inFlight?: boolean;
}

/** Stripe prunes keys after at least 24 hours. */
const KEEP_MS = 24 * 3600 * 1000;
const PRUNE_ABOVE = 20_000;

export class IdempotencyStore {
  private entries = new Map<string, IdempotencyEntry>();
  /** Each finished entry's JSON (`[scope, entry]`), reused by every save until it changes. */
  private savedJson = new Map<string, string>();

  /**
   * The stored answer to replay, or undefined when this key is new. Throws Stripe's errors for a
   * key reused with other parameters or still in flight.
   */
  lookup(scope: string, key: string, fingerprint: string): IdempotencyEntry | undefined {
    const prev = this.entries.get(scope);
    if (!prev) return undefined;
    if (prev.fingerprint !== fingerprint) {
      throw new StripeError({
        status: 400,
        type: 'idempotency_error',
        message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
      });
    }
    if (prev.inFlight) {
      throw new StripeError({
        status: 409,
        type: 'invalid_request_error',
        code: 'idempotency_key_in_use',
        message: 'There is currently another in-progress request using this Stripe-Account and Idempotency-Key. Please try again later.',
      });
    }
    return prev;
  }

  /** Marks the key as taken by a request now running. */
  begin(scope: string, fingerprint: string): void {
    this.savedJson.delete(scope);
    this.entries.set(scope, { fingerprint, status: 0, body: '', createdAt: Date.now(), inFlight: true });
  }

  /** Stores the answer of the request that took the key. */
  finish(scope: string, entry: { fingerprint: string; requestId: string; status: number; body: string }): void {
    this.savedJson.delete(scope);
    this.entries.set(scope, { ...entry, createdAt: Date.now() });
    if (this.entries.size > PRUNE_ABOVE) this.prune();
  }

  /** Frees the key of a request that crashed: nothing is stored, a retry runs again. */
  abandon(scope: string): void {
    this.entries.delete(scope);
    this.savedJson.delete(scope);
  }

  clear(): void {
    this.entries.clear();
    this.savedJson.clear();
  }

  /** JSON of the finished entries younger than 24 h (`[[scope, entry], …]`), for the state file. */
  persistableJson(): string {
    const cutoff = Date.now() - KEEP_MS;
    const parts: string[] = [];
    for (const [scope, e] of this.entries) {
      if (e.inFlight || e.createdAt <= cutoff) continue;
      let json = this.savedJson.get(scope);
      if (json === undefined) {
        json = JSON.stringify([scope, e]);
        this.savedJson.set(scope, json);
      }
      parts.push(json);
    }
    return `[${parts.join(',')}]`;
  }

  load(entries: Array<[string, IdempotencyEntry]>): void {
    this.entries = new Map(entries);
    this.savedJson.clear();
  }

  private prune(): void {
    const cutoff = Date.now() - KEEP_MS;
    for (const [k, e] of this.entries) {
      if (!e.inFlight && e.createdAt < cutoff) {
        this.entries.delete(k);
        this.savedJson.delete(k);
      }
    }
  }
}
