// A buyer deletes their account, through the real app, database and emulator (webhooks signed and
// processed as in production).
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hasSubscriptionThatMayCharge } from '../../src/accounts/queries.ts';
import { deleteBuyerAccount } from '../../src/accounts/use-cases.ts';
import { ensureBuyerCustomer } from '../../src/customers/use-cases.ts';
import type { SubscriptionStatus } from '../../src/db/schema.ts';
import { sendDueEmails } from '../../src/email/sender.ts';
import { createMailboxTransport } from '../../src/email/transport.ts';
import { markShipped } from '../../src/orders/fulfilment.ts';
import { buyWithPaymentElement, giveShippingAddress, openPaymentPage, syncOrderFromStripe } from '../../src/orders/use-cases.ts';
import { askForRefund } from '../../src/refund-requests/use-cases.ts';
import { subscribeWithPaymentElement } from '../../src/subscriptions/use-cases.ts';
import { storeEvent } from '../../src/webhooks/inbox.ts';
import { runScheduledBackfill } from '../../src/worker/worker.ts';
import { createTestUser, TEST_PASSWORD } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';
import { addListing, createSeller, enabledSeller, orderRow } from '../helpers/market.ts';
import { makeEvent } from '../helpers/webhooks.ts';
import { intentIdOf, planFor, subscriptionRow } from '../subscriptions/harness.ts';

const w = useWorld({ webhooks: true });

const userRow = (id: string) => w.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const deleteForm = { currentPassword: TEST_PASSWORD, confirm: 'yes' };

describe('once the account is erased, Stripe cannot undo the answer (review #4)', () => {
  it('a refusal from Stripe still signs the person out and tells them the account is deleted', async () => {
    const buyer = await w.signIn('buyer');
    const customerId = await ensureBuyerCustomer(w.db, w.stripe, buyer.userId);
    await w.stripe.customers.del(customerId); // removed in Stripe's Dashboard: Stripe now answers 404 for it

    const deleted = await buyer.client.post('/account/delete', deleteForm);
    expect([deleted.statusCode, deleted.location]).toEqual([303, '/']);
    expect(buyer.client.cookies.has('session')).toBe(false);
    expect((await buyer.client.get('/')).body).toContain('Your account is deleted.');
    expect((await userRow(buyer.userId)).email).toBe(`deleted-${buyer.userId}@deleted.invalid`);
  });
});

describe('a buyer with subscriptions (review #1)', () => {
  /** A buyer signed in, subscribed to a monthly plan and paid up (custom flow, 4242), with the events settled. */
  async function subscribedBuyer() {
    const seller = await createSeller(w);
    const plan = await planFor(w, seller, { amount: '12.00' });
    const buyer = await w.signIn('buyer');
    const step = await subscribeWithPaymentElement(w.db, w.stripe, { buyerId: buyer.userId, planId: plan.id });
    await w.stripe.paymentIntents.confirm(intentIdOf(step.clientSecret!), { payment_method: 'pm_card_visa' });
    await w.settle();
    const row = await subscriptionRow(w, step.subscription.id);
    expect(row.status).toBe('active');
    return { buyer, subscription: row };
  }

  it('is refused while a subscription would still charge, with the way to My subscriptions; once set to end, the account goes and so does the Customer', async () => {
    const { buyer, subscription } = await subscribedBuyer();
    const customerId = subscription.stripe_customer_id!;

    const refused = await buyer.client.post('/account/delete', deleteForm);
    expect(refused.statusCode).toBe(409);
    expect(refused.body).toContain('My subscriptions');
    expect(refused.body).toContain('href="/subscriptions"');
    expect((await userRow(buyer.userId)).email).toBe(buyer.email);
    expect((await buyer.client.get('/subscriptions')).statusCode).toBe(200); // still signed in, the page is there

    expect((await buyer.client.post(`/subscriptions/${subscription.id}/cancel`)).location).toBe('/subscriptions');
    const deleted = await buyer.client.post('/account/delete', deleteForm);
    expect([deleted.statusCode, deleted.location]).toEqual([303, '/']);

    // Nothing left at Stripe to charge: the Customer (with its cards) is deleted, which ends its subscriptions there.
    expect(await w.stripe.customers.retrieve(customerId)).toMatchObject({ id: customerId, deleted: true });
    expect((await w.stripe.subscriptions.retrieve(subscription.stripe_subscription_id!)).status).toBe('canceled');
    await w.settle();
    expect((await subscriptionRow(w, subscription.id)).status).toBe('canceled');
    const log = await w.emu.control<{ data: { method: string; path: string }[] }>('GET', `/_emulator/requests?path=/v1/customers/${customerId}`);
    expect(log.data.filter((r) => r.method === 'DELETE')).toHaveLength(1);
  });

  it('every status in which Stripe may still charge refuses; ended, and never-started, ones do not', async () => {
    const { buyer, subscription } = await subscribedBuyer();
    const setStatus = (status: SubscriptionStatus, cancelAtPeriodEnd = false) =>
      w.db.updateTable('subscriptions').set({ status, cancel_at_period_end: cancelAtPeriodEnd }).where('id', '=', subscription.id).execute();
    const attempt = () => deleteBuyerAccount(w.db, w.stripe, { userId: buyer.userId, currentPassword: TEST_PASSWORD, publicUrl: w.config.publicUrl });

    for (const status of ['incomplete', 'trialing', 'active', 'past_due', 'unpaid', 'paused'] as const) {
      await setStatus(status);
      await expect(attempt(), status).rejects.toMatchObject({ code: 'account_deletion_not_allowed', details: { reason: 'live_subscriptions' } });
    }
    // Waiting for its first payment, it cannot be canceled at period end: it ends by itself within a day.
    await setStatus('incomplete', true);
    await expect(attempt()).rejects.toMatchObject({ details: { reason: 'live_subscriptions' } });
    for (const status of ['canceled', 'incomplete_expired'] as const) {
      await setStatus(status);
      await w.db.transaction().execute(async (trx) => {
        expect(await hasSubscriptionThatMayCharge(trx, buyer.userId), status).toBe(false);
      });
    }
    // `pending` is our row alone (Stripe never answered), which My subscriptions does not show: it
    // must not keep the account alive for ever. The Customer's deletion ends whatever Stripe has.
    await setStatus('pending');
    expect(await attempt()).toEqual({ stripeError: null });
    expect(await w.stripe.customers.retrieve(subscription.stripe_customer_id!)).toMatchObject({ deleted: true });
  });

  it('when Stripe cannot be reached, the account is deleted anyway and the Customer is deleted by the worker later', async () => {
    const buyer = await w.signIn('buyer');
    const customerId = await ensureBuyerCustomer(w.db, w.stripe, buyer.userId);
    await w.emu.control('POST', '/_emulator/faults', { path: `/v1/customers/${customerId}`, kind: '500', count: 10 });
    try {
      const deleted = await buyer.client.post('/account/delete', deleteForm);
      expect([deleted.statusCode, deleted.location]).toEqual([303, '/']);
      expect(buyer.client.cookies.has('session')).toBe(false);
    } finally {
      await fetch(`${w.emu.url}/_emulator/faults`, { method: 'DELETE', headers: { 'content-type': 'application/json' } });
    }
    expect(await w.stripe.customers.retrieve(customerId)).not.toMatchObject({ deleted: true }); // still there
    await runScheduledBackfill(w.db, w.stripe, false);
    expect(await w.stripe.customers.retrieve(customerId)).toMatchObject({ deleted: true });
    const row = await w.db.selectFrom('buyer_customers').select('stripe_deleted_at').where('buyer_id', '=', buyer.userId).executeTakeFirstOrThrow();
    expect(row.stripe_deleted_at).not.toBeNull();
  });
});

describe("the buyer's name, address and words leave with the account (review #6)", () => {
  const SHIP_TO = { name: 'Ada Lovelace', line1: '12 Analytical Row', line2: 'Flat 3', city: 'London', state: null, postal_code: 'W1 1AA', country: 'GB' };
  const REASON = 'Charles Babbage signed for it next door, at 12 Analytical Row';

  it("is gone from the order, the refund request and the sellers' emails (bodies included); the seller still sees the sale and where it went", async () => {
    const seller = await enabledSeller(w);
    // An address with characters HTML escapes (' and =) and capitals: the sellers' HTML bodies hold it as &#x27; and &#x3D;.
    const email = `O'Hara=Ada-${Date.now()}@Example.test`;
    const user = await createTestUser(w.db, 'buyer', { email, displayName: 'Ada Lovelace' });
    const buyer = await w.signIn('buyer', user.id);

    const listing = await addListing(w.db, seller.sellerId, { price: 4_200, kind: 'physical', title: 'Difference engine kit' });
    const placed = await buyWithPaymentElement(w.db, w.stripe, {
      buyerId: user.id,
      buyerEmail: email,
      listingId: listing.id,
      quantity: 1,
      attemptId: randomUUID(),
    });
    await giveShippingAddress(w.db, user.id, placed.id, SHIP_TO, ['GB']);
    const page = await openPaymentPage(w.db, w.stripe, user.id, placed.id);
    if ('redirect' in page) throw new Error(`no pay page: ${page.redirect}`);
    await w.stripe.paymentIntents.confirm(page.order.stripe_payment_intent_id!, { payment_method: 'pm_card_visa' });
    expect((await syncOrderFromStripe(w.db, w.stripe, page.order, 'completion_page')).status).toBe('paid');
    await markShipped(w.db, { sellerId: seller.sellerId, orderId: placed.id, carrier: 'Royal Mail', trackingNumber: 'RM123456789GB' });
    await askForRefund(w.db, { buyerId: user.id, orderId: placed.id, reason: REASON });
    await w.settle();
    // Every message rendered and kept, as the sender leaves them (the mailbox keeps what it "sent").
    await sendDueEmails(w.db, createMailboxTransport(), { baseUrl: 'http://localhost:3000', from: 'Marketplace <no-reply@localhost>' });
    const before = await w.db.selectFrom('email_outbox').selectAll().where('to_address', '=', seller.user.email).execute();
    expect(before.find((m) => m.template === 'new-sale')?.html_body).toContain('O&#x27;Hara&#x3D;Ada');
    expect(before.find((m) => m.template === 'refund-requested')?.text_body).toContain('Charles Babbage');

    const deleted = await buyer.client.post('/account/delete', deleteForm);
    expect([deleted.statusCode, deleted.location]).toEqual([303, '/']);

    const order = await orderRow(w.db, placed.id);
    const everything = JSON.stringify({
      order,
      users: await w.db.selectFrom('users').selectAll().where('id', '=', user.id).execute(),
      requests: await w.db.selectFrom('refund_requests').selectAll().where('order_id', '=', placed.id).execute(),
      outbox: await w.db.selectFrom('email_outbox').selectAll().execute(),
      customers: await w.db.selectFrom('buyer_customers').selectAll().where('buyer_id', '=', user.id).execute(),
      cards: await w.db.selectFrom('buyer_payment_methods').selectAll().where('buyer_id', '=', user.id).execute(),
    });
    for (const trace of [email.toLowerCase(), "o'hara", 'o&#x27;hara', 'ada lovelace', 'analytical row', 'babbage', 'w1 1aa']) {
      expect(everything.toLowerCase().includes(trace), `${trace} is still stored`).toBe(false);
    }

    // What the seller keeps: the sale, its country (for their records), and messages that still read as sent.
    expect(order.ship_to).toMatchObject({ name: 'Deleted account', country: 'GB' });
    const after = await w.db.selectFrom('email_outbox').selectAll().where('to_address', '=', seller.user.email).execute();
    const sale = after.find((m) => m.template === 'new-sale')!;
    expect(sale).toMatchObject({ status: 'sent', subject: 'New sale: Difference engine kit (ship to Deleted account)' });
    expect(sale.text_body).toContain('Address removed');
    expect(sale.html_body).toContain(`deleted-${user.id}@deleted.invalid`);
    expect(after.find((m) => m.template === 'refund-requested')?.text_body).toContain('Removed: the buyer deleted their account.');
    const view = await seller.client.get(`/seller/orders/${placed.id}`);
    expect(view.statusCode).toBe(200);
    expect(view.body).toContain('Address removed');
    expect(view.body).toContain('United Kingdom');
  });
});

describe("a deleted buyer's details in the Stripe events we stored", () => {
  const eventsAbout = (customerId: string) =>
    w.db
      .selectFrom('stripe_events')
      .select(['id', 'type', 'status', 'payload', 'raw_body', 'personal_data_erased_at'])
      .where('customer_id', '=', customerId)
      .orderBy('received_at')
      .execute();

  it("are removed by the worker's scheduled run once it has finished with each event (customer.deleted included); others' events keep theirs", async () => {
    const buyer = await w.signIn('buyer');
    const other = await w.signIn('buyer');
    const customerId = await ensureBuyerCustomer(w.db, w.stripe, buyer.userId);
    const otherCustomerId = await ensureBuyerCustomer(w.db, w.stripe, other.userId);
    await w.stripe.customers.update(customerId, { phone: '+44 20 7946 0000', address: { line1: '1 Buyer Street', city: 'London', country: 'GB' } });
    await w.settle();
    const { display_name: name } = await userRow(buyer.userId);
    const mentionsBuyer = (payload: unknown) => {
      const text = JSON.stringify(payload);
      return [buyer.email, name, '1 Buyer Street', '7946'].filter((detail) => text.includes(detail));
    };
    // What there is to remove: the Customer's events carry the buyer's email, name, phone and address.
    const before = await eventsAbout(customerId);
    expect(before.map((e) => e.type)).toEqual(expect.arrayContaining(['customer.created', 'customer.updated']));
    expect(before.some((e) => mentionsBuyer(e.payload).length === 4)).toBe(true);

    expect((await buyer.client.post('/account/delete', deleteForm)).statusCode).toBe(303);
    await w.settle();
    // An event about them that the worker has not finished with yet is left as it came, for now.
    const pendingId = `evt_pending_${randomUUID()}`;
    await storeEvent(w.db, makeEvent('customer.updated', { id: customerId, object: 'customer', email: buyer.email }, { id: pendingId }), {
      source: 'platform',
      livemode: false,
    });
    await w.db.updateTable('stripe_events').set({ status: 'failed' }).where('id', '=', pendingId).execute();

    await runScheduledBackfill(w.db, w.stripe, false);

    const after = await eventsAbout(customerId);
    expect(after.map((e) => e.type)).toContain('customer.deleted');
    for (const event of after.filter((e) => e.id !== pendingId)) {
      expect([event.type, mentionsBuyer(event.payload)]).toEqual([event.type, []]);
      expect(event.personal_data_erased_at).not.toBeNull();
      expect(event.raw_body).toBeNull();
      // What happened, to which Customer, stays.
      expect((event.payload as { data: { object: { id: string } } }).data.object.id).toBe(customerId);
    }
    const pending = after.find((e) => e.id === pendingId)!;
    expect([pending.personal_data_erased_at, mentionsBuyer(pending.payload)]).toEqual([null, [buyer.email]]);
    // Once the worker is done with it, the next run removes its details too.
    await w.db.updateTable('stripe_events').set({ status: 'dead' }).where('id', '=', pendingId).execute();
    await runScheduledBackfill(w.db, w.stripe, false);
    expect(mentionsBuyer((await eventsAbout(customerId)).find((e) => e.id === pendingId)!.payload)).toEqual([]);

    // Another buyer's events are untouched.
    const others = await eventsAbout(otherCustomerId);
    expect(others.length).toBeGreaterThan(0);
    expect(others.every((e) => e.personal_data_erased_at === null)).toBe(true);
    expect(others.some((e) => JSON.stringify(e.payload).includes(other.email))).toBe(true);
  });
});
