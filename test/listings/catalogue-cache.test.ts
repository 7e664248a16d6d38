// The catalogue's short cache (src/listings/catalogue-cache.ts), across processes: two app
// instances on one database, each with its own pool and LISTEN connection as two web processes
// would have, cache the page for ten minutes — so only the `catalogue_changed` NOTIFY can make
// either see a change made elsewhere. And anonymous catalogue pages set no cookies at all.
import type { FastifyInstance } from 'fastify';
import type { KyselyPlugin } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { connectPostgres } from '../../src/db/connect.ts';
import type { DatabaseHandle } from '../../src/db/connect.ts';
import { createStripeClient } from '../../src/stripe/client.ts';
import { loginAs, testConfig } from '../helpers/app.ts';
import { isPglite } from '../helpers/database.ts';
import { useWorld } from '../helpers/fixture.ts';
import { addListing, recordEnabledSeller } from '../helpers/market.ts';
import { waitFor } from '../helpers/webhooks.ts';

const w = useWorld();

async function sellableListing(title: string): Promise<{ sellerId: string; listingId: string }> {
  const sellerId = await recordEnabledSeller(w.db, `Potter ${Math.random().toString(36).slice(2, 8)}`);
  const listing = await addListing(w.db, sellerId, { title, price: 2400, stock: 3, kind: 'physical' });
  return { sellerId, listingId: listing.id };
}

const page = async (app: FastifyInstance, url: string) => (await app.inject({ method: 'GET', url, headers: { accept: 'text/html' } })).body;
const home = (app: FastifyInstance) => page(app, '/');

describe.skipIf(isPglite())('the catalogue cache on two app instances (real PostgreSQL: two LISTEN connections)', () => {
  const handles: DatabaseHandle[] = [];
  const apps: FastifyInstance[] = [];
  /** Statements instance 2 sends that read listings: none while its cache answers. */
  let listingReads = 0;
  const counter: KyselyPlugin = {
    transformQuery: (args) => {
      if (JSON.stringify(args.node).includes('"name":"listings"')) listingReads += 1;
      return args.node;
    },
    transformResult: async (args) => args.result,
  };

  beforeAll(async () => {
    const stripe = createStripeClient({ secretKey: 'sk_test_unused', emulator: { host: '127.0.0.1', port: 9 }, maxNetworkRetries: 0 });
    for (const i of [0, 1]) {
      const handle = connectPostgres(w.database.url!, { max: 3 });
      handles.push(handle);
      const db = i === 1 ? handle.db.withPlugin(counter) : handle.db;
      apps.push(await buildApp({ config: testConfig(), db, stripe, logger: false, listen: handle.listen, catalogueCacheMs: 600_000 }));
    }
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await Promise.all(handles.map((handle) => handle.close()));
  });

  it("a visitor's kept page never reaches a signed-in buyer, nor a buyer's page a visitor", async () => {
    const two = apps[1]!;
    await sellableListing('Kept jug');
    await waitFor(async () => (await home(two)).includes('Kept jug'));
    const visitor = await home(two); // rendered and kept for visitors
    expect(visitor).toContain('href="/login"');
    const { client, user } = await loginAs(two, 'buyer');
    for (let i = 0; i < 2; i++) {
      const signedIn = (await client.get('/')).body;
      expect(signedIn).toContain(user.display_name);
      expect(signedIn).toContain('Log out');
      expect(signedIn).not.toContain('href="/login"');
      const again = await home(two);
      expect(again).toBe(visitor);
      expect(again).not.toContain(user.display_name);
      expect(again).not.toContain('name="_csrf"');
    }
    // A visitor with a flash message (or a stale session cookie) gets a page of their own, not the kept one.
    const stale = await two.inject({ method: 'GET', url: '/', headers: { accept: 'text/html', cookie: 'session=stale.token' } });
    expect(stale.statusCode).toBe(200);
    expect(stale.body).toContain('Kept jug');
  });

  it('a change committed through one instance (or any connection) is seen by the other at once', async () => {
    const [one, two] = apps as [FastifyInstance, FastifyInstance];
    const { sellerId, listingId } = await sellableListing('Blue vase');
    await waitFor(async () => (await home(one)).includes('Blue vase') && (await home(two)).includes('Blue vase'));

    // Instance 2 answers from its cache: no listings query for the same page again.
    listingReads = 0;
    expect(await home(two)).toContain('Blue vase');
    expect(listingReads).toBe(0);

    // A listing edited through instance 1's pool.
    const oneDb = handles[0]!.db;
    await oneDb.updateTable('listings').set({ title: 'Green vase' }).where('id', '=', listingId).execute();
    await waitFor(async () => (await home(two)).includes('Green vase'));
    expect(await home(two)).not.toContain('Blue vase');

    // Searches, sorted and filtered pages and the seller's shop are kept under keys of their own
    // (the whole normalised request): the same change reaches each of them.
    const kept = ['/?q=green', '/?q=vase&sort=price_desc', `/?seller=${sellerId}`, `/sellers/${sellerId}?q=vase`];
    await waitFor(async () => (await Promise.all(kept.map((url) => page(two, url)))).every((body) => body.includes('Green vase')));
    expect(await page(two, '/?q=blue')).toContain('No results for “blue”');

    // Stock taken by an order elsewhere: the card says sold out, on the catalogue and in each search.
    await oneDb.updateTable('listings').set({ stock: 0 }).where('id', '=', listingId).execute();
    await waitFor(async () => (await home(two)).includes('data-testid="sold-out"'));
    for (const url of kept) await waitFor(async () => (await page(two, url)).includes('data-testid="sold-out"'));

    // The seller's name on the card.
    await oneDb.updateTable('users').set({ display_name: 'Renamed Potter' }).where('id', '=', sellerId).execute();
    await waitFor(async () => (await home(two)).includes('Renamed Potter'));

    // Moderation (issue 16, point 7): a suspension, then a takedown, hide it; lifting them shows it again.
    await oneDb.insertInto('seller_suspensions').values({ seller_id: sellerId, reason: 'Reported' }).execute();
    await waitFor(async () => !(await home(two)).includes('Renamed Potter'));
    await oneDb.deleteFrom('seller_suspensions').where('seller_id', '=', sellerId).execute();
    await waitFor(async () => (await home(two)).includes('Renamed Potter'));
    await oneDb.insertInto('listing_takedowns').values({ listing_id: listingId, reason: 'Prohibited' }).execute();
    await waitFor(async () => !(await home(two)).includes('Green vase'));
    await oneDb.deleteFrom('listing_takedowns').where('listing_id', '=', listingId).execute();
    await waitFor(async () => (await home(two)).includes('Green vase'));

    // The seller can no longer take payments: the listing leaves the catalogue.
    await oneDb.updateTable('sellers').set({ charges_enabled: false }).where('id', '=', sellerId).execute();
    await waitFor(async () => !(await home(two)).includes('Green vase'));
    expect(await home(one)).not.toContain('Green vase');
  });
});

describe('anonymous catalogue pages', () => {
  it('set no cookie (no form, no CSRF token), keep their security headers; a page with a form still gets its token', async () => {
    const { listingId } = await sellableListing('Tea bowl');
    for (const url of ['/', `/listings/${listingId}`]) {
      const response = await w.app.inject({ method: 'GET', url, headers: { accept: 'text/html' } });
      expect(response.statusCode, url).toBe(200);
      expect(response.body, url).toContain('Tea bowl');
      expect(response.headers['set-cookie'], url).toBeUndefined();
      expect(response.body, url).not.toContain('name="_csrf"');
      expect(response.headers['content-security-policy'], url).toContain("default-src 'self'");
      expect(response.headers['x-frame-options'], url).toBe('SAMEORIGIN');
    }
    const login = await w.app.inject({ method: 'GET', url: '/login', headers: { accept: 'text/html' } });
    expect(String(login.headers['set-cookie'])).toMatch(/^csrf=/);
    expect(login.body).toMatch(/name="_csrf" value="[^"]+"/);
  });
});
