// The typed handler registry. Each event family lives in its own file under ./handlers/ and exports
// a map from event type to handler; this file joins them. A type with no handler is `ignored` by the
// worker, so adding a family (payments, refunds, disputes, payouts) is one line below.
import type { Kysely } from 'kysely';
import type Stripe from 'stripe';
import type { Database } from '../db/schema.ts';
import { accountHandlers } from './handlers/accounts.ts';
import { paymentHandlers } from './handlers/payments.ts';
import { payoutHandlers } from './handlers/payouts.ts';
import { refundHandlers } from './handlers/refunds.ts';
import { disputeHandlers } from './handlers/disputes.ts';
import { feeAndTransferHandlers } from './handlers/fees-and-transfers.ts';

export type EventType = Stripe.Event.Type;
/** Each event type to its typed event. An indexed map (not a conditional type) keeps variance
 *  measurable, so one handler written for several types fits each of their slots. */
type EventMap = { [E in Stripe.Event as E['type']]: E };
export type EventOf<T extends EventType> = EventMap[T];

export interface HandlerContext {
  /** The transaction the event's status change commits in: write through this, never app.db. */
  db: Kysely<Database>;
  stripe: Stripe;
}

/**
 * Handlers must be idempotent and order-independent: the same event may run again after a crash
 * (its transaction rolled back), and events of one object arrive in any order.
 */
export type EventHandler<T extends EventType> = (event: EventOf<T>, ctx: HandlerContext) => Promise<void>;
export type HandlerRegistry = { [T in EventType]?: EventHandler<T> };

export const handlers: HandlerRegistry = {
  ...accountHandlers,
  ...paymentHandlers,
  ...payoutHandlers,
  ...refundHandlers,
  ...disputeHandlers,
  ...feeAndTransferHandlers,
};

/** The handler for an event, typed by its `type`; undefined → the event is ignored. */
export function handlerFor(registry: HandlerRegistry, type: string): EventHandler<EventType> | undefined {
  return (registry as Record<string, EventHandler<EventType> | undefined>)[type];
}
