// One Stripe Customer per buyer (issue 12, point 1), against the emulator over HTTP and a real
// database: ten first actions racing make one Customer; a lost answer is healed by the same key;
// a Customer made before Stripe's idempotency window closed is found by its metadata; the buyer's
// new name reaches Stripe (a new email does too: test/accounts).
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { recordCustomerRequest } from '../../src/customers/queries.ts';
import { customerIdempotencyKey, ensureBuyerCustomer, updateBuyerDetails } from '../../src/customers/use-cases.ts';
import { createTestUser } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';

const w = useWorld({ emulator: true });

async function customersOf(buyerId: string): Promise<Stripe.Customer[]> {
  const found: Stripe.Customer[] = [];
  for await (const customer of w.stripe.customers.list({ limit: 100 })) {
    if (customer.metadata.buyer_id === buyerId) found.push(customer);
  }
  return found;
}

async function storedRow(buyerId: string) {
  return w.db.selectFrom('buyer_customers').selectAll().where('buyer_id', '=', buyerId).executeTakeFirstOrThrow();
}

describe('ensureBuyerCustomer', () => {
  it('makes one Customer when ten first actions race, and records it once', async () => {
    const buyer = await createTestUser(w.db, 'buyer');
    // Every create is held a little at Stripe, so the ten requests really overlap there too.
    await w.emu.fault('/v1/customers', 'delay', { holdMs: 300, count: 10 });
    const ids = await Promise.all(Array.from({ length: 10 }, () => ensureBuyerCustomer(w.db, w.stripe, buyer.id)));
    await w.emu.clearFaults();

    expect(new Set(ids).size).toBe(1);
    const customers = await customersOf(buyer.id);
    expect(customers.map((c) => c.id)).toEqual([ids[0]]);
    expect(customers[0]).toMatchObject({ email: buyer.email, name: buyer.display_name, metadata: { buyer_id: buyer.id } });
    expect((await storedRow(buyer.id)).stripe_customer_id).toBe(ids[0]);
    // Every create carried the key derived from the buyer (none went out without it).
    const creates = await w.emu.requests('/v1/customers');
    expect(creates.length).toBeGreaterThanOrEqual(1);
    expect(new Set(creates.map((r) => r.idempotency_key))).toEqual(new Set([customerIdempotencyKey(buyer.id)]));
  });

  it('returns the recorded Customer without asking Stripe again', async () => {
    const buyer = await createTestUser(w.db, 'buyer');
    const first = await ensureBuyerCustomer(w.db, w.stripe, buyer.id);
    await w.emu.control('POST', '/_emulator/faults', { path: '/v1/customers', kind: '500', count: 5 });
    try {
      expect(await ensureBuyerCustomer(w.db, w.stripe, buyer.id)).toBe(first);
    } finally {
      await w.emu.clearFaults();
    }
  });

  it('heals a lost answer: Stripe made the Customer, we never heard; the next call gets the same one', async () => {
    const buyer = await createTestUser(w.db, 'buyer');
    await w.emu.fault('/v1/customers', 'apply_then_500');
    await expect(ensureBuyerCustomer(w.db, w.stripe, buyer.id)).rejects.toThrow();
    expect((await storedRow(buyer.id)).stripe_customer_id).toBeNull(); // the intent is recorded, the id is not
    expect(await customersOf(buyer.id)).toHaveLength(1);

    const id = await ensureBuyerCustomer(w.db, w.stripe, buyer.id);
    expect((await customersOf(buyer.id)).map((c) => c.id)).toEqual([id]);
    expect((await storedRow(buyer.id)).stripe_customer_id).toBe(id);
  });

  it('finds a Customer made before the idempotency window closed by its metadata instead of making another', async () => {
    const buyer = await createTestUser(w.db, 'buyer');
    await w.db.transaction().execute((trx) => recordCustomerRequest(trx, { id: buyer.id, email: buyer.email, name: buyer.display_name }));
    // Our first attempt, two days ago: Stripe made the Customer; its key has long expired.
    const orphan = await w.stripe.customers.create(
      { email: buyer.email, name: buyer.display_name, metadata: { buyer_id: buyer.id } },
      { idempotencyKey: `long-gone-${buyer.id}` },
    );
    await w.db
      .updateTable('buyer_customers')
      .set({ requested_at: new Date(Date.now() - 2 * 86_400_000) })
      .where('buyer_id', '=', buyer.id)
      .execute();

    expect(await ensureBuyerCustomer(w.db, w.stripe, buyer.id)).toBe(orphan.id);
    expect(await customersOf(buyer.id)).toHaveLength(1);
  });

  it('refuses an id that is not a buyer', async () => {
    const seller = await createTestUser(w.db, 'seller');
    await expect(ensureBuyerCustomer(w.db, w.stripe, seller.id)).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('the buyer changes their name', () => {
  it('tells Stripe (customers.update), also after changing back to earlier details', async () => {
    const buyer = await createTestUser(w.db, 'buyer');
    const id = await ensureBuyerCustomer(w.db, w.stripe, buyer.id);
    expect(await updateBuyerDetails(w.db, w.stripe, { buyerId: buyer.id, displayName: 'Renamed Buyer' })).toEqual({
      stripeUpdated: true,
    });
    expect(await w.stripe.customers.retrieve(id)).toMatchObject({ email: buyer.email, name: 'Renamed Buyer' });

    await updateBuyerDetails(w.db, w.stripe, { buyerId: buyer.id, displayName: buyer.display_name });
    expect(await w.stripe.customers.retrieve(id)).toMatchObject({ email: buyer.email, name: buyer.display_name });
    const row = await storedRow(buyer.id);
    expect(row.details_synced_version).toBe(row.details_version);
  });

  it('keeps the change when Stripe is down and tells Stripe the next time the Customer is needed', async () => {
    const buyer = await createTestUser(w.db, 'buyer');
    const id = await ensureBuyerCustomer(w.db, w.stripe, buyer.id);
    await w.emu.control('POST', '/_emulator/faults', { path: `/v1/customers/${id}`, kind: '500', count: 3 });
    expect(await updateBuyerDetails(w.db, w.stripe, { buyerId: buyer.id, displayName: 'Offline Rename' })).toEqual({
      stripeUpdated: false,
    });
    await w.emu.clearFaults();
    expect(await w.stripe.customers.retrieve(id)).toMatchObject({ name: buyer.display_name });

    expect(await ensureBuyerCustomer(w.db, w.stripe, buyer.id)).toBe(id);
    expect(await w.stripe.customers.retrieve(id)).toMatchObject({ name: 'Offline Rename' });
  });

  it('refuses a name with invisible characters', async () => {
    const buyer = await createTestUser(w.db, 'buyer');
    await expect(updateBuyerDetails(w.db, w.stripe, { buyerId: buyer.id, displayName: 'Evil\u202eName' })).rejects.toMatchObject({
      code: 'buyer_details_invalid',
    });
  });
});
