// The order tests' own steps: pressing "Buy now" and finding the order behind a Checkout session.
// Everything else they use lives in test/helpers (fixture, market, hosted-pages).
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/db/schema.ts';
import type { Response, TestClient } from '../helpers/app.ts';
import type { TestEmulator } from '../helpers/emulator.ts';
import { signInTo } from '../helpers/fixture.ts';
import * as market from '../helpers/market.ts';

export { addListing } from '../helpers/market.ts';

/** Presses "Buy now" on the listing page (the form's own attempt id unless one is given). */
export async function buy(client: TestClient, listingId: string, quantity = 1, attempt = randomUUID()): Promise<Response> {
  return client.post(`/checkout/${listingId}`, { quantity, attempt });
}

export async function orderIdFromSessionUrl(db: Kysely<Database>, sessionUrl: string): Promise<string> {
  const sessionId = new URL(sessionUrl).pathname.split('/').pop()!;
  const row = await db.selectFrom('orders').select('id').where('stripe_checkout_session_id', '=', sessionId).executeTakeFirstOrThrow();
  return row.id;
}

/**
 * For the browser tests (test/e2e), which build their own app, until they move to the fixture: an
 * enabled seller signed in on `app`. Everything else uses `enabledSeller(world)` from market.ts.
 */
export function enabledSeller(app: FastifyInstance, emulator: TestEmulator) {
  return market.enabledSeller({
    db: app.db,
    stripe: emulator.stripe,
    emu: emulator,
    signIn: (role, userId) => signInTo(app, role, userId),
    settle: () => Promise.reject(new Error('no webhooks here: use useWorld({ webhooks: true })')),
  });
}
