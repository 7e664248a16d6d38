// The handler registry. Each event family lives in its own file under ./handlers/ and exports a map
// from event type to handler (./handler.ts says what a handler is); this file joins them. A type
// with no handler is `ignored` by the worker, so adding a family is one line below.
import type { ApplyOnly, EventHandler, EventType, HandlerRegistry } from './handler.ts';
import { accountHandlers } from './handlers/accounts.ts';
import { customerHandlers } from './handlers/customers.ts';
import { disputeHandlers } from './handlers/disputes.ts';
import { feeAndTransferHandlers } from './handlers/fees-and-transfers.ts';
import { paymentHandlers } from './handlers/payments.ts';
import { payoutHandlers } from './handlers/payouts.ts';
import { refundHandlers } from './handlers/refunds.ts';
import { subscriptionHandlers } from './handlers/subscriptions.ts';

export type { ApplyContext, ApplyOnly, EventHandler, EventOf, EventType, HandlerRegistry, StripeContext } from './handler.ts';

export const handlers: HandlerRegistry = {
  ...accountHandlers,
  ...paymentHandlers,
  ...payoutHandlers,
  ...refundHandlers,
  ...disputeHandlers,
  ...feeAndTransferHandlers,
  ...customerHandlers,
  // Last: where it shares an event type with the families above (Checkout Sessions, refunds, a
  // SetupIntent's success) its handler runs theirs first, unchanged, then its own steps.
  ...subscriptionHandlers,
};

/** The handler for an event, in its three-step form; undefined → the event is ignored. */
export function handlerFor(registry: HandlerRegistry, type: string): EventHandler<EventType, unknown> | undefined {
  const handler = (registry as Record<string, EventHandler<EventType, unknown> | ApplyOnly<EventType> | undefined>)[type];
  return typeof handler === 'function' ? { apply: handler } : handler;
}
