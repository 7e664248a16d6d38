// Issue 15 point 12: a quantity the form's own limits would have stopped (0, text, 101 — the field's
// minimum removed in the browser) gets a page in words with the way back, not the validator's
// "body/quantity must be >= 1".
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useWorld } from '../helpers/fixture.ts';
import { addListing, useEnabledSeller } from '../helpers/market.ts';

const w = useWorld({ emulator: true });
const seller = useEnabledSeller(w);

describe("a quantity outside the form's limits", () => {
  for (const flow of ['', '/pay']) {
    for (const quantity of ['0', '-2', 'abc', '101']) {
      it(`POST /checkout/:id${flow} with quantity ${quantity}: 400 in words, a way back, no order`, async () => {
        const listing = await addListing(w.db, seller.sellerId, { price: 1000, stock: 5 });
        const buyer = await w.signIn('buyer');
        const response = await buyer.client.post(`/checkout/${listing.id}${flow}`, { quantity, attempt: randomUUID() });
        expect(response.statusCode).toBe(400);
        expect(response.body).toContain('Choose a quantity from 1 to 100');
        expect(response.body).not.toMatch(/body\/quantity|must be >=|must be integer/);
        expect(response.body).toContain(`href="/listings/${listing.id}"`);
        expect(await w.db.selectFrom('orders').select('id').where('listing_id', '=', listing.id).execute()).toEqual([]);
      });
    }
  }

  it('another unreadable field (the attempt id) gets the general words', async () => {
    const listing = await addListing(w.db, seller.sellerId, { price: 1000, stock: 5 });
    const buyer = await w.signIn('buyer');
    const response = await buyer.client.post(`/checkout/${listing.id}`, { quantity: 1, attempt: 'x' });
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('could not be read');
  });
});
