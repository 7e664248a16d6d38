// The one way tests apply Stripe's events: each event reaches the app's real webhook endpoint
// signed with that endpoint's secret (by the emulator, or by `deliver` below for events the test
// holds back, reorders or writes itself), is stored by the endpoint in the inbox, and is processed
// by the worker's own code (`drainInbox`). Nothing here calls a handler directly.
import type { Kysely } from 'kysely';
import type Stripe from 'stripe';
import type { Database } from '../../src/db/schema.ts';
import { drainInbox } from '../../src/webhooks/processor.ts';
import type { TestEmulator } from './emulator.ts';
import { signature } from './webhooks.ts';

export type Endpoint = 'platform' | 'connect';

/** An event as the emulator would have sent it: its exact body and the endpoint it is for. */
export interface HeldEvent {
  id: string;
  type: string;
  endpoint: Endpoint;
  payload: string;
}

/** What `deliver` takes: an event the emulator kept, or a Stripe event object (read from the API or made by the test). */
export type Deliverable = HeldEvent | Stripe.Event;

interface DeliveryLogEntry {
  event: string;
  event_type: string;
  endpoint: Endpoint;
  payload: string;
}

const PATHS: Record<Endpoint, string> = { platform: '/webhooks/stripe', connect: '/webhooks/stripe/connect' };

function wire(event: Deliverable): HeldEvent {
  if ('payload' in event) return event;
  // Stripe sends an event to the Connect endpoint exactly when it happened on a connected account.
  return { id: event.id, type: event.type, endpoint: event.account === undefined ? 'platform' : 'connect', payload: JSON.stringify(event) };
}

export class StripeEvents {
  /** Held events already delivered or skipped: `pending` and `run` leave them out. */
  private readonly done = new Set<string>();

  constructor(
    private readonly emu: TestEmulator,
    private readonly db: Kysely<Database>,
    private readonly stripe: Stripe,
    private readonly baseUrl: string,
    private readonly secrets: Record<Endpoint, string>,
  ) {}

  /** Runs the inbox as the worker does, one event at a time, retrying a failure at once. */
  drain() {
    return drainInbox(this.db, this.stripe, { backoffBaseMs: 1, backoffMaxMs: 1, jitter: 0, concurrency: 1 });
  }

  /**
   * Lets the emulator deliver everything it queued and runs the inbox, round after round (handlers
   * call Stripe, which emits more events) until nothing is queued, due or just done.
   */
  async settle(): Promise<void> {
    for (let round = 0; round < 6; round++) {
      await this.emu.control('POST', '/_emulator/delivery/flush');
      const outcome = await this.drain();
      const queued = await this.emu.control<{ data: unknown[] }>('GET', '/_emulator/deliveries?status=queued');
      if (queued.data.length === 0 && outcome.failed === 0 && outcome.done === 0) return;
    }
  }

  /** From now on the emulator keeps every event it emits (after delivering what it had queued). */
  async hold(): Promise<void> {
    await this.settle();
    await this.clearHeld();
    await this.emu.control('POST', '/_emulator/delivery', { mode: 'drop' });
  }

  /** Back to normal delivery: events emitted from now on are sent as usual. */
  async release(): Promise<void> {
    await this.emu.control('POST', '/_emulator/delivery', { mode: 'normal' });
  }

  /** Every event kept since `hold()` (or the last `held(true)`), in emission order. */
  async held(clear = false): Promise<HeldEvent[]> {
    const log = await this.emu.control<{ data: DeliveryLogEntry[] }>('GET', '/_emulator/deliveries?status=dropped');
    if (clear) await this.clearHeld();
    return log.data.map((d) => ({ id: d.event, type: d.event_type, endpoint: d.endpoint, payload: d.payload }));
  }

  /** Kept events not yet delivered or skipped (optionally only those `filter` picks), oldest first. */
  async pending(filter: (event: Stripe.Event) => boolean = () => true): Promise<Stripe.Event[]> {
    const events = (await this.held()).filter((e) => !this.done.has(e.id)).map((e) => JSON.parse(e.payload) as Stripe.Event);
    return events.filter(filter);
  }

  /** Delivers the pending events `filter` picks (all by default), oldest first; the rest stay pending. */
  async run(filter?: (event: Stripe.Event) => boolean): Promise<Stripe.Event[]> {
    const events = await this.pending(filter);
    await this.deliver(events);
    return events;
  }

  /** Marks every kept event so far as seen without delivering it. */
  async skip(): Promise<void> {
    for (const event of await this.held()) this.done.add(event.id);
  }

  /** Posts each event, signed, to the app's real endpoint and lets the worker finish it before the next. */
  async deliver(events: Deliverable | readonly Deliverable[]): Promise<void> {
    const list: readonly Deliverable[] = 'id' in events ? [events] : events;
    for (const event of list) {
      const { id, type, endpoint, payload } = wire(event);
      this.done.add(id);
      const response = await fetch(`${this.baseUrl}${PATHS[endpoint]}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': signature(payload, this.secrets[endpoint]) },
        body: payload,
      });
      if (response.status !== 200) throw new Error(`${type} ${id} → ${response.status}`);
      const outcome = await this.drain();
      if (outcome.failed + outcome.dead > 0) {
        const row = await this.db.selectFrom('stripe_events').select('last_error').where('id', '=', id).executeTakeFirst();
        throw new Error(`${type} ${id} failed in the worker: ${row?.last_error ?? 'unknown'}`);
      }
    }
  }

  private async clearHeld(): Promise<void> {
    await this.emu.control('DELETE', '/_emulator/deliveries');
  }
}
