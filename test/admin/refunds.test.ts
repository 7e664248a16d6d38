// Admin refunds through the emulator with the real SDK: partial and full refunds of a destination
// charge (transfer reversal + application fee refund), the amount check before Stripe, the
// double-submitted form, status following refund events, the breakdown and the audit trail.
import { describe, expect, it } from 'vitest';
import { loginAs } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';
import { createPaidOrder, hiddenValue, lineAmount, orderRow, useSeller } from '../helpers/market.ts';

describe('admin refunds', () => {
  const h = useWorld({ webhooks: true, admin: true });
  const seller = useSeller(h, { manualPayouts: true });

  async function refundForm(orderId: string) {
    const page = await h.admin.get(`/admin/orders/${orderId}`);
    expect(page.statusCode).toBe(200);
    return { page, refundId: hiddenValue(page.body, 'refund_id')! };
  }

  /** The admin fills in a fresh refund form for `amount` (reversing the transfer and, unless `fee` says off, the fee) and confirms it. */
  async function confirmRefund(orderId: string, amount: string, fee: 'on' | 'off' = 'on') {
    const { refundId } = await refundForm(orderId);
    const form = { refund_id: refundId, amount, reverse_transfer: 'on', refund_application_fee: fee, confirm: 'yes' };
    return { refundId, response: await h.admin.post(`/admin/orders/${orderId}/refunds`, form) };
  }

  it('partial refund 2,500 of 10,000 (fee 1,000): reversal 2,500, fee refund 250, partially_refunded; then 7,500 more → refunded; too much → error, nothing sent', async () => {
    const orderId = (await createPaidOrder(h, seller, { amount: 10_000 })).id;
    const order = await orderRow(h.db, orderId);
    expect(order.application_fee_amount).toBe(1_000);

    const { refundId } = await refundForm(orderId);
    const form = { refund_id: refundId, amount: '25.00', reason: 'requested_by_customer', reverse_transfer: 'on', refund_application_fee: 'on' };
    const confirm = await h.admin.post(`/admin/orders/${orderId}/refunds`, form);
    expect(confirm.statusCode).toBe(200);
    expect(confirm.body).toContain('Confirm refund');
    expect((await h.emu.requests('/v1/refunds')).length).toBe(0);

    const done = await h.admin.post(`/admin/orders/${orderId}/refunds`, { ...form, confirm: 'yes' });
    expect(done.statusCode).toBe(303);
    await h.settle();

    const refunds = await h.stripe.refunds.list({ payment_intent: order.stripe_payment_intent_id! });
    expect(refunds.data.map((r) => r.amount)).toEqual([2_500]);
    expect(refunds.data[0]!.metadata).toMatchObject({ refund_id: refundId, order_id: orderId });
    const transfer = await h.stripe.transfers.retrieve(order.stripe_transfer_id!);
    expect(transfer.amount_reversed).toBe(2_500);
    const fee = await h.stripe.applicationFees.retrieve(order.stripe_application_fee_id!);
    expect(fee.amount_refunded).toBe(250);

    let page = await h.admin.get(`/admin/orders/${orderId}`);
    expect(page.body).toContain('data-testid="order-status" data-status="partially_refunded">Partially refunded<');
    expect(lineAmount(page.body, 'gross')).toBe(10_000);
    expect(lineAmount(page.body, 'application_fee')).toBe(1_000);
    expect(lineAmount(page.body, 'seller_net')).toBe(9_000);
    expect(lineAmount(page.body, 'refunded')).toBe(2_500);
    expect(lineAmount(page.body, 'refunded_from_seller')).toBe(2_500);
    expect(lineAmount(page.body, 'fee_refunded')).toBe(250);
    expect(lineAmount(page.body, 'seller_net_after_refunds')).toBe(6_750);
    expect(lineAmount(page.body, 'platform_fee_kept')).toBe(750);
    // Related events from the inbox are listed.
    expect(page.body).toContain('data-event-type="charge.refunded"');
    expect(page.body).toContain('data-event-type="refund.created"');

    // More than what is left: a clear error, and no request reaches Stripe.
    const before = (await h.emu.requests('/v1/refunds')).length;
    const tooMuch = await confirmRefund(orderId, '75.01');
    expect(tooMuch.response.statusCode).toBe(422);
    expect(tooMuch.response.body).toContain('You can refund at most $75.00');
    expect((await h.emu.requests('/v1/refunds')).length).toBe(before);
    expect(await h.db.selectFrom('refunds').select('id').where('id', '=', tooMuch.refundId).executeTakeFirst()).toBeUndefined();

    // The rest: 7,500 → refunded.
    expect((await confirmRefund(orderId, '75.00')).response.statusCode).toBe(303);
    await h.settle();
    page = await h.admin.get(`/admin/orders/${orderId}`);
    expect(page.body).toContain('data-testid="order-status" data-status="refunded">Refunded<');
    expect(lineAmount(page.body, 'refunded')).toBe(10_000);
    expect(lineAmount(page.body, 'refunded_from_seller')).toBe(10_000);
    expect(lineAmount(page.body, 'fee_refunded')).toBe(1_000);
    expect((await h.stripe.applicationFees.retrieve(order.stripe_application_fee_id!)).amount_refunded).toBe(1_000);
    expect(page.body).toContain('Nothing can be refunded on this order now.');

    const transitions = await h.db.selectFrom('order_transitions').select(['from_status', 'to_status']).where('order_id', '=', orderId).orderBy('id').execute();
    expect(transitions.slice(-2)).toEqual([
      { from_status: 'paid', to_status: 'partially_refunded' },
      { from_status: 'partially_refunded', to_status: 'refunded' },
    ]);

    const audit = await h.db
      .selectFrom('admin_audit_log')
      .selectAll()
      .where('target_type', '=', 'order')
      .where('target_id', '=', orderId)
      .orderBy('id')
      .execute();
    expect(audit.map((a) => a.action)).toEqual(['refund.request', 'refund.create', 'refund.request', 'refund.create']);
    expect(audit[0]!.before).toMatchObject({ status: 'paid', refundable: 10_000 });
    expect(audit[1]!.after).toMatchObject({ status: 'succeeded', amount: 2_500, transfer_reversal_amount: 2_500 });
    const auditPage = await h.admin.get(`/admin/audit?target_type=order&target_id=${orderId}`);
    expect(auditPage.body.match(/data-action="refund.create"/g)).toHaveLength(2);
  });

  it('a double-submitted refund form makes one refund at Stripe', async () => {
    const orderId = (await createPaidOrder(h, seller, { amount: 4_000 })).id;
    const { refundId } = await refundForm(orderId);
    const form = { refund_id: refundId, amount: '10.00', reverse_transfer: 'on', refund_application_fee: 'on', confirm: 'yes' };
    const [a, b] = await Promise.all([h.admin.post(`/admin/orders/${orderId}/refunds`, form), h.admin.post(`/admin/orders/${orderId}/refunds`, form)]);
    expect([a.statusCode, b.statusCode]).toEqual([303, 303]);
    const again = await h.admin.post(`/admin/orders/${orderId}/refunds`, form); // and a later retry
    expect(again.statusCode).toBe(303);
    await h.settle();
    const order = await orderRow(h.db, orderId);
    const refunds = await h.stripe.refunds.list({ payment_intent: order.stripe_payment_intent_id! });
    expect(refunds.data.map((r) => r.amount)).toEqual([1_000]);
    expect(await h.db.selectFrom('refunds').select('id').where('order_id', '=', orderId).execute()).toHaveLength(1);
    expect(order.amount_refunded).toBe(1_000);
    expect(order.status).toBe('partially_refunded');
  });

  it('refund status follows Stripe: pending then succeeded, and succeeded then failed with the reason shown', async () => {
    const pendingOrder = (await createPaidOrder(h, seller, { amount: 3_000, paymentMethod: 'pm_card_pendingRefund' })).id;
    const failingOrder = (await createPaidOrder(h, seller, { amount: 3_000, paymentMethod: 'pm_card_refundFail' })).id;
    for (const orderId of [pendingOrder, failingOrder]) {
      expect((await confirmRefund(orderId, '30.00', 'off')).response.statusCode).toBe(303);
    }
    await h.settle();
    const status = async (orderId: string) => await h.db.selectFrom('refunds').selectAll().where('order_id', '=', orderId).executeTakeFirstOrThrow();
    expect((await status(pendingOrder)).status).toBe('pending');
    await h.emu.advanceClock(3600);
    await h.settle();
    expect((await status(pendingOrder)).status).toBe('succeeded');
    const failed = await status(failingOrder);
    expect(failed.status).toBe('failed');
    expect(failed.failure_reason).toBe('expired_or_canceled_card');
    const page = await h.admin.get(`/admin/orders/${failingOrder}`);
    expect(page.body).toContain('Failed: expired_or_canceled_card');
    // The failed refund no longer counts as refunded.
    const order = await h.db.selectFrom('orders').select(['amount_refunded', 'status']).where('id', '=', failingOrder).executeTakeFirstOrThrow();
    expect(order.amount_refunded).toBe(0);
    // …and the order, marked refunded while Stripe said succeeded, is paid again: the buyer has not got the money.
    expect(order.status).toBe('paid');
    const transitions = await h.db.selectFrom('order_transitions').select(['from_status', 'to_status']).where('order_id', '=', failingOrder).execute();
    expect(transitions).toEqual(
      expect.arrayContaining([
        { from_status: 'paid', to_status: 'refunded' },
        { from_status: 'refunded', to_status: 'paid' },
      ]),
    );

    // Refunding it again is possible, and fails the same way with this card: the cycle repeats cleanly.
    expect((await confirmRefund(failingOrder, '30.00', 'off')).response.statusCode).toBe(303);
    await h.settle();
    await h.emu.advanceClock(3600);
    await h.settle();
    const after = await h.db.selectFrom('order_transitions').select(['from_status', 'to_status']).where('order_id', '=', failingOrder).execute();
    expect(after.filter((t) => t.from_status === 'paid' && t.to_status === 'refunded')).toHaveLength(2);
    expect((await orderRow(h.db, failingOrder)).status).toBe('paid');
  });
  it("unknown outcome: Stripe unreachable leaves the refund requested (amount held, error shown); Stripe's events reconcile it and a retry makes no second refund", async () => {
    const orderId = (await createPaidOrder(h, seller, { amount: 8_000 })).id;
    const order = await orderRow(h.db, orderId);
    const { refundId } = await refundForm(orderId);
    // The connection drops (twice: the SDK retries a reset connection once even with retries off).
    await h.emu.control('POST', '/_emulator/faults', { path: '/v1/refunds', method: 'POST', kind: 'drop', count: 2 });
    const form = { refund_id: refundId, amount: '20.00', reverse_transfer: 'on', refund_application_fee: 'on', confirm: 'yes' };
    const lost = await h.admin.post(`/admin/orders/${orderId}/refunds`, form);
    expect(lost.statusCode).toBe(422);
    expect(lost.body).toContain('Stripe did not answer in time');
    let row = await h.db.selectFrom('refunds').selectAll().where('id', '=', refundId).executeTakeFirstOrThrow();
    expect(row.status).toBe('requested');
    expect((await orderRow(h.db, orderId)).status).toBe('paid');
    // The held amount counts against what is left, so a second form cannot over-refund meanwhile.
    const page = await h.admin.get(`/admin/orders/${orderId}`);
    expect(page.body).toContain('At most $60.00');
    expect(page.body).toContain(`/admin/orders/${orderId}/refunds/${refundId}/retry`);

    // Stand-in for "Stripe did act but we never recorded it": the same request with the same key
    // reaches Stripe (as our retry would), then Stripe's events alone complete our row.
    await h.stripe.refunds.create(
      {
        payment_intent: order.stripe_payment_intent_id!,
        amount: 2_000,
        reverse_transfer: true,
        refund_application_fee: true,
        metadata: { refund_id: refundId, order_id: orderId },
        expand: ['transfer_reversal'],
      },
      { idempotencyKey: `refund:${refundId}` },
    );
    await h.settle();
    row = await h.db.selectFrom('refunds').selectAll().where('id', '=', refundId).executeTakeFirstOrThrow();
    expect(row.status).toBe('succeeded');
    expect(row.stripe_refund_id).toMatch(/^re_/);
    expect(row.transfer_reversal_amount).toBe(2_000);
    expect((await orderRow(h.db, orderId)).status).toBe('partially_refunded');

    // The admin presses the button again, or "send again": nothing new at Stripe.
    const again = await h.admin.post(`/admin/orders/${orderId}/refunds`, form);
    expect(again.statusCode).toBe(303);
    expect((await h.admin.post(`/admin/orders/${orderId}/refunds/${refundId}/retry`)).statusCode).toBe(303);
    const refunds = await h.stripe.refunds.list({ payment_intent: order.stripe_payment_intent_id! });
    expect(refunds.data.map((r) => r.amount)).toEqual([2_000]);
  });
  it('"send again" after a lost answer makes exactly one refund; only an admin with a CSRF token may press it', async () => {
    const orderId = (await createPaidOrder(h, seller, { amount: 5_000 })).id;
    await h.emu.control('POST', '/_emulator/faults', { path: '/v1/refunds', method: 'POST', kind: 'drop', count: 2 });
    const { refundId, response: lost } = await confirmRefund(orderId, '50.00');
    expect(lost.statusCode).toBe(422);
    const retryUrl = `/admin/orders/${orderId}/refunds/${refundId}/retry`;
    const { client: buyer } = await loginAs(h.app, 'buyer');
    expect((await buyer.post(retryUrl)).statusCode).toBe(403);
    expect((await h.admin.post(retryUrl, {}, { csrf: false })).statusCode).toBe(403);
    const order = await orderRow(h.db, orderId);
    expect((await h.stripe.refunds.list({ payment_intent: order.stripe_payment_intent_id! })).data).toHaveLength(0);

    const retried = await h.admin.post(retryUrl);
    expect(retried.statusCode).toBe(303);
    expect((await h.admin.post(retryUrl)).statusCode).toBe(303);
    await h.settle();
    const refunds = await h.stripe.refunds.list({ payment_intent: order.stripe_payment_intent_id! });
    expect(refunds.data.map((r) => r.amount)).toEqual([5_000]);
    const after = await h.db.selectFrom('orders').select(['status', 'amount_refunded']).where('id', '=', orderId).executeTakeFirstOrThrow();
    expect(after).toEqual({ status: 'refunded', amount_refunded: 5_000 });
  });
});
