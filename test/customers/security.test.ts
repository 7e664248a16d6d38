// Who may use the saved-card routes (issue 12, point 6), as a matrix: every new page and action
// against a visitor, a seller, an admin, another buyer and the owner. Only the owner gets in; another
// buyer gets the same 404 as for nothing at all; every POST without a CSRF token is refused before
// anything runs. In every refused case nothing changed: no row of ours, no request at Stripe.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { TestClient } from '../helpers/app.ts';
import { addCard, listedCards } from './helpers.ts';
import { useWorld, type SignedIn } from '../helpers/fixture.ts';
import { addListing, enabledSeller } from '../helpers/market.ts';

const w = useWorld({ emulator: true });
let owner: SignedIn;
let pm: string;
let setupId: string;
let listingId: string;

beforeAll(async () => {
  const seller = await enabledSeller(w);
  listingId = (await addListing(w.db, seller.sellerId, { price: 1000, stock: 5 })).id;
  owner = await w.signIn('buyer');
  setupId = (await addCard(owner.client, '4242424242424242')).setupId;
  await addCard(owner.client, '5555555555554444');
  pm = (await listedCards(owner.client))[1]!.pm;
});

const pages = () => [
  '/account/details',
  '/account/payment-methods',
  `/account/payment-methods/${pm}/remove`,
  `/account/payment-methods/setups/${setupId}`,
  `/account/payment-methods/setups/${setupId}/done`,
];
/** The owner's own pages and actions; only the owner may reach them. */
const ownedPages = () => [
  `/account/payment-methods/${pm}/remove`,
  `/account/payment-methods/setups/${setupId}`,
  `/account/payment-methods/setups/${setupId}/done`,
];
const actions = (): { url: string; body: Record<string, string> }[] => [
  { url: '/account/payment-methods/default', body: { payment_method: pm } },
  { url: `/account/payment-methods/${pm}/remove`, body: {} },
  { url: '/account/payment-methods/setups', body: { attempt: randomUUID(), flow: 'element' } },
  { url: '/account/payment-methods/setups', body: { attempt: randomUUID(), flow: 'checkout' } },
  { url: `/checkout/${listingId}/saved-card`, body: { quantity: '1', attempt: randomUUID(), payment_method: pm } },
  { url: '/account/details', body: { email: 'taken-over@example.test', displayName: 'Taken Over', password: 'whatever-password' } },
];

async function snapshot() {
  const db = w.db;
  const emulatorPosts = (await w.emu.control<{ data: { method: string }[] }>('GET', '/_emulator/requests')).data.filter((r) => r.method === 'POST').length;
  return JSON.stringify({
    cards: await db.selectFrom('buyer_payment_methods').select(['id', 'status']).orderBy('id').execute(),
    owner: await db.selectFrom('users').select(['id', 'email', 'display_name']).where('id', '=', owner.userId).execute(),
    defaults: await db.selectFrom('buyer_customers').select(['buyer_id', 'default_payment_method_id', 'stripe_customer_id']).orderBy('buyer_id').execute(),
    setups: await db.selectFrom('card_setups').select('id').orderBy('id').execute(),
    orders: await db.selectFrom('orders').select('id').orderBy('id').execute(),
    stock: await db.selectFrom('listings').select('stock').where('id', '=', listingId).execute(),
    emulatorPosts,
  });
}

describe('saved cards: authorization matrix', () => {
  it("visitors are sent to log in; sellers and admins get 403; another buyer gets 404 for the owner's things; nothing changes", async () => {
    const before = await snapshot();
    const visitor = new TestClient(w.app);
    const seller = await w.signIn('seller');
    const admin = await w.signIn('admin');
    const other = await w.signIn('buyer');
    for (const url of pages()) {
      const a = await visitor.get(url);
      expect([a.statusCode, a.location?.startsWith('/login')], url).toEqual([303, true]);
      expect((await seller.client.get(url)).statusCode, url).toBe(403);
      expect((await admin.client.get(url)).statusCode, url).toBe(403);
    }
    for (const url of ownedPages()) expect((await other.client.get(url)).statusCode, url).toBe(404);
    for (const { url, body } of actions()) {
      const a = await visitor.post(url, body);
      expect([a.statusCode, a.location?.startsWith('/login')], url).toEqual([303, true]);
      expect((await seller.client.post(url, body)).statusCode, url).toBe(403);
      expect((await admin.client.post(url, body)).statusCode, url).toBe(403);
    }
    // Another buyer naming the owner's card: the same 404 as a card that does not exist.
    for (const { url, body } of actions().filter((a) => 'payment_method' in a.body || a.url.includes(pm))) {
      expect((await other.client.post(url, body)).statusCode, url).toBe(404);
    }
    expect((await other.client.post('/account/payment-methods/default', { payment_method: 'pm_doesnotexist' })).statusCode).toBe(404);
    // The other buyer's own page does not list the owner's cards.
    expect(await listedCards(other.client)).toEqual([]);
    expect(await snapshot()).toBe(before);
  });

  it('another buyer cannot reuse the owner\'s "add a card" attempt id', async () => {
    const other = await w.signIn('buyer');
    const before = await w.db.selectFrom('card_setups').select(['id', 'buyer_id']).where('id', '=', setupId).executeTakeFirstOrThrow();
    expect((await other.client.post('/account/payment-methods/setups', { attempt: setupId, flow: 'element' })).statusCode).toBe(404);
    expect(await w.db.selectFrom('card_setups').select(['id', 'buyer_id']).where('id', '=', setupId).executeTakeFirstOrThrow()).toEqual(before);
  });

  it('every new POST without a CSRF token, or with a bad one, is refused with 403 before anything runs', async () => {
    const before = await snapshot();
    for (const { url, body } of actions()) {
      expect((await owner.client.post(url, body, { csrf: false })).statusCode, url).toBe(403);
      expect((await owner.client.post(url, body, { csrf: 'forged-token' })).statusCode, url).toBe(403);
    }
    expect(await snapshot()).toBe(before);
  });

  it('inputs are validated: a malformed card id or attempt, and control characters, are refused', async () => {
    const before = await snapshot();
    for (const bad of ['pm_1\u0000x', 'pm_../../x', 'card_123', '']) {
      expect((await owner.client.post('/account/payment-methods/default', { payment_method: bad })).statusCode, bad).toBe(400);
    }
    expect((await owner.client.post('/account/payment-methods/setups', { attempt: 'not-a-uuid', flow: 'element' })).statusCode).toBe(400);
    expect((await owner.client.post('/account/payment-methods/setups', { attempt: randomUUID(), flow: 'iframe' })).statusCode).toBe(400);
    expect((await owner.client.get('/account/payment-methods/pm_%00/remove')).statusCode).toBe(400);
    expect(await snapshot()).toBe(before);
  });

  it('the pages never carry more of a card than brand, last 4 and expiry', async () => {
    const page = await owner.client.get('/account/payment-methods');
    expect(page.body).not.toMatch(/4242424242424242|5555555555554444|fingerprint|seti_[A-Za-z0-9]+_secret/);
  });
});
