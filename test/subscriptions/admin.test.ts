// Issue 13, admin: subscriptions and invoices lists with filters and the money breakdown; a partial
// refund of an invoice's payment that reverses the seller's transfer and refunds the application fee
// proportionally (as for orders); cancel at period end and now; every action in the audit log.
import { describe, expect, it } from 'vitest';
import { subscribeWithPaymentElement } from '../../src/subscriptions/use-cases.ts';
import { useWorld } from '../helpers/fixture.ts';
import { hiddenValue, useSeller } from '../helpers/market.ts';
import { intentIdOf, invoiceRows, planFor, subscriptionRow } from './harness.ts';

const h = useWorld({ webhooks: true, admin: true });
const seller = useSeller(h, { manualPayouts: true });

async function paidSubscription(): Promise<string> {
  const plan = await planFor(h, seller, { amount: '20.00' });
  const buyer = await h.signIn('buyer');
  const step = await subscribeWithPaymentElement(h.database.db, h.stripe, { buyerId: buyer.userId, planId: plan.id });
  await h.stripe.paymentIntents.confirm(intentIdOf(step.clientSecret!), { payment_method: 'pm_card_visa' });
  await h.settle();
  return step.subscription.id;
}

describe('admin subscriptions', () => {
  it('lists with filters and the breakdown; refunds part of an invoice from the seller and the fee; the same form twice is one refund', async () => {
    const id = await paidSubscription();
    const list = await h.admin.get(`/admin/subscriptions?status=active&seller=${seller.user.id}`);
    expect(list.statusCode).toBe(200);
    expect(list.body).toContain(`data-subscription-id="${id}"`);
    expect((await h.admin.get('/admin/subscriptions?status=canceled')).body).not.toContain(`data-subscription-id="${id}"`);
    const invoices = await h.admin.get('/admin/invoices?status=paid');
    const [invoice] = await invoiceRows(h, id);
    expect(invoices.body).toContain(`data-invoice-id="${invoice!.id}"`);
    expect(invoices.body).toContain('$18.00');
    expect(invoices.body).toContain('$0.88');

    const page = await h.admin.get(`/admin/subscriptions/${id}`);
    const refundId = hiddenValue(page.body, 'refund_id')!;
    const form = { refund_id: refundId, amount: '10.00', reverse_transfer: 'on', refund_application_fee: 'on' };
    expect((await h.admin.post(`/admin/invoices/${invoice!.id}/refunds`, form)).statusCode).toBe(303);
    expect((await h.admin.post(`/admin/invoices/${invoice!.id}/refunds`, form)).statusCode).toBe(303);
    expect((await h.emu.requests('/v1/refunds')).length).toBe(1); // the second finds the refund done: one refund at Stripe
    const refunds = await h.stripe.refunds.list({ charge: invoice!.stripe_charge_id! });
    expect(refunds.data).toHaveLength(1);
    await h.settle();
    const after = (await invoiceRows(h, id))[0]!;
    expect(after).toMatchObject({ amount_refunded: 1000, fee_refunded: 100, transfer_reversed: 1000 });
    const row = await h.database.db.selectFrom('invoice_refunds').selectAll().where('id', '=', refundId).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'succeeded', amount: 1000 });
    // Too much is refused before Stripe hears of it.
    const tooMuch = await h.admin.post(`/admin/invoices/${invoice!.id}/refunds`, { ...form, refund_id: crypto.randomUUID(), amount: '10.01' });
    expect(tooMuch.statusCode).toBe(303);
    expect((await h.emu.requests('/v1/refunds')).length).toBe(1);
    const detail = await h.admin.get(`/admin/subscriptions/${id}`);
    expect(detail.body).toContain('$9.00'); // seller net: 18.00 − 10.00 reversed + 1.00 fee returned
    const actions = (await h.database.db.selectFrom('admin_audit_log').select('action').execute()).map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(['invoice_refund.request', 'invoice_refund.create']));
  });

  it('cancels at period end, then now; both in the audit log', async () => {
    const id = await paidSubscription();
    expect((await h.admin.post(`/admin/subscriptions/${id}/cancel`, { mode: 'period_end' })).statusCode).toBe(303);
    expect(await subscriptionRow(h, id)).toMatchObject({ status: 'active', cancel_at_period_end: true });
    expect((await h.admin.post(`/admin/subscriptions/${id}/cancel`, { mode: 'now' })).statusCode).toBe(303);
    await h.settle();
    expect((await subscriptionRow(h, id)).status).toBe('canceled');
    const actions = (await h.database.db.selectFrom('admin_audit_log').select('action').where('target_id', '=', id).execute()).map((a) => a.action);
    expect(actions).toEqual(
      expect.arrayContaining(['subscription.cancel_period_end', 'subscription.canceled_at_period_end', 'subscription.cancel_now', 'subscription.canceled']),
    );
  });
});
