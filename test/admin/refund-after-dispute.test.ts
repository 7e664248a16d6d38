// Issue 15 point 16: after a chargeback (here: a lost dispute) Stripe refuses to refund the payment,
// so the admin's order page no longer offers the refund form, and a refund posted anyway is refused
// before anything is recorded or sent (no permanent "rejected" row). An inquiry, which moves no
// money, leaves the refund possible.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useWorld } from '../helpers/fixture.ts';
import { createPaidOrder, useSeller } from '../helpers/market.ts';

describe('refunds after a dispute', () => {
  const h = useWorld({ webhooks: true, admin: true });
  const seller = useSeller(h, { manualPayouts: true });

  const form = (amount: string) => ({ refund_id: randomUUID(), amount, reason: 'requested_by_customer', reverse_transfer: 'on', refund_application_fee: 'on' });

  it('a lost dispute: no refund form, an explanation, and a posted refund is refused with nothing recorded or sent', async () => {
    const orderId = (await createPaidOrder(h, seller, { amount: 10_000, paymentMethod: 'pm_card_createDispute' })).id;
    const dispute = await h.database.db.selectFrom('disputes').selectAll().where('order_id', '=', orderId).executeTakeFirstOrThrow();
    expect(
      (await h.admin.post(`/admin/disputes/${dispute.id}/evidence`, { action: 'submit', uncategorized_text: 'losing_evidence', confirm: 'yes' })).statusCode,
    ).toBe(303);
    await h.settle();
    const page = await h.admin.get(`/admin/orders/${orderId}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toContain('data-testid="refund-form"');
    expect(page.body).toContain('data-testid="refund-blocked"');
    expect(page.body).toContain('cannot be refunded');

    const before = (await h.emu.requests('/v1/refunds')).length;
    for (const confirm of [{}, { confirm: 'yes' }] as Record<string, string>[]) {
      const response = await h.admin.post(`/admin/orders/${orderId}/refunds`, { ...form('10.00'), ...confirm });
      expect(response.statusCode).toBe(422);
      expect(response.body).toContain('disputed');
    }
    expect((await h.emu.requests('/v1/refunds')).length).toBe(before);
    expect(await h.database.db.selectFrom('refunds').select('id').where('order_id', '=', orderId).execute()).toEqual([]);
  });

  it('an open dispute blocks it too; an inquiry does not', async () => {
    const disputed = (await createPaidOrder(h, seller, { amount: 3_000, paymentMethod: 'pm_card_createDispute' })).id;
    expect((await h.admin.get(`/admin/orders/${disputed}`)).body).not.toContain('data-testid="refund-form"');
    const inquiry = (await createPaidOrder(h, seller, { amount: 3_000, paymentMethod: 'pm_card_createDisputeInquiry' })).id;
    const page = await h.admin.get(`/admin/orders/${inquiry}`);
    expect(page.body).toContain('data-testid="refund-form"');
    const done = await h.admin.post(`/admin/orders/${inquiry}/refunds`, { ...form('5.00'), confirm: 'yes' });
    expect(done.statusCode).toBe(303);
    await h.settle();
    const refunds = await h.database.db.selectFrom('refunds').select('status').where('order_id', '=', inquiry).execute();
    expect(refunds).toEqual([{ status: 'succeeded' }]);
  });
});
