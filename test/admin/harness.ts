// For the browser tests (test/e2e) until they move to the fixture: the admin world they start by
// hand, with the names they import. Every other test uses test/helpers/fixture.ts and market.ts.
import { startWorld, type World } from '../helpers/fixture.ts';
import * as market from '../helpers/market.ts';

export { createListing, createSeller, hiddenValue, refundByAdmin, type TestSeller } from '../helpers/market.ts';

export type Harness = World & { sync(): Promise<void> };

export async function startHarness(): Promise<Harness> {
  const world = await startWorld({ webhooks: true, admin: true });
  return Object.assign(world, { sync: () => world.settle() });
}

/** The id of a paid order (market.createPaidOrder gives the whole row). */
export async function createPaidOrder(h: World, seller: market.TestSeller, options: Parameters<typeof market.createPaidOrder>[2]): Promise<string> {
  return (await market.createPaidOrder(h, seller, options)).id;
}
