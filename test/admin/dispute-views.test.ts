// Issue 15 point 19: a won dispute says its recovered money was repaid; the dispute page names the
// buyer and the seller and shows Stripe's dispute fee; a disputed order's money ends in a final net
// for the seller and for the platform that includes the dispute.
import { describe, expect, it } from 'vitest';
import { useWorld } from '../helpers/fixture.ts';
import { createPaidOrder, lineAmount, useSeller } from '../helpers/market.ts';

describe('dispute pages and the final nets', () => {
  const h = useWorld({ webhooks: true, admin: true });
  const seller = useSeller(h, { manualPayouts: true });

  async function decided(evidence: string, amount = 10_000) {
    const orderId = (await createPaidOrder(h, seller, { amount, paymentMethod: 'pm_card_createDispute' })).id;
    const dispute = await h.database.db.selectFrom('disputes').selectAll().where('order_id', '=', orderId).executeTakeFirstOrThrow();
    expect((await h.admin.post(`/admin/disputes/${dispute.id}/evidence`, { action: 'submit', uncategorized_text: evidence, confirm: 'yes' })).statusCode).toBe(
      303,
    );
    await h.settle();
    const order = await h.database.db.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirstOrThrow();
    return { order, dispute: await h.database.db.selectFrom('disputes').selectAll().where('id', '=', dispute.id).executeTakeFirstOrThrow() };
  }

  it('won: the list and the page say the recovered money was repaid; buyer, seller and the fee are on the page', async () => {
    const { order, dispute } = await decided('winning_evidence');
    expect(dispute.status).toBe('won');
    const list = await h.admin.get('/admin/disputes');
    const row = new RegExp(`data-dispute-id="${dispute.id}"[\\s\\S]*?</tr>`).exec(list.body)![0];
    expect(row).toContain('$100.00 repaid (won)');
    expect(row).toContain('Won');
    const page = await h.admin.get(`/admin/disputes/${dispute.id}`);
    expect(page.body).toMatch(/data-testid="recovered">\$100\.00 <span class="muted">— repaid/);
    expect(page.body).toContain(order.buyer_email);
    expect(page.body).toMatch(new RegExp(`data-testid="seller"><a href="/admin/sellers/${seller.user.id}">Test seller`));
    expect(page.body).toContain(`data-testid="dispute-fee">$${(dispute.dispute_fee / 100).toFixed(2)}`);
    expect(page.body).toContain('data-testid="seller-dispute-net">$0.00');
    const orderPage = await h.admin.get(`/admin/orders/${order.id}`);
    expect(lineAmount(orderPage.body, 'seller_final_net')).toBe(9_000);
  });

  it("lost: the order's final nets include the dispute (seller −10 % fee kept; platform fee − Stripe fee − dispute fee)", async () => {
    const { order, dispute } = await decided('losing_evidence');
    expect(dispute.status).toBe('lost');
    const page = await h.admin.get(`/admin/orders/${order.id}`);
    expect(lineAmount(page.body, 'seller_final_net')).toBe(9_000 - 10_000);
    expect(lineAmount(page.body, 'platform_final_net')).toBe(1_000 - order.stripe_fee_amount! - dispute.dispute_fee);
    expect(page.body).toContain('Disputed (Lost)');
    expect(dispute.dispute_fee).toBeGreaterThan(0);
    const disputePage = await h.admin.get(`/admin/disputes/${dispute.id}`);
    expect(disputePage.body).toContain(`data-testid="dispute-fee">$${(dispute.dispute_fee / 100).toFixed(2)}`);
  });
});
