// Issue 15 point 8: "Pay with card on this site" pays for the quantity chosen on the listing (the
// same form, posted to the custom flow) instead of asking again; the quantity limit follows the
// stock; asking for more than is left is not called "sold out"; the start and pay pages have a way
// back and a way to cancel.
import { describe, expect, it } from 'vitest';
import { useWorld } from '../helpers/fixture.ts';
import { addListing, orderRow, useEnabledSeller } from '../helpers/market.ts';

const w = useWorld({ emulator: true });
const seller = useEnabledSeller(w);

const attr = (html: string, pattern: RegExp) => pattern.exec(html)?.[1];

describe('the custom flow from the listing', () => {
  it("the listing's one form posts the chosen quantity to either flow; its limit is the stock", async () => {
    const listing = await addListing(w.db, seller.sellerId, { price: 1200, stock: 4 });
    const buyer = await w.signIn('buyer');
    const page = await buyer.client.get(`/listings/${listing.id}`);
    expect(attr(page.body, /id="quantity"[^>]*max="(\d+)"/)).toBe('4');
    expect(page.body).toMatch(new RegExp(`<button type="submit"[^>]*formaction="/checkout/${listing.id}/pay"[^>]*>Pay with card on this site</button>`));
    const attempt = attr(page.body, /name="attempt" value="([^"]+)"/)!;
    const response = await buyer.client.post(`/checkout/${listing.id}/pay`, { quantity: 3, attempt });
    expect(response.statusCode).toBe(303);
    const orderId = /\/orders\/([0-9a-f-]+)\/pay$/.exec(response.location!)![1]!;
    expect(await orderRow(w.db, orderId)).toMatchObject({ quantity: 3, amount: 3600, flow: 'custom' });
    const pay = await buyer.client.get(response.location!);
    expect(pay.body).toContain('Pay $36.00');
    expect(pay.body).toContain(`href="/listings/${listing.id}"`);
    expect(pay.body).toContain(`action="/orders/${orderId}/cancel"`);
  });

  it('the start page (opened directly) keeps a quantity, limits it by the stock and links back', async () => {
    const listing = await addListing(w.db, seller.sellerId, { price: 500, stock: 2 });
    const buyer = await w.signIn('buyer');
    const start = await buyer.client.get(`/checkout/${listing.id}/pay?quantity=2`);
    expect(start.statusCode).toBe(200);
    expect(attr(start.body, /id="quantity"[^>]*max="(\d+)"/)).toBe('2');
    expect(attr(start.body, /id="quantity"[^>]*value="(\d+)"/)).toBe('2');
    expect(start.body).toContain(`href="/listings/${listing.id}"`);
    const unlimited = await addListing(w.db, seller.sellerId, { price: 500, stock: null });
    expect(attr((await buyer.client.get(`/checkout/${unlimited.id}/pay`)).body, /id="quantity"[^>]*max="(\d+)"/)).toBe('100');
  });

  it('more than is left: "only 2 left", not "sold out"', async () => {
    const listing = await addListing(w.db, seller.sellerId, { price: 500, stock: 2 });
    const buyer = await w.signIn('buyer');
    const page = await buyer.client.get(`/listings/${listing.id}`);
    const attempt = attr(page.body, /name="attempt" value="([^"]+)"/)!;
    const refused = await buyer.client.post(`/checkout/${listing.id}/pay`, { quantity: 3, attempt });
    expect(refused.statusCode).toBe(409);
    expect(refused.body).toContain('only 2 left');
    expect(refused.body).not.toContain('Sold out');
  });
});
