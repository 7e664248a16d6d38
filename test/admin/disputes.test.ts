// Disputes through the emulator: the dispute test card opens one; the policy reverses the seller's
// transfer; evidence as a draft and submitted (winning_evidence → won, funds reinstated, seller
// re-paid; losing_evidence → lost, loss in the breakdown); accepting closes it; all audited.
import { describe, expect, it } from 'vitest';
import { useWorld } from '../helpers/fixture.ts';
import { createPaidOrder, lineAmount, useSeller } from '../helpers/market.ts';

describe('admin disputes', () => {
  const h = useWorld({ webhooks: true, admin: true });
  const seller = useSeller(h, { manualPayouts: true });

  async function disputedOrder(amount = 10_000) {
    const orderId = (await createPaidOrder(h, seller, { amount, paymentMethod: 'pm_card_createDispute' })).id;
    const order = await h.database.db.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirstOrThrow();
    const dispute = await h.database.db.selectFrom('disputes').selectAll().where('order_id', '=', orderId).executeTakeFirstOrThrow();
    return { order, dispute };
  }

  it("a disputed payment is listed with its deadline and the seller's transfer is reversed by policy; winning evidence → won and the seller is re-paid", async () => {
    const { order, dispute } = await disputedOrder();
    const atStripe = await h.stripe.disputes.retrieve(dispute.id);
    expect(dispute.evidence_due_by?.getTime()).toBe(atStripe.evidence_details.due_by! * 1000);
    expect(dispute.status).toBe('needs_response');
    expect(dispute.funds_withdrawn).toBe(true);

    const list = await h.admin.get('/admin/disputes');
    expect(list.body).toContain(`data-dispute-id="${dispute.id}"`);
    const home = await h.admin.get('/admin');
    expect(home.body).toMatch(/data-testid="open-disputes"><a href="\/admin\/disputes">1<\/a> · nearest evidence deadline/);

    // Policy: the disputed amount came back from the seller's transfer (key from the dispute id).
    expect(dispute.recovered_amount).toBe(10_000);
    expect((await h.stripe.transfers.retrieve(order.stripe_transfer_id!)).amount_reversed).toBe(10_000);

    // A draft is staged at Stripe, not submitted.
    const draft = await h.admin.post(`/admin/disputes/${dispute.id}/evidence`, {
      action: 'draft',
      product_description: 'Handmade mug',
      customer_communication: 'Buyer said thanks on 1 Nov',
      receipt: 'Receipt #42',
      shipping_carrier: 'UPS',
      shipping_tracking_number: '1Z999',
      uncategorized_text: 'winning_evidence',
    });
    expect(draft.statusCode).toBe(303);
    let staged = await h.stripe.disputes.retrieve(dispute.id);
    expect(staged.status).toBe('needs_response');
    expect(staged.evidence.product_description).toBe('Handmade mug');
    expect(staged.evidence.shipping_tracking_number).toBe('1Z999');
    expect(staged.evidence.uncategorized_text).toContain('Customer communication:\nBuyer said thanks on 1 Nov');
    const page = await h.admin.get(`/admin/disputes/${dispute.id}`);
    expect(page.body).toContain('Handmade mug'); // the draft is shown again

    // Submit: first a confirmation, then the real thing.
    const confirm = await h.admin.post(`/admin/disputes/${dispute.id}/evidence`, {
      action: 'submit',
      product_description: 'Handmade mug',
      uncategorized_text: 'winning_evidence',
    });
    expect(confirm.body).toContain('Submit evidence');
    expect((await h.stripe.disputes.retrieve(dispute.id)).evidence_details.submission_count).toBe(0);
    const submitted = await h.admin.post(`/admin/disputes/${dispute.id}/evidence`, {
      action: 'submit',
      product_description: 'Handmade mug',
      uncategorized_text: 'winning_evidence',
      confirm: 'yes',
    });
    expect(submitted.statusCode).toBe(303);
    await h.settle();

    staged = await h.stripe.disputes.retrieve(dispute.id);
    expect(staged.status).toBe('won');
    const won = await h.database.db.selectFrom('disputes').selectAll().where('id', '=', dispute.id).executeTakeFirstOrThrow();
    expect(won.status).toBe('won');
    expect(won.funds_reinstated).toBe(true);
    expect(won.repaid_amount).toBe(10_000);
    const repayment = await h.stripe.transfers.retrieve(won.repayment_transfer_id!);
    expect(repayment).toMatchObject({ amount: 10_000, destination: seller.accountId });
    expect(repayment.metadata).toMatchObject({ dispute_id: dispute.id });

    const orderPage = await h.admin.get(`/admin/orders/${order.id}`);
    expect(lineAmount(orderPage.body, 'disputed')).toBe(10_000);
    expect(lineAmount(orderPage.body, 'dispute_recovered')).toBe(10_000);
    expect(lineAmount(orderPage.body, 'dispute_repaid')).toBe(10_000);
    expect(orderPage.body).toContain('data-event-type="charge.dispute.closed"');

    const audit = await h.database.db.selectFrom('admin_audit_log').selectAll().where('target_id', '=', dispute.id).orderBy('id').execute();
    expect(audit.map((a) => a.action)).toEqual(['dispute.evidence_draft', 'dispute.evidence_submit']);
    expect(audit[1]!.before).toMatchObject({ status: 'needs_response' });
    expect(audit[1]!.after).toMatchObject({ status: 'under_review', evidence: { uncategorized_text: 'winning_evidence' } });
  });

  it('losing evidence → lost, and the breakdown shows the loss', async () => {
    const { order, dispute } = await disputedOrder(6_000);
    const response = await h.admin.post(`/admin/disputes/${dispute.id}/evidence`, { action: 'submit', uncategorized_text: 'losing_evidence', confirm: 'yes' });
    expect(response.statusCode).toBe(303);
    await h.settle();
    const lost = await h.database.db.selectFrom('disputes').selectAll().where('id', '=', dispute.id).executeTakeFirstOrThrow();
    expect(lost.status).toBe('lost');
    expect(lost.repaid_amount).toBe(0);
    const page = await h.admin.get(`/admin/orders/${order.id}`);
    expect(lineAmount(page.body, 'disputed')).toBe(6_000);
    expect(lineAmount(page.body, 'dispute_recovered')).toBe(6_000);
    // Recovered in full from the seller: the platform's loss is Stripe's dispute fee.
    expect(lineAmount(page.body, 'dispute_loss')).toBe(lost.dispute_fee);
    expect(lost.dispute_fee).toBeGreaterThan(0);
    expect(lineAmount(page.body, 'dispute_seller_loss')).toBe(6_000);
  });

  it('accepting a dispute (after confirmation) closes it at Stripe', async () => {
    const { dispute } = await disputedOrder(2_000);
    const confirm = await h.admin.post(`/admin/disputes/${dispute.id}/accept`);
    expect(confirm.body).toContain('Accept the dispute');
    expect((await h.stripe.disputes.retrieve(dispute.id)).status).toBe('needs_response');
    const accepted = await h.admin.post(`/admin/disputes/${dispute.id}/accept`, { confirm: 'yes' });
    expect(accepted.statusCode).toBe(303);
    expect((await h.stripe.disputes.retrieve(dispute.id)).status).toBe('lost');
    await h.settle();
    const row = await h.database.db.selectFrom('disputes').select('status').where('id', '=', dispute.id).executeTakeFirstOrThrow();
    expect(row.status).toBe('lost');
    const audit = await h.database.db.selectFrom('admin_audit_log').selectAll().where('target_id', '=', dispute.id).executeTakeFirstOrThrow();
    expect(audit).toMatchObject({ action: 'dispute.accept', before: { status: 'needs_response' }, after: { status: 'lost' } });
  });

  it("with the recovery policy off, a new dispute leaves the seller's transfer alone", async () => {
    const off = await h.admin.post('/admin/policies', { 'refunds.refund_application_fee': 'on' });
    expect(off.statusCode).toBe(303);
    const { order, dispute } = await disputedOrder(1_500);
    expect(dispute.recovered_amount).toBe(0);
    expect((await h.stripe.transfers.retrieve(order.stripe_transfer_id!)).amount_reversed).toBe(0);
    const audit = await h.database.db.selectFrom('admin_audit_log').selectAll().where('action', '=', 'setting.update').executeTakeFirstOrThrow();
    expect(audit).toMatchObject({ target_id: 'disputes.recover_from_seller', before: { value: true }, after: { value: false } });
    await h.admin.post('/admin/policies', { 'refunds.refund_application_fee': 'on', 'disputes.recover_from_seller': 'on' });
  });

  it('evidence with a control character is refused before Stripe or the database sees it (issue #14, point 5)', async () => {
    const { dispute } = await disputedOrder();
    const sentBefore = (await h.emu.requests(`/v1/disputes/${dispute.id}`)).length;
    const refused = await h.admin.post(`/admin/disputes/${dispute.id}/evidence`, {
      action: 'draft',
      product_description: 'Mug\u0000',
      uncategorized_text: 'winning_evidence',
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.body).toContain('body/product_description must not contain control characters');
    expect((await h.emu.requests(`/v1/disputes/${dispute.id}`)).length).toBe(sentBefore);
    expect((await h.stripe.disputes.retrieve(dispute.id)).evidence.product_description).toBeNull();
    const row = await h.database.db.selectFrom('disputes').select('evidence_draft').where('id', '=', dispute.id).executeTakeFirstOrThrow();
    expect(row.evidence_draft).toEqual(dispute.evidence_draft);
  });
});
