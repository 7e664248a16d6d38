// Issue 15 point 13: the seller's orders show what each sale is truly worth to them after refunds
// and disputes (a fully refunded order nets 0, a lost 10.00 dispute on a 10.00 sale nets −1.00, an
// open dispute's amount is shown as taken), and each order has a detail page with the breakdown.
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_PASSWORD, TestClient } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';
import { createPaidOrder, createSeller, refundByAdmin, type TestSeller } from '../helpers/market.ts';

describe('seller orders: refunds, disputes and the true net', () => {
  const h = useWorld({ webhooks: true, admin: true });
  let seller: TestSeller;
  let client: TestClient;

  beforeAll(async () => {
    seller = await createSeller(h, { manualPayouts: true });
    client = new TestClient(h.app, '10.15.13.1');
    expect((await client.post('/login', { email: seller.user.email, password: TEST_PASSWORD })).statusCode).toBe(303);
  });

  /** The seller's orders row for `orderId`: the net's amount (minor units) and the row's text. */
  async function row(orderId: string): Promise<{ net: number | undefined; text: string }> {
    const page = await client.get('/seller/orders');
    expect(page.statusCode).toBe(200);
    const html = new RegExp(`<tr data-order-id="${orderId}">([\\s\\S]*?)</tr>`).exec(page.body)?.[1] ?? '';
    const net = /data-testid="net" data-amount="(-?\d+)"/.exec(html)?.[1];
    return { net: net === undefined ? undefined : Number(net), text: html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ') };
  }
  async function detailNet(orderId: string): Promise<{ net: number; body: string }> {
    const page = await client.get(`/seller/orders/${orderId}`);
    expect(page.statusCode).toBe(200);
    return { net: Number(/data-line="net">[\s\S]*?data-amount="(-?\d+)"/.exec(page.body)?.[1]), body: page.body };
  }
  async function disputeOf(orderId: string) {
    return h.database.db.selectFrom('disputes').selectAll().where('order_id', '=', orderId).executeTakeFirstOrThrow();
  }
  async function submitEvidence(disputeId: string, text: string) {
    expect((await h.admin.post(`/admin/disputes/${disputeId}/evidence`, { action: 'submit', uncategorized_text: text, confirm: 'yes' })).statusCode).toBe(303);
    await h.settle();
  }

  it('a paid order: gross, fee, net', async () => {
    const orderId = (await createPaidOrder(h, seller, { amount: 10_000 })).id;
    expect(await row(orderId)).toMatchObject({ net: 9_000 });
    expect((await row(orderId)).text).toContain('$10.00'); // the platform fee
  });

  it('fully refunded (reversing the transfer and the fee): net $0.00, refunded shown', async () => {
    const orderId = (await createPaidOrder(h, seller, { amount: 10_000 })).id;
    await refundByAdmin(h, orderId, '100.00');
    const { net, text } = await row(orderId);
    expect(net).toBe(0);
    expect(text).toContain('Refunded');
    expect(text).toMatch(/\$100\.00.*\$100\.00/); // gross and refunded
    const detail = await detailNet(orderId);
    expect(detail.net).toBe(0);
    expect(detail.body).toContain('taken back from you');
  });

  it('a lost $10.00 dispute on a $10.00 sale: net −$1.00 (the fee was kept), on the list and the detail page', async () => {
    const orderId = (await createPaidOrder(h, seller, { amount: 1_000, paymentMethod: 'pm_card_createDispute' })).id;
    const dispute = await disputeOf(orderId);
    await submitEvidence(dispute.id, 'losing_evidence');
    expect((await disputeOf(orderId)).status).toBe('lost');
    const { net, text } = await row(orderId);
    expect(net).toBe(-100);
    expect(text).toContain('Lost');
    const detail = await detailNet(orderId);
    expect(detail.net).toBe(-100);
    expect(detail.body).toContain('-$1.00');
    // Its own line: the lost dispute took the disputed 10.00 back from the seller.
    expect(detail.body).toMatch(new RegExp(`data-line="dispute" data-dispute-id="${dispute.id}" data-amount="1000">[\\s\\S]*?Lost[\\s\\S]*?−\\$10\\.00`));
    expect(detail.body).not.toContain(String(dispute.dispute_fee)); // Stripe's dispute fee is the platform's
  });

  it('a partial refund: a line for the refund, the fee returned with it, and the net after both', async () => {
    const orderId = (await createPaidOrder(h, seller, { amount: 10_000 })).id;
    const refundId = await refundByAdmin(h, orderId, '25.00');
    const detail = await detailNet(orderId);
    expect(detail.net).toBe(9_000 - 2_500 + 250);
    expect(detail.body).toMatch(
      new RegExp(
        `data-line="refund" data-refund-id="${refundId}" data-amount="2500">[\\s\\S]*?Refund of \\$25\\.00[\\s\\S]*?taken back from you[\\s\\S]*?−\\$25\\.00`,
      ),
    );
    expect(detail.body).toMatch(/data-line="fee_returned" data-amount="250">[\s\S]*?\$2\.50/);
    expect((await row(orderId)).net).toBe(6_750);
    // The admin's breakdown says the same, from the same rule.
    expect((await h.admin.get(`/admin/orders/${orderId}`)).body).toMatch(/data-line="seller_final_net"[\s\S]*?\$67\.50/);
  });

  it('a dispute under review: the disputed money is shown as taken, provisionally', async () => {
    const orderId = (await createPaidOrder(h, seller, { amount: 5_000, paymentMethod: 'pm_card_createDispute' })).id;
    const dispute = await disputeOf(orderId);
    await submitEvidence(dispute.id, 'here is what happened');
    expect((await disputeOf(orderId)).status).toBe('under_review');
    const { net, text } = await row(orderId);
    expect(net).toBe(4_500 - 5_000);
    expect(text).toContain('Under review');
    expect(text).toContain('while the dispute is open');
  });

  it('a won dispute: the money came back, net as before', async () => {
    const orderId = (await createPaidOrder(h, seller, { amount: 2_000, paymentMethod: 'pm_card_createDispute' })).id;
    const dispute = await disputeOf(orderId);
    await submitEvidence(dispute.id, 'winning_evidence');
    expect((await row(orderId)).net).toBe(1_800);
    const detail = await detailNet(orderId);
    expect(detail.body).toContain('returned to you (dispute won)');
  });

  it("another seller's order is not found", async () => {
    const other = await createSeller(h);
    const orderId = (await createPaidOrder(h, other, { amount: 1_000 })).id;
    expect((await client.get(`/seller/orders/${orderId}`)).statusCode).toBe(404);
  });
});
