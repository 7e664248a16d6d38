/**
 * Events: one `emit()` creates a `Stripe.Event`, stores it under its account and hands it to
 * webhook delivery.
 */
import type Stripe from 'stripe';
import { newId } from './ids.ts';
import { currentRequest } from './context.ts';
import type { Clock } from './clock.ts';
import type { Collection } from './store.ts';

export const API_VERSION = '2026-10-28.endive';

export type EventType = Stripe.Event.Type;
export type EventOf<T extends EventType> = Extract<Stripe.Event, { type: T }>;
export type EventObjectOf<T extends EventType> = EventOf<T>['data']['object'];

export interface EmitInput<T extends EventType> {
  type: T;
  /** The object as it is now (snapshotted). */
  object: EventObjectOf<T>;
  /** For `*.updated`: the changed fields with their previous values. */
  previousAttributes?: Record<string, unknown> | undefined;
  /** Connected account the event belongs to. Omit (or pass the platform id) for platform events. */
  account?: string | null | undefined;
  /** Overrides the idempotency key taken from the current request. */
  idempotencyKey?: string | null | undefined;
  /** Overrides the request info (defaults to the request being handled, or nulls for scheduled work). */
  request?: Stripe.Event.Request | null | undefined;
}

export class Events {
  constructor(
    private readonly events: Collection<Stripe.Event>,
    private readonly clock: Clock,
    private readonly platformAccount: string,
    private readonly countTargets: (evt: Stripe.Event) => number,
    private readonly dispatch: (evt: Stripe.Event) => void,
  ) {}

  emit<T extends EventType>(input: EmitInput<T>): EventOf<T> {
    const req = currentRequest();
    const connected = input.account && input.account !== this.platformAccount ? input.account : undefined;
    const request: Stripe.Event.Request = input.request ?? {
      id: req?.id ?? null,
      idempotency_key: input.idempotencyKey !== undefined ? input.idempotencyKey : (req?.idempotencyKey ?? null),
    };
    const data: Stripe.Event.Data = { object: JSON.parse(JSON.stringify(input.object)) as Stripe.Event.Data.Object };
    if (input.previousAttributes) data.previous_attributes = JSON.parse(JSON.stringify(input.previousAttributes)) as Stripe.Event.Data.PreviousAttributes;
    const base: Stripe.EventBase = {
      id: newId('evt'),
      object: 'event',
      api_version: API_VERSION,
      created: this.clock.now(),
      data,
      livemode: false,
      pending_webhooks: 0,
      request,
      type: input.type,
    };
    if (connected) base.account = connected;
    // The discriminated union can't be checked against a generic `T`; the input types tie
    // `type` to its `data.object`, which is what the union discriminates on.
    const evt = base as EventOf<T>;
    evt.pending_webhooks = this.countTargets(evt);
    this.events.insert(connected ?? this.platformAccount, evt, { created: evt.created });
    this.dispatch(evt);
    return evt;
  }

  /** Called by delivery when an endpoint acknowledged the event. */
  acknowledged(id: string): void {
    const e = this.events.get(id);
    if (e && e.pending_webhooks > 0) {
      e.pending_webhooks -= 1;
      this.events.save(e);
    }
  }
}
