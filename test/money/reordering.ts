// One event family, delivered in several orders: in order, reversed and seeded shuffles. Each order
// gets a scenario of its own (fresh objects at Stripe, events held by the emulator), the events are
// delivered in that order through the real endpoint and worker, and the final state — read back
// from our database — must equal the in-order state and the state the test expects.
import { describe, expect, it } from 'vitest';
import type { World } from '../helpers/fixture.ts';
import type { HeldEvent } from '../helpers/stripe-events.ts';
import { makeEvent } from '../helpers/webhooks.ts';

export interface Scenario<S> {
  /** The events Stripe emitted for it, held (see StripeEvents.hold), in emission order. */
  events: HeldEvent[];
  /** The final state that matters, read from our database after delivery. */
  state(): Promise<S>;
}

export function describeFamily<S>(
  name: string,
  world: () => World,
  setUp: () => Promise<Scenario<S>>,
  expected: S,
  options: { mustInclude: string[]; extraOrders?: { name: string; arrange(events: HeldEvent[]): HeldEvent[] }[] },
): void {
  describe(`${name}: every delivery order reaches the in-order final state`, () => {
    let inOrder: S | undefined;
    const arrangements = (events: HeldEvent[]) => [
      ...deliveryOrders(events),
      ...(options.extraOrders ?? []).map((o) => ({ name: o.name, events: o.arrange(events) })),
    ];
    const orders = arrangements([]).map((o) => o.name);
    it.each(orders)(
      '%s',
      async (orderName) => {
        const w = world();
        const scenario = await setUp();
        await w.events.release();
        expect(scenario.events.map((e) => e.type)).toEqual(expect.arrayContaining(options.mustInclude));
        const order = arrangements(scenario.events).find((o) => o.name === orderName)!;
        if (orderName !== 'in order') expect(order.events.map((e) => e.id)).not.toEqual(scenario.events.map((e) => e.id));
        await w.events.deliver(order.events);
        await w.settle(); // whatever the handlers' own Stripe calls emitted meanwhile (held) is gone; new ones flow
        const state = await scenario.state();
        if (orderName === 'in order') inOrder = state;
        expect(state).toEqual(expected);
        if (inOrder !== undefined) expect(state).toEqual(inOrder);
      },
      60_000,
    );
  });
}

/** A seeded permutation (mulberry32 + Fisher–Yates): the same seed gives the same order on every run. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** In order, reversed, and `SEEDS.length` seeded shuffles: the orders every family is delivered in. */
export const SEEDS = [11, 29, 1_847, 90_210] as const;
export function deliveryOrders<T>(events: readonly T[]): { name: string; events: T[] }[] {
  return [
    { name: 'in order', events: [...events] },
    { name: 'reversed', events: [...events].reverse() },
    ...SEEDS.map((seed) => ({ name: `shuffled (seed ${seed})`, events: shuffled(events, seed) })),
  ];
}

/** A platform event we write ourselves (Stripe's shape, our signature), for a snapshot Stripe sent earlier. */
export function craftedEvent(type: string, object: object, created: number): HeldEvent {
  const event = makeEvent(type, object as Record<string, unknown>, { created });
  return { id: event.id, type, endpoint: 'platform', payload: JSON.stringify(event) };
}
