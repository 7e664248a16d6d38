// The offline demo's shop, against a real database and the emulator through the real SDK.
import { beforeAll, describe, expect, it } from 'vitest';
import { DEMO_LISTINGS, seedDemoShop } from '../../src/cli/demo-seed.ts';
import { DEMO_SELLER_EMAIL, ensureDemoUsers } from '../../src/cli/demo-users.ts';
import { searchCatalogue } from '../../src/listings/queries.ts';
import { normaliseSearch } from '../../src/listings/search.ts';
import { useWorld } from '../helpers/fixture.ts';

const w = useWorld({ emulator: true });

beforeAll(async () => {
  await ensureDemoUsers(w.db);
});

const seed = () => seedDemoShop(w.db, w.stripe, { emulatorUrl: w.emu.url, sellerEmail: DEMO_SELLER_EMAIL });

describe('demo shop', () => {
  it('onboards the demo seller at the emulator, with its events, and lists their goods in the catalogue', async () => {
    expect((await searchCatalogue(w.db, normaliseSearch({}))).listings).toHaveLength(0);

    expect(await seed()).toEqual({ onboarded: true, listingsCreated: DEMO_LISTINGS.length, plansCreated: 1 });

    const seller = await w.db
      .selectFrom('sellers')
      .innerJoin('users', 'users.id', 'sellers.id')
      .select(['sellers.stripe_account_id', 'sellers.account_state', 'sellers.charges_enabled', 'sellers.payouts_enabled'])
      .where('users.email', '=', DEMO_SELLER_EMAIL)
      .executeTakeFirstOrThrow();
    expect(seller).toMatchObject({ account_state: 'enabled', charges_enabled: true, payouts_enabled: true });
    // The account exists at "Stripe" and is onboarded there; the emulator emitted what Stripe would.
    const account = await w.stripe.accounts.retrieve(seller.stripe_account_id);
    expect(account).toMatchObject({ details_submitted: true, charges_enabled: true, metadata: { seller_id: expect.any(String) } });
    const events = await w.stripe.events.list({ limit: 100 }, { stripeAccount: account.id });
    expect(events.data.map((event) => event.type)).toEqual(expect.arrayContaining(['account.updated', 'capability.updated']));

    const shown = (await searchCatalogue(w.db, normaliseSearch({}))).listings;
    expect(shown.map((listing) => listing.title).sort()).toEqual(DEMO_LISTINGS.map((listing) => listing.title).sort());
    expect(shown.every((listing) => listing.seller_name === 'Demo Seller')).toBe(true);
  });

  it('changes nothing when run again (every offline restart runs it)', async () => {
    const before = await w.db.selectFrom('listings').select(['id']).execute();
    const accounts = (await w.stripe.accounts.list({ limit: 100 })).data;
    expect(accounts).toHaveLength(1);
    const accountEvents = () => w.stripe.events.list({ limit: 100 }, { stripeAccount: accounts[0]!.id });
    const events = (await accountEvents()).data.length;

    expect(await seed()).toEqual({ onboarded: false, listingsCreated: 0, plansCreated: 0 });

    expect(await w.db.selectFrom('listings').select(['id']).execute()).toEqual(before);
    expect((await w.stripe.accounts.list({ limit: 100 })).data).toHaveLength(1);
    expect((await accountEvents()).data).toHaveLength(events);
  });
});
