// Messages are written by the changes that cause them, in the same transaction, once per cause:
// an order paid, a refund succeeded, a dispute opened, a payout paid, a seller's account needing
// action. Everything runs for real: the emulator through the real SDK, signed webhooks into the
// app's endpoints, and the worker's inbox code (see test/helpers/fixture.ts).
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { EmailOutboxRow } from '../../src/db/schema.ts';
import { enqueueOrderPaidEmails } from '../../src/email/messages.ts';
import { requireTransaction } from '../../src/email/outbox.ts';
import { transitionOrder } from '../../src/orders/queries.ts';
import { placeOrder } from '../../src/orders/use-cases.ts';
import { ensureConnectedAccount, syncAccountFromStripe } from '../../src/sellers/use-cases.ts';
import { createTestUser } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';
import { createListing, createPaidOrder, createSeller, hiddenValue, useSeller } from '../helpers/market.ts';

const h = useWorld({ webhooks: true, admin: true });
const seller = useSeller(h);

const outbox = (like: string) =>
  h.database.db.selectFrom('email_outbox').selectAll().where('dedupe_key', 'like', like).orderBy('created_at').orderBy('to_address').execute();
const summary = (rows: EmailOutboxRow[]) => rows.map((r) => [r.template, r.to_address]);

describe('order paid', () => {
  it("writes the buyer's receipt and the seller's new-sale message, once", async () => {
    const buyer = await createTestUser(h.database.db, 'buyer');
    const orderId = (await createPaidOrder(h, seller, { amount: 2_400, buyer })).id;
    const order = await h.database.db.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirstOrThrow();
    const rows = await outbox(`order:${orderId}:%`);
    expect(summary(rows)).toEqual(
      [
        ['new-sale', seller.user.email],
        ['order-receipt', buyer.email],
      ].sort((a, b) => (a[1]! < b[1]! ? -1 : 1)),
    );
    const receipt = rows.find((r) => r.template === 'order-receipt')!;
    expect(receipt.data).toEqual({
      orderId,
      title: order.title,
      quantity: 1,
      amount: 2_400,
      currency: 'usd',
      sellerName: seller.user.display_name,
      paidAt: order.paid_at!.toISOString(),
    });
    expect(rows.find((r) => r.template === 'new-sale')!.data).toMatchObject({
      buyerEmail: buyer.email,
      applicationFee: order.application_fee_amount,
      shipTo: null,
    });
    expect(rows.every((r) => r.status === 'pending')).toBe(true);

    // Stripe's events for the payment, delivered again, and the completion page asking again: no more messages.
    await h.emu.control('POST', '/_emulator/delivery/flush');
    await h.settle();
    await h.database.db.transaction().execute((trx) => transitionOrder(trx, orderId, { to: 'paid', source: 'completion_page' }));
    expect(await outbox(`order:${orderId}:%`)).toHaveLength(2);
  });

  it("is part of the payment's transaction: a rolled-back payment leaves no message, a committed one its two", async () => {
    const buyer = await createTestUser(h.database.db, 'buyer');
    const listingId = await createListing(h, seller.user.id, 1_000);
    const placed = await placeOrder(h.database.db, {
      buyerId: buyer.id,
      buyerEmail: buyer.email,
      listingId,
      quantity: 1,
      attemptId: randomUUID(),
      flow: 'custom',
    });
    const orderId = placed.id;

    await expect(
      h.database.db.transaction().execute(async (trx) => {
        await transitionOrder(trx, orderId, { to: 'paid', source: 'admin' });
        expect(await trx.selectFrom('email_outbox').select('id').where('dedupe_key', 'like', `order:${orderId}:%`).execute()).toHaveLength(2);
        throw new Error('the rest of the change failed');
      }),
    ).rejects.toThrow('the rest of the change failed');
    expect((await h.database.db.selectFrom('orders').select('status').where('id', '=', orderId).executeTakeFirstOrThrow()).status).toBe('pending');
    expect(await outbox(`order:${orderId}:%`)).toHaveLength(0);

    await h.database.db.transaction().execute((trx) => transitionOrder(trx, orderId, { to: 'paid', source: 'admin' }));
    expect(await outbox(`order:${orderId}:%`)).toHaveLength(2);
  });

  it('cannot be enqueued outside a transaction', async () => {
    const order = await h.database.db.selectFrom('orders').selectAll().limit(1).executeTakeFirstOrThrow();
    await expect((async () => enqueueOrderPaidEmails(requireTransaction(h.database.db), order))()).rejects.toThrow(
      'an email must be enqueued inside the transaction of the change that causes it',
    );
  });
});

describe('refund succeeded', () => {
  it("tells the buyer once per refund, with the amount and the order's refunded total", async () => {
    const buyer = await createTestUser(h.database.db, 'buyer');
    const orderId = (await createPaidOrder(h, seller, { amount: 10_000, buyer })).id;
    for (const amount of ['25.00', '75.00']) {
      const page = await h.admin.get(`/admin/orders/${orderId}`);
      const done = await h.admin.post(`/admin/orders/${orderId}/refunds`, {
        refund_id: hiddenValue(page.body, 'refund_id')!,
        amount,
        reverse_transfer: 'on',
        confirm: 'yes',
      });
      expect(done.statusCode).toBe(303);
      await h.settle();
    }
    const rows = (
      await h.database.db.selectFrom('email_outbox').selectAll().where('template', '=', 'refund-issued').where('to_address', '=', buyer.email).execute()
    ).sort((a, b) => (a.data as { amount: number }).amount - (b.data as { amount: number }).amount);
    expect(rows.map((r) => [r.to_address, r.data])).toEqual([
      [buyer.email, expect.objectContaining({ orderId, amount: 2_500, refundedTotal: 2_500, orderAmount: 10_000, currency: 'usd' })],
      [buyer.email, expect.objectContaining({ orderId, amount: 7_500, refundedTotal: 10_000, orderAmount: 10_000 })],
    ]);
    const refunds = await h.database.db.selectFrom('refunds').select('id').where('order_id', '=', orderId).execute();
    expect(rows.map((r) => r.dedupe_key).sort()).toEqual(refunds.map((r) => `refund:${r.id}:issued`).sort());
  });
});

describe('dispute opened', () => {
  it('tells the seller and every admin, once, however many dispute events follow', async () => {
    const secondAdmin = await createTestUser(h.database.db, 'admin');
    const orderId = (await createPaidOrder(h, seller, { amount: 3_000, paymentMethod: 'pm_card_createDispute' })).id;
    await h.settle();
    const dispute = await h.database.db.selectFrom('disputes').selectAll().where('order_id', '=', orderId).executeTakeFirstOrThrow();
    const admins = await h.database.db.selectFrom('users').select('email').where('role', '=', 'admin').execute();
    expect(admins.map((a) => a.email)).toContain(secondAdmin.email);
    const rows = await outbox(`dispute:${dispute.id}:opened:%`);
    expect(rows.map((r) => r.to_address).sort()).toEqual([seller.user.email, ...admins.map((a) => a.email)].sort());
    expect(rows.find((r) => r.to_address === seller.user.email)!.data).toMatchObject({
      audience: 'seller',
      disputeId: dispute.id,
      orderId,
      amount: 3_000,
      currency: 'usd',
    });
    expect(rows.find((r) => r.to_address === secondAdmin.email)!.data).toMatchObject({ audience: 'admin' });

    // Evidence submitted: the dispute moves on (updated events), no new message.
    const page = await h.admin.get(`/admin/disputes/${dispute.id}`);
    expect(page.statusCode).toBe(200);
    await h.admin.post(`/admin/disputes/${dispute.id}/evidence`, { product_description: 'A mug', uncategorized_text: 'Delivered.', submit: 'yes' });
    await h.settle();
    expect(await outbox(`dispute:${dispute.id}:%`)).toHaveLength(rows.length);
  });
});

describe('payout paid', () => {
  it('tells the seller once the payout is paid, not when it is created', async () => {
    const payee = await createSeller(h);
    await createPaidOrder(h, payee, { amount: 2_000 });
    const DAY = 86_400;
    await h.emu.advanceClock(DAY); // midnight: the automatic payout is created
    await h.settle();
    const created = await h.database.db.selectFrom('payouts').selectAll().where('seller_id', '=', payee.user.id).executeTakeFirstOrThrow();
    expect(created.status).not.toBe('paid');
    expect(await outbox(`payout:${created.id}:%`)).toHaveLength(0);

    await h.emu.advanceClock(DAY); // arrival: paid
    await h.settle();
    await h.settle();
    const rows = await outbox(`payout:${created.id}:%`);
    expect(summary(rows)).toEqual([['payout-paid', payee.user.email]]);
    expect(rows[0]!.data).toMatchObject({ payoutId: created.id, amount: created.amount, currency: 'usd' });
  });
});

describe('onboarding action needed', () => {
  it('tells the seller what Stripe asks for, once per distinct request', async () => {
    const user = await createTestUser(h.database.db, 'seller');
    const { accountId } = await ensureConnectedAccount(h.database.db, h.stripe, { sellerId: user.id, country: 'US', email: user.email });
    expect(await outbox(`seller:${user.id}:%`)).toHaveLength(0); // setup not finished is not "action needed"

    await h.emu.control('POST', `/_emulator/accounts/${accountId}/onboarding`, { outcome: 'requirements_due' });
    await syncAccountFromStripe(h.database.db, h.stripe, accountId);
    await h.settle();
    await syncAccountFromStripe(h.database.db, h.stripe, accountId);
    const seller = await h.database.db.selectFrom('sellers').select('account_state').where('id', '=', user.id).executeTakeFirstOrThrow();
    expect(seller.account_state).toBe('restricted');
    const rows = await outbox(`seller:${user.id}:action-needed:%`);
    expect(summary(rows)).toEqual([['onboarding-action-needed', user.email]]);
    const data = rows[0]!.data as { due: string[]; summary: string };
    expect(data.due.length).toBeGreaterThan(0);
    expect(data.summary).toContain('Stripe needs more information');

    // Fixed: enabled, and no message for that.
    await h.emu.control('POST', `/_emulator/accounts/${accountId}/onboarding`, { outcome: 'verified' });
    await syncAccountFromStripe(h.database.db, h.stripe, accountId);
    expect(await outbox(`seller:${user.id}:%`)).toHaveLength(1);
  });
});
