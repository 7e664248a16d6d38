// What a webhook handler is. It has up to three steps, run by ./processor.ts in this order:
//   read   — before any transaction opens: what it needs from Stripe (it may read our tables too);
//   apply  — in the one transaction that also marks the event done: our writes, never a Stripe call;
//   after  — after that commit, before the event is done: use cases that write to Stripe, each
//            following the transaction rule itself (keys derived from our ids, answers recorded in
//            their own short transactions). If one fails, the whole event is retried: read and
//            apply again (idempotent), then `after` again with the same keys.
// A handler that only writes may be given as its `apply` function alone. An `apply` that finds our
// tables moved since its `read` (a concurrent event) throws `ReadAgain`: the processor runs `read`
// and `apply` again at once.
import type { Kysely, Transaction } from 'kysely';
import type Stripe from 'stripe';
import type { Database } from '../db/schema.ts';

export type EventType = Stripe.Event.Type;
/** Each event type to its typed event. An indexed map (not a conditional type) keeps variance
 *  measurable, so one handler written for several types fits each of their slots. */
type EventMap = { [E in Stripe.Event as E['type']]: E };
export type EventOf<T extends EventType> = EventMap[T];

/** What the read and after steps get: the pool (no transaction is open) and Stripe. */
export interface StripeContext {
  db: Kysely<Database>;
  stripe: Stripe;
}

/** What the apply step gets: the event's transaction (write through this) and what `read` found. */
export interface ApplyContext<F> {
  db: Transaction<Database>;
  facts: F;
}

/**
 * Handlers must be idempotent and order-independent: the same event may run again after a crash
 * (its transaction rolled back), and events of one object arrive in any order.
 */
export interface EventHandler<T extends EventType, F = undefined> {
  /** Where the event must come from to be acted on (see EventOrigin); any origin when absent. */
  origin?: EventOrigin;
  read?(event: EventOf<T>, ctx: StripeContext): Promise<F>;
  apply(event: EventOf<T>, ctx: ApplyContext<F>): Promise<void>;
  after?(event: EventOf<T>, ctx: StripeContext): Promise<void>;
}

/**
 * Where an event comes from. 'platform': the platform account's own objects (our destination
 * charges, their sessions, intents, refunds…), delivered to the platform endpoint (or backfilled
 * for the platform); never a connected account's, whose owner could put our order ids in its own
 * objects' metadata. An event from elsewhere is stored but `ignored`, with the reason.
 */
export type EventOrigin = 'platform';

/**
 * Thrown by `read` or `apply` when an event must not be acted on: it does not match what we
 * created (another amount, another object than the one recorded). The event is `ignored` with this
 * reason and never retried: delivering it again cannot make it match.
 */
export class IgnoreEvent extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'IgnoreEvent';
  }
}

/** Thrown by `apply` when what `read` found no longer fits our tables: read again, then apply again. */
export class ReadAgain extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'ReadAgain';
  }
}

/** A handler that only writes our tables. */
export type ApplyOnly<T extends EventType> = (event: EventOf<T>, ctx: ApplyContext<undefined>) => Promise<void>;

export type HandlerRegistry = { [T in EventType]?: EventHandler<T, unknown> | ApplyOnly<T> };
