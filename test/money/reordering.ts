// One event family, delivered in several orders: in order, reversed and seeded shuffles. Each order
// gets a scenario of its own (fresh objects at Stripe, events held by the emulator), the events are
// delivered in that order through the real endpoint and worker, and the final state — read back
// from our database — must equal the in-order state and the state the test expects.
import { describe, expect, it } from 'vitest';
import { deliveryOrders, type HeldEvent, type World } from './world.ts';

export interface Scenario<S> {
  /** The events Stripe emitted for it, held (see World.holdEvents), in emission order. */
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
    it.each(orders)('%s', async (orderName) => {
      const w = world();
      const scenario = await setUp();
      await w.releaseEvents();
      expect(scenario.events.map((e) => e.type)).toEqual(expect.arrayContaining(options.mustInclude));
      const order = arrangements(scenario.events).find((o) => o.name === orderName)!;
      if (orderName !== 'in order') expect(order.events.map((e) => e.id)).not.toEqual(scenario.events.map((e) => e.id));
      await w.deliver(order.events);
      await w.sync(); // whatever the handlers' own Stripe calls emitted meanwhile (held) is gone; new ones flow
      const state = await scenario.state();
      if (orderName === 'in order') inOrder = state;
      expect(state).toEqual(expected);
      if (inOrder !== undefined) expect(state).toEqual(inOrder);
    }, 60_000);
  });
}
