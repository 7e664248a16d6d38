// A buyer's refund request is decided once: approving sends a refund, and from the moment that
// refund is recorded (before Stripe is asked) a decline is refused, so the buyer never reads
// "Declined" on an order Stripe refunded. Stripe's answer lost (the emulator applies the refund
// and drops the connection), Stripe slow while someone declines, and Stripe refusing the refund
// (then a decline is the truth and is allowed). Through the real app, database and emulator.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TestClient } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';
import { createPaidOrder, createSeller, refundRows, type TestSeller } from '../helpers/market.ts';

const w = useWorld({ webhooks: true, admin: true });
let seller: TestSeller;
let sellerClient: TestClient;
beforeAll(async () => {
  const signedIn = await w.signIn('seller');
  sellerClient = signedIn.client;
  seller = await createSeller(w, { userId: signedIn.userId });
}, 60_000);
afterEach(async () => w.emu.clearFaults());

/** A new buyer's paid order with their open refund request; the seller's decision paths. */
async function openRequest(amount: number) {
  const buyer = await w.signIn('buyer');
  const order = await createPaidOrder(w, seller, { amount, buyer: buyer.user });
  expect((await buyer.client.post(`/orders/${order.id}/refund-request`, { reason: 'It never came.' })).statusCode).toBe(303);
  const request = await w.db.selectFrom('refund_requests').selectAll().where('order_id', '=', order.id).executeTakeFirstOrThrow();
  const base = `/seller/orders/${order.id}/refund-requests/${request.id}`;
  return { order, request, buyer, approve: `${base}/approve`, decline: `${base}/decline`, page: `/seller/orders/${order.id}` };
}

const requestRow = (id: string) => w.db.selectFrom('refund_requests').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const stripeRefundsOf = async (paymentIntent: string) => (await w.stripe.refunds.list({ payment_intent: paymentIntent })).data;

/** Posts a decision as the seller and reads the flash message it left on the order page. */
async function decide(client: TestClient, path: string, page: string, fields: Record<string, string> = {}) {
  const response = await client.post(path, fields);
  expect([response.statusCode, response.location]).toEqual([303, page]);
  const shown = await client.get(page);
  const flash = /<div class="flash flash-(\w+)" role="alert">([^<]*)<\/div>/.exec(shown.body);
  return { kind: flash?.[1], message: flash?.[2] ?? '', page: shown.body };
}

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('approve, then decline', () => {
  it("Stripe's answer to the approval is lost: the decline is refused, and Stripe's events finish the approval (one refund, one audit entry)", async () => {
    const { order, request, approve, decline, page } = await openRequest(4_000);
    await w.emu.fault('/v1/refunds', 'apply_then_drop', { count: 2 });
    const approved = await decide(sellerClient, approve, page);
    expect(approved.kind).toBe('error');
    expect(approved.message).toContain('Stripe did not answer in time');
    expect(approved.page).not.toContain('Refund approved');

    // Before Stripe's events arrive: the refund is recorded on our side, so a decline is refused.
    const declined = await decide(sellerClient, decline, page, { reason: 'Changed my mind.' });
    expect(declined.kind).toBe('error');
    expect(declined.message).toMatch(/already sent to Stripe/);
    expect(await requestRow(request.id)).toMatchObject({ status: 'requested', decision_reason: null });

    await w.settle(); // Stripe made the refund: its events record it, and the approval it answered.
    expect(await stripeRefundsOf(order.stripe_payment_intent_id!)).toHaveLength(1);
    expect(await requestRow(request.id)).toMatchObject({ status: 'approved', refund_id: request.id, decided_by: seller.user.id, decided_by_role: 'seller' });
    expect((await refundRows(w.db, order.id)).map((r) => [r.id, r.status])).toEqual([[request.id, 'succeeded']]);
    const auditRows = await w.db.selectFrom('admin_audit_log').select(['action', 'actor_id']).where('target_id', '=', order.id).execute();
    expect(auditRows.filter((a) => a.action === 'refund_request.approve')).toEqual([{ action: 'refund_request.approve', actor_id: seller.user.id }]);
    expect(auditRows.map((a) => a.action)).not.toContain('refund_request.decline');

    // Pressing Approve again now says it is done; nothing more is sent.
    const again = await decide(sellerClient, approve, page);
    expect(again.kind).toBe('error');
    expect(again.message).toBe('This refund request was already approved.');
    await w.settle();
    expect(await stripeRefundsOf(order.stripe_payment_intent_id!)).toHaveLength(1);
  });

  it("Stripe's event reaches us before the approval records its answer: one decision, the approver's note kept, one audit entry", async () => {
    const { order, request, approve, page } = await openRequest(2_500);
    // After Stripe answers, the approval reads the transfer's reversal before recording its decision:
    // hold that read while Stripe's events are delivered and processed.
    expect(order.stripe_transfer_id).not.toBeNull();
    await w.emu.fault(`/v1/transfers/${order.stripe_transfer_id}`, 'delay', { holdMs: 60_000, method: 'GET' });
    const approving = decide(sellerClient, approve, page, { note: 'Sorry it never arrived.' });
    await until(async () => (await refundRows(w.db, order.id)).some((r) => r.status === 'succeeded'), 'the refund recorded from Stripe');
    await w.settle();
    await until(async () => (await requestRow(request.id)).status === 'approved', "the approval recorded from Stripe's event");
    expect((await requestRow(request.id)).decision_reason).toBeNull(); // the approval itself has not recorded yet
    await w.emu.releaseDelays();
    const approved = await approving;
    expect(approved.kind).toBe('success');
    await w.settle();
    expect(await requestRow(request.id)).toMatchObject({ status: 'approved', decision_reason: 'Sorry it never arrived.', decided_by: seller.user.id });
    const auditRows = await w.db.selectFrom('admin_audit_log').select('action').where('target_id', '=', order.id).execute();
    expect(auditRows.filter((a) => a.action === 'refund_request.approve')).toHaveLength(1);
    expect(await stripeRefundsOf(order.stripe_payment_intent_id!)).toHaveLength(1);
  });

  it('an admin declines while the approval waits on a slow Stripe: the decline is refused and the approval tells the truth', async () => {
    const { order, request, approve, decline, page } = await openRequest(3_000);
    await w.emu.fault('/v1/refunds', 'delay', { holdMs: 1_500 });
    const approving = decide(sellerClient, approve, page);
    // The refund is recorded (and the request with it) before Stripe is asked.
    await until(async () => (await refundRows(w.db, order.id)).length > 0, 'the refund row');

    const adminPage = `/admin/orders/${order.id}`;
    const declined = await decide(w.admin, decline.replace('/seller/', '/admin/'), adminPage, { reason: 'Policy says no.' });
    expect(declined.kind).toBe('error');
    expect(declined.message).toMatch(/already sent to Stripe/);

    const approved = await approving;
    expect(approved.kind).toBe('success');
    expect(approved.message).toMatch(/Refund approved/);
    await w.settle();
    expect(await requestRow(request.id)).toMatchObject({ status: 'approved', refund_id: request.id, decision_reason: null });
    expect(await stripeRefundsOf(order.stripe_payment_intent_id!)).toHaveLength(1);
  });

  it('a decline that came first stops the approval before anything is sent', async () => {
    const { order, request, approve, decline, page } = await openRequest(2_000);
    expect((await decide(sellerClient, decline, page, { reason: 'Used item.' })).kind).toBe('success');
    const approved = await decide(sellerClient, approve, page);
    expect([approved.kind, approved.message]).toEqual(['error', 'This refund request was already declined.']);
    expect(await requestRow(request.id)).toMatchObject({ status: 'declined', refund_id: null });
    expect(await refundRows(w.db, order.id)).toEqual([]);
    expect(await stripeRefundsOf(order.stripe_payment_intent_id!)).toEqual([]);
  });

  it('Stripe refuses the refund: nothing moved, the request stays open and may then be declined', async () => {
    const { order, request, approve, decline, page } = await openRequest(2_500);
    // A refund of the whole charge made behind our back (Stripe's Dashboard): Stripe refuses ours.
    await w.stripe.refunds.create({ payment_intent: order.stripe_payment_intent_id!, reverse_transfer: true });
    const approved = await decide(sellerClient, approve, page);
    expect(approved.kind).toBe('error');
    expect(approved.message).toMatch(/^Stripe refused the refund/);
    expect(await requestRow(request.id)).toMatchObject({ status: 'requested' });
    expect((await refundRows(w.db, order.id)).find((r) => r.id === request.id)?.status).toBe('rejected');

    const declined = await decide(sellerClient, decline, page, { reason: 'Already refunded by hand.' });
    expect(declined.kind).toBe('success');
    expect(await requestRow(request.id)).toMatchObject({ status: 'declined', decision_reason: 'Already refunded by hand.' });
  });
});

it('the pages: while a refund is on its way only Approve (to finish it) is offered', async () => {
  const { request, approve, page } = await openRequest(1_800);
  await w.emu.fault('/v1/refunds', 'apply_then_drop', { count: 2 });
  await decide(sellerClient, approve, page);
  const shown = await sellerClient.get(page);
  const item = new RegExp(`<li data-request-id="${request.id}"[\\s\\S]*?</li>`).exec(shown.body)![0];
  expect(item).toContain('data-testid="approve-refund"');
  expect(item).not.toContain('data-testid="decline-refund"');
  expect(item).toContain('data-testid="refund-on-its-way"');
  const list = await w.admin.get('/admin/refund-requests');
  const row = new RegExp(`<tr data-request-id="${request.id}"[\\s\\S]*?</tr>`).exec(list.body)![0];
  expect(row).toContain('data-testid="refund-on-its-way"');
  expect(row).not.toContain('data-testid="decline-refund"');
});
