// Issue 15 point 18: a payout Stripe refuses for insufficient funds is explained for the seller's
// account (not Stripe's text about the platform's own Dashboard payout settings), and a balance
// with nothing (or less than nothing) available offers no payout form pre-filled with a negative
// amount.
import { describe, expect, it } from 'vitest';
import { useWorld } from '../helpers/fixture.ts';
import { createPaidOrder, createSeller, hiddenValue, useSeller } from '../helpers/market.ts';

describe('payouts the balance cannot cover', () => {
  const h = useWorld({ webhooks: true, admin: true });
  const seller = useSeller(h, { manualPayouts: true });

  it("too large: words about the seller's balance, no Dashboard link; the request is recorded rejected with them", async () => {
    await createPaidOrder(h, seller, { amount: 10_000 });
    const page = await h.admin.get(`/admin/sellers/${seller.user.id}`);
    const requestId = hiddenValue(page.body, 'request_id')!;
    const refused = await h.admin.post(`/admin/sellers/${seller.user.id}/payouts`, {
      request_id: requestId,
      amount: '500.00',
      currency: 'usd',
      confirm: 'yes',
    });
    expect(refused.statusCode).toBe(422);
    expect(refused.body).toContain('available balance is too low');
    expect(refused.body).not.toContain('dashboard.stripe.com');
    const row = await h.database.db.selectFrom('payout_requests').selectAll().where('id', '=', requestId).executeTakeFirstOrThrow();
    expect(row.status).toBe('rejected');
    expect(row.error_message).not.toContain('dashboard.stripe.com');
  });

  it('a negative available balance: no payout form, a sentence saying why', async () => {
    const other = await createSeller(h, { manualPayouts: true });
    const orderId = (await createPaidOrder(h, other, { amount: 1_000 })).id;
    const order = await h.database.db.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirstOrThrow();
    // A dispute recovers 10.00 from a seller who had 9.00 available.
    await h.emu.control('POST', `/_emulator/payments/charges/${order.stripe_charge_id}/dispute`, { reason: 'fraudulent' });
    await h.settle();
    const balance = await h.stripe.balance.retrieve({}, { stripeAccount: other.accountId });
    expect(balance.available.find((b) => b.currency === 'usd')!.amount).toBeLessThan(0);
    const page = await h.admin.get(`/admin/sellers/${other.user.id}`);
    expect(page.body).not.toContain(`action="/admin/sellers/${other.user.id}/payouts"`);
    expect(page.body).not.toMatch(/name="amount" value="-/);
    expect(page.body).toContain('data-testid="nothing-to-pay-usd"');
    expect(page.body).toContain('balance is negative');
  });
});
