// Buyers ask for a refund of a paid order (issue 16, point 8): the order's seller or an admin
// approves it (a refund through the refunds use case, one per request however often approved) or
// declines it with a reason the buyer reads. Through the real app, database and emulator.
import { beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../src/db/schema.ts';
import { createTestUser, TEST_PASSWORD, TestClient } from '../helpers/app.ts';
import { buyWithPaymentElement } from '../../src/orders/use-cases.ts';
import { useWorld } from '../helpers/fixture.ts';
import { createListing, createPaidOrder, createSeller, type TestSeller } from '../helpers/market.ts';

const h = useWorld({ webhooks: true, admin: true });
let seller: TestSeller;
let sellerClient: TestClient;
beforeAll(async () => {
  seller = await createSeller(h);
  sellerClient = await signedIn(seller.user);
});

async function signedIn(user: User): Promise<TestClient> {
  const client = new TestClient(h.app);
  expect((await client.post('/login', { email: user.email, password: TEST_PASSWORD })).statusCode).toBe(303);
  return client;
}
async function paidOrderOfNewBuyer(amount = 4_000) {
  const buyer = await createTestUser(h.database.db, 'buyer');
  const orderId = (await createPaidOrder(h, seller, { amount, buyer })).id;
  return { buyer, orderId, client: await signedIn(buyer) };
}
const requestsOf = (orderId: string) => h.database.db.selectFrom('refund_requests').selectAll().where('order_id', '=', orderId).orderBy('created_at').execute();
const stripeRefundsOf = async (orderId: string) => {
  const order = await h.database.db.selectFrom('orders').select('stripe_payment_intent_id').where('id', '=', orderId).executeTakeFirstOrThrow();
  return (await h.stripe.refunds.list({ payment_intent: order.stripe_payment_intent_id! })).data;
};

describe('asking', () => {
  it('the buyer asks once on their paid order; others cannot, and an unpaid order cannot be asked about', async () => {
    const { orderId, client } = await paidOrderOfNewBuyer();
    const asked = await client.post(`/orders/${orderId}/refund-request`, { reason: 'Arrived broken.\nPhotos on request.' });
    expect([asked.statusCode, asked.location]).toEqual([303, `/orders/${orderId}`]);
    const receipt = await client.get(`/orders/${orderId}`);
    expect(receipt.body).toContain('Arrived broken.');
    expect(receipt.body).not.toContain('data-testid="ask-refund"');
    await client.post(`/orders/${orderId}/refund-request`, { reason: 'Again' });
    expect((await client.get(`/orders/${orderId}`)).body).toContain('already waiting for an answer');
    expect(await requestsOf(orderId)).toHaveLength(1);

    const stranger = await signedIn(await createTestUser(h.database.db, 'buyer'));
    expect((await stranger.post(`/orders/${orderId}/refund-request`, { reason: 'Mine now' })).statusCode).toBe(404);

    const buyer = await createTestUser(h.database.db, 'buyer');
    const listingId = await createListing(h, seller.user.id, 1_000);
    const unpaid = await buyWithPaymentElement(h.database.db, h.stripe, {
      buyerId: buyer.id,
      buyerEmail: buyer.email,
      listingId,
      quantity: 1,
      attemptId: crypto.randomUUID(),
    });
    const unpaidClient = await signedIn(buyer);
    await unpaidClient.post(`/orders/${unpaid.id}/refund-request`, { reason: 'Not paid yet' });
    expect(await requestsOf(unpaid.id)).toEqual([]);
  });
});

describe('deciding', () => {
  it('a decline needs a reason, which the buyer then reads; they may ask again', async () => {
    const { orderId, client } = await paidOrderOfNewBuyer();
    await client.post(`/orders/${orderId}/refund-request`, { reason: 'Wrong colour' });
    const [request] = await requestsOf(orderId);
    const base = `/seller/orders/${orderId}/refund-requests/${request!.id}`;
    await sellerClient.post(`${base}/decline`, { reason: '   ' });
    expect((await requestsOf(orderId))[0]!.status).toBe('requested');
    expect((await sellerClient.post(`${base}/decline`, { reason: 'The colour matches the photos.' })).statusCode).toBe(303);
    expect((await requestsOf(orderId))[0]).toMatchObject({ status: 'declined', decided_by: seller.user.id, decided_by_role: 'seller' });
    const receipt = await client.get(`/orders/${orderId}`);
    expect(receipt.body).toContain('The colour matches the photos.');
    expect(receipt.body).toContain('data-testid="ask-refund"');
    expect(await stripeRefundsOf(orderId)).toEqual([]);
    // Decided is decided: approving it now refunds nothing.
    await sellerClient.post(`${base}/approve`, {});
    expect(await stripeRefundsOf(orderId)).toEqual([]);
  });

  it('approval refunds the rest through the refunds use case, from the seller, once however often approved', async () => {
    const { orderId, client } = await paidOrderOfNewBuyer(4_000);
    await client.post(`/orders/${orderId}/refund-request`, { reason: 'Never arrived' });
    const [request] = await requestsOf(orderId);
    const base = `/seller/orders/${orderId}/refund-requests/${request!.id}`;
    const [first, second] = await Promise.all([sellerClient.post(`${base}/approve`, {}), sellerClient.post(`${base}/approve`, {})]);
    expect([first.statusCode, second.statusCode]).toEqual([303, 303]);
    await h.settle();
    const refunds = await stripeRefundsOf(orderId);
    expect(refunds).toHaveLength(1);
    expect(refunds[0]).toMatchObject({ amount: 4_000, metadata: { refund_id: request!.id } });
    const order = await h.database.db.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirstOrThrow();
    expect([order.status, order.amount_refunded]).toEqual(['refunded', 4_000]);
    expect((await h.stripe.transfers.retrieve(order.stripe_transfer_id!)).amount_reversed).toBeGreaterThan(0);
    expect((await requestsOf(orderId))[0]).toMatchObject({ status: 'approved', refund_id: request!.id, decided_by_role: 'seller' });
    const audit = await h.database.db.selectFrom('admin_audit_log').select('action').where('target_id', '=', orderId).execute();
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['refund.request', 'refund.create', 'refund_request.approve']));
    expect((await client.get(`/orders/${orderId}`)).body).toMatch(/data-status="approved"/);
  });

  it('another seller cannot see or decide it; an admin can', async () => {
    const { orderId, client } = await paidOrderOfNewBuyer(2_000);
    await client.post(`/orders/${orderId}/refund-request`, { reason: 'Changed my mind' });
    const [request] = await requestsOf(orderId);
    const other = await createSeller(h);
    const otherClient = await signedIn(other.user);
    const path = (prefix: string, action: string) => `${prefix}/orders/${orderId}/refund-requests/${request!.id}/${action}`;
    expect((await otherClient.post(path('/seller', 'approve'), {})).statusCode).toBe(404);
    expect((await otherClient.post(path('/seller', 'decline'), { reason: 'no' })).statusCode).toBe(404);
    expect((await client.post(path('/seller', 'approve'), {})).statusCode).toBe(403);
    expect((await client.post(path('/admin', 'approve'), {})).statusCode).toBe(403);
    expect((await requestsOf(orderId))[0]!.status).toBe('requested');
    expect(await stripeRefundsOf(orderId)).toEqual([]);

    const adminPage = await h.admin.get(`/admin/orders/${orderId}`);
    expect(adminPage.body).toContain('Changed my mind');
    expect((await h.admin.post(path('/admin', 'approve'), { note: 'Goodwill' })).statusCode).toBe(303);
    await h.settle();
    expect((await requestsOf(orderId))[0]).toMatchObject({ status: 'approved', decided_by_role: 'admin', decision_reason: 'Goodwill' });
    expect(await stripeRefundsOf(orderId)).toHaveLength(1);
  });
});

describe('CSRF', () => {
  it('asking, approving and declining without a valid token are 403 and change nothing', async () => {
    const { orderId, client } = await paidOrderOfNewBuyer(1_500);
    for (const csrf of [false, 'forged'] as const) {
      expect((await client.post(`/orders/${orderId}/refund-request`, { reason: 'x' }, { csrf })).statusCode).toBe(403);
    }
    expect(await requestsOf(orderId)).toEqual([]);
    await client.post(`/orders/${orderId}/refund-request`, { reason: 'Scratched' });
    const [request] = await requestsOf(orderId);
    for (const csrf of [false, 'forged'] as const) {
      for (const action of ['approve', 'decline']) {
        const response = await sellerClient.post(`/seller/orders/${orderId}/refund-requests/${request!.id}/${action}`, { reason: 'no' }, { csrf });
        expect(response.statusCode, action).toBe(403);
      }
    }
    expect((await requestsOf(orderId))[0]!.status).toBe('requested');
    expect(await stripeRefundsOf(orderId)).toEqual([]);
  });
});

describe('the seller is emailed', () => {
  it('once per request, with the reason and the order, in the transaction that records it', async () => {
    const { orderId, client } = await paidOrderOfNewBuyer(3_300);
    const mailToSeller = () =>
      h.database.db
        .selectFrom('email_outbox')
        .selectAll()
        .where('to_address', '=', seller.user.email)
        .where('template', '=', 'refund-requested')
        .where('dedupe_key', 'like', 'refund-request:%')
        .execute();
    const before = await mailToSeller();
    await client.post(`/orders/${orderId}/refund-request`, { reason: 'Lid missing.\nPlease advise.' });
    await client.post(`/orders/${orderId}/refund-request`, { reason: 'Asking again' }); // refused: one open request at a time
    const [request] = await requestsOf(orderId);
    const sent = (await mailToSeller()).filter((m) => !before.some((b) => b.id === m.id));
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ dedupe_key: `refund-request:${request!.id}:seller` });
    expect(sent[0]!.data).toMatchObject({ orderId, amount: 3_300, currency: 'usd', reason: 'Lid missing.\nPlease advise.' });
  });
});

describe('the admin list of open requests', () => {
  it('shows only requests waiting for an answer, linked from the admin home, and each can be approved or declined from it', async () => {
    expect((await h.admin.get('/admin')).body).toContain('href="/admin/refund-requests"');
    const waiting = await paidOrderOfNewBuyer(2_200);
    await waiting.client.post(`/orders/${waiting.orderId}/refund-request`, { reason: 'Too small' });
    const toDecline = await paidOrderOfNewBuyer(1_100);
    await toDecline.client.post(`/orders/${toDecline.orderId}/refund-request`, { reason: 'Wrong size' });
    const [approveMe] = await requestsOf(waiting.orderId);
    const [declineMe] = await requestsOf(toDecline.orderId);

    const list = await h.admin.get('/admin/refund-requests');
    expect(list.statusCode).toBe(200);
    for (const r of [approveMe!, declineMe!]) {
      expect(list.body).toContain(`data-request-id="${r.id}"`);
      expect(list.body).toContain(`action="/admin/orders/${r.order_id}/refund-requests/${r.id}/approve"`);
      expect(list.body).toContain(`action="/admin/orders/${r.order_id}/refund-requests/${r.id}/decline"`);
    }
    expect(list.body).toContain('Too small');

    expect((await h.admin.post(`/admin/orders/${waiting.orderId}/refund-requests/${approveMe!.id}/approve`, {})).statusCode).toBe(303);
    expect(
      (await h.admin.post(`/admin/orders/${toDecline.orderId}/refund-requests/${declineMe!.id}/decline`, { reason: 'Sizes were listed' })).statusCode,
    ).toBe(303);
    await h.settle();
    expect(await stripeRefundsOf(waiting.orderId)).toHaveLength(1);
    expect((await requestsOf(toDecline.orderId))[0]).toMatchObject({ status: 'declined', decided_by_role: 'admin' });
    const after = await h.admin.get('/admin/refund-requests');
    expect(after.body).not.toContain(approveMe!.id);
    expect(after.body).not.toContain(declineMe!.id);
  });

  it('is for admins only', async () => {
    const { client: buyer } = await paidOrderOfNewBuyer(900);
    for (const c of [sellerClient, buyer]) expect((await c.get('/admin/refund-requests')).statusCode).toBe(403);
    const anonymous = await new TestClient(h.app).get('/admin/refund-requests');
    expect([anonymous.statusCode, anonymous.location]).toEqual([303, '/login?next=%2Fadmin%2Frefund-requests']);
  });
});
