// Kept in step by webhooks (issue 12, point 5): payment_method.attached/detached, customer.updated
// and setup_intent.succeeded/setup_failed update the local view, through the worker's own code
// (stored in the inbox, processed by the registry). Events arrive late, twice and out of order:
// each handler reads Stripe now, so the last word is Stripe's, never an old payload's.
import { beforeEach, describe, expect, it } from 'vitest';
import { ensureBuyerCustomer } from '../../src/customers/use-cases.ts';
import { confirmSetupWithCard, listedCards, openCardSetup } from './helpers.ts';
import { useWorld } from '../helpers/fixture.ts';

const w = useWorld({ webhooks: 'held' });
beforeEach(async () => {
  await w.events.skip();
});

const ofType =
  (...types: string[]) =>
  (event: { type: string }) =>
    types.includes(event.type);

async function buyerWithCustomer() {
  const buyer = await w.signIn('buyer');
  const customerId = await ensureBuyerCustomer(w.db, w.stripe, buyer.userId);
  return { ...buyer, customerId };
}

describe('payment_method.attached / detached', () => {
  it('a card attached at Stripe appears; removed elsewhere (the customer portal) it disappears', async () => {
    const buyer = await buyerWithCustomer();
    const pm = await w.stripe.paymentMethods.attach('pm_card_visa', { customer: buyer.customerId });
    await w.events.run(ofType('payment_method.attached'));
    expect(await listedCards(buyer.client)).toEqual([{ pm: pm.id, last4: '4242', isDefault: false }]);

    await w.stripe.paymentMethods.detach(pm.id);
    const delivered = await w.events.run(ofType('payment_method.detached'));
    expect(delivered).toHaveLength(1);
    expect(await listedCards(buyer.client)).toEqual([]);
  });

  it('an attached event delivered after the card was removed (late, or again) never brings it back', async () => {
    const buyer = await buyerWithCustomer();
    const pm = await w.stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: buyer.customerId });
    await w.stripe.paymentMethods.detach(pm.id);
    const [attached] = await w.events.pending(ofType('payment_method.attached'));
    const [detached] = await w.events.pending(ofType('payment_method.detached'));
    await w.events.deliver(detached!);
    await w.events.deliver(attached!);
    expect(await listedCards(buyer.client)).toEqual([]);
    const rows = await w.db.selectFrom('buyer_payment_methods').select('status').where('id', '=', pm.id).where('status', '=', 'attached').execute();
    expect(rows).toEqual([]);
  });

  it('a card of a Customer that is not one of our buyers is not recorded', async () => {
    const stranger = await w.stripe.customers.create({ email: 'someone@example.test' });
    const pm = await w.stripe.paymentMethods.attach('pm_card_visa', { customer: stranger.id });
    await w.events.run(ofType('payment_method.attached'));
    expect(await w.db.selectFrom('buyer_payment_methods').select('id').where('id', '=', pm.id).executeTakeFirst()).toBeUndefined();
  });
});

describe('customer.updated', () => {
  it('a default chosen elsewhere shows here', async () => {
    const buyer = await buyerWithCustomer();
    const a = await w.stripe.paymentMethods.attach('pm_card_visa', { customer: buyer.customerId });
    const b = await w.stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: buyer.customerId });
    await w.stripe.customers.update(buyer.customerId, { invoice_settings: { default_payment_method: b.id } });
    await w.events.run(ofType('payment_method.attached', 'customer.updated'));
    expect(await listedCards(buyer.client)).toEqual([
      { pm: b.id, last4: '0341', isDefault: true },
      { pm: a.id, last4: '4242', isDefault: false },
    ]);
  });
});

describe('setup_intent.succeeded / setup_failed', () => {
  it('records the outcome of an attempt and its card even if the buyer never comes back; the first card becomes the default', async () => {
    const buyer = await buyerWithCustomer();
    const { setupId, page } = await openCardSetup(buyer.client);
    await confirmSetupWithCard(page, '4000000000009995'); // declined: insufficient funds
    await w.events.run(ofType('setup_intent.setup_failed'));
    let setup = await w.db.selectFrom('card_setups').selectAll().where('id', '=', setupId).executeTakeFirstOrThrow();
    expect(setup).toMatchObject({ status: 'failed', failure_message: 'Your bank declined this card, so it was not saved. Try another card.' });

    await confirmSetupWithCard(page, '4242424242424242'); // the same SetupIntent, another card
    await w.events.run(ofType('setup_intent.succeeded'));
    setup = await w.db.selectFrom('card_setups').selectAll().where('id', '=', setupId).executeTakeFirstOrThrow();
    expect(setup).toMatchObject({ status: 'succeeded', failure_message: null });
    expect(await listedCards(buyer.client)).toEqual([{ pm: setup.payment_method_id, last4: '4242', isDefault: true }]);
    // A late failure event of the same intent cannot undo the success.
    const [failed] = (await w.stripe.events.list({ type: 'setup_intent.setup_failed', limit: 100 })).data.filter(
      (e) => (e.data.object as { id: string }).id === setup.stripe_setup_intent_id,
    );
    await w.events.deliver(failed!);
    expect((await w.db.selectFrom('card_setups').select('status').where('id', '=', setupId).executeTakeFirstOrThrow()).status).toBe('succeeded');
  });
});
