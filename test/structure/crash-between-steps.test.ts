// For every use case that calls Stripe: our process stops between Stripe doing it (step c) and our
// recording it (step d). Stripe's answer is lost — the emulator carries a request out and then
// answers 500 (`apply_then_500`), or the process is killed while Stripe holds the request — and the
// retry (the same form, the same key) or Stripe's event completes it, exactly once: one object at
// Stripe, one row, one transition, one audit entry.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type Stripe from 'stripe';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Order } from '../../src/db/schema.ts';
import { buyWithPaymentElement, reconcilePendingOrders, syncOrderFromStripe } from '../../src/orders/use-cases.ts';
import { createTestUser, loginAs, type TestClient } from '../helpers/app.ts';
import { isPglite } from '../helpers/database.ts';
import { waitFor } from '../helpers/webhooks.ts';
import { useWorld } from '../helpers/fixture.ts';
import { payOnCheckoutPage } from '../helpers/hosted-pages.ts';
import { createListing, createPaidOrder, createPendingOrder, createSeller, hiddenValue, orderRow, useSeller } from '../helpers/market.ts';

const w = useWorld({ webhooks: true, admin: true });
const seller = useSeller(w, { manualPayouts: true });

const orderByAttempt = (attempt: string) => w.database.db.selectFrom('orders').selectAll().where('checkout_attempt_id', '=', attempt).executeTakeFirstOrThrow();
const transitions = (orderId: string) =>
  w.database.db.selectFrom('order_transitions').select(['to_status', 'source']).where('order_id', '=', orderId).orderBy('id').execute();
const auditActions = async (targetId: string) =>
  (await w.database.db.selectFrom('admin_audit_log').select('action').where('target_id', '=', targetId).orderBy('id').execute()).map((a) => a.action);
async function sessionsOf(orderId: string): Promise<Stripe.Checkout.Session[]> {
  return (await w.stripe.checkout.sessions.list({ limit: 100 })).data.filter((s) => s.client_reference_id === orderId);
}
async function intentsOf(orderId: string): Promise<Stripe.PaymentIntent[]> {
  return (await w.stripe.paymentIntents.list({ limit: 100 })).data.filter((i) => i.metadata.order_id === orderId);
}
async function faultsLeft(): Promise<number> {
  return (await w.emu.control<{ data: unknown[] }>('GET', '/_emulator/faults')).data.length;
}

describe('buying', () => {
  let buyer: { client: TestClient; user: { id: string; email: string } };
  beforeAll(async () => {
    buyer = await loginAs(w.app, 'buyer');
  });

  it.skipIf(isPglite())('hosted Checkout, process killed while Stripe makes the session: the same form again gets that session, once', async () => {
    const listingId = await createListing(w, seller.user.id, 2_000, { stock: 5 });
    const attempt = randomUUID();
    await w.emu.fault('/v1/checkout/sessions', 'delay', { holdMs: 3_000 });
    const input = { buyerId: buyer.user.id, buyerEmail: buyer.user.email, listingId, quantity: 1, attemptId: attempt, publicUrl: w.app.config.publicUrl };
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/structure/buy-child.ts', w.database.url!, String(w.emu.emulator.port), JSON.stringify(input)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    await waitFor(async () => (await faultsLeft()) === 0); // the create is at Stripe, held
    child.kill('SIGKILL');
    await once(child, 'exit');
    expect(output).toBe('');

    const order = await orderByAttempt(attempt); // (a) committed before the call
    expect(order).toMatchObject({ status: 'pending', stripe_checkout_session_id: null, stock_reserved: true });
    await waitFor(async () => (await sessionsOf(order.id)).length === 1); // (c) done at Stripe; (d) never ran

    const again = await buyer.client.post(`/checkout/${listingId}`, { quantity: 1, attempt });
    const sessions = await sessionsOf(order.id);
    expect(sessions).toHaveLength(1);
    expect([again.statusCode, again.location]).toEqual([303, sessions[0]!.url]);
    expect((await orderRow(w.database.db, order.id)).stripe_checkout_session_id).toBe(sessions[0]!.id);
  });

  it('hosted Checkout, answer lost: the buyer pays the session Stripe made; its events record the session and the payment, once', async () => {
    const listingId = await createListing(w, seller.user.id, 2_500, { stock: 5 });
    const attempt = randomUUID();
    await w.emu.fault('/v1/checkout/sessions', 'apply_then_500');
    const first = await buyer.client.post(`/checkout/${listingId}`, { quantity: 1, attempt });
    expect(first.statusCode).toBe(503); // "Stripe did not answer": the order is kept, try again
    const order = await orderByAttempt(attempt);
    expect(order.stripe_checkout_session_id).toBeNull();
    const [session] = await sessionsOf(order.id);

    expect((await payOnCheckoutPage(session!.url!, '4242424242424242')).status).toBe(303);
    await w.settle();
    expect(await orderRow(w.database.db, order.id)).toMatchObject({ status: 'paid', stripe_checkout_session_id: session!.id });
    expect(await transitions(order.id)).toEqual([{ to_status: 'paid', source: 'webhook' }]);
    expect(await sessionsOf(order.id)).toHaveLength(1);
  });

  it('Payment Element, answer lost: the same form again gets the intent Stripe made, once', async () => {
    const listingId = await createListing(w, seller.user.id, 3_000, { stock: 5 });
    const attempt = randomUUID();
    await w.emu.fault('/v1/payment_intents', 'apply_then_500');
    expect((await buyer.client.post(`/checkout/${listingId}/pay`, { quantity: 1, attempt })).statusCode).toBe(503);
    const order = await orderByAttempt(attempt);
    expect(order.stripe_payment_intent_id).toBeNull();
    expect(await intentsOf(order.id)).toHaveLength(1);

    const again = await buyer.client.post(`/checkout/${listingId}/pay`, { quantity: 1, attempt });
    expect([again.statusCode, again.location]).toEqual([303, `/orders/${order.id}/pay`]);
    const intents = await intentsOf(order.id);
    expect(intents).toHaveLength(1);
    expect((await orderRow(w.database.db, order.id)).stripe_payment_intent_id).toBe(intents[0]!.id);
  });

  it('a declined attempt on hosted Checkout sends no expire: the session stays open for another card', async () => {
    const listingId = await createListing(w, seller.user.id, 1_200, { stock: 2 });
    const attempt = randomUUID();
    // A buyer of its own: the tests above leave this file's buyer with pending orders, and a buyer
    // may hold only a few unpaid orders at once (the stock-hoarding cap).
    const buyer = await loginAs(w.app, 'buyer');
    const started = await buyer.client.post(`/checkout/${listingId}`, { quantity: 1, attempt });
    const order = await orderByAttempt(attempt);
    await payOnCheckoutPage(started.location!, '4000000000000002'); // declined
    await w.settle();
    expect(await orderRow(w.database.db, order.id)).toMatchObject({ status: 'pending' });
    expect((await w.stripe.checkout.sessions.retrieve(order.stripe_checkout_session_id!)).status).toBe('open');
    expect(await w.emu.requests(`/v1/checkout/sessions/${order.stripe_checkout_session_id}/expire`)).toEqual([]);
    expect(await transitions(order.id)).toEqual([]);
  });

  it('"Cancel and go back", the expire\'s answer lost: the same address again sends the same expire and cancels once', async () => {
    const listingId = await createListing(w, seller.user.id, 1_200, { stock: 2 });
    const attempt = randomUUID();
    // A buyer of its own: the tests before this one leave orders waiting, and a buyer may have only a few.
    const buyer = await loginAs(w.app, 'buyer');
    const started = await buyer.client.post(`/checkout/${listingId}`, { quantity: 1, attempt });
    expect([started.statusCode, /data-testid="refusal">([^<]*)/.exec(started.body)?.[1]]).toEqual([303, undefined]);
    const order = await orderByAttempt(attempt);
    const path = `/v1/checkout/sessions/${order.stripe_checkout_session_id}/expire`;
    await w.emu.fault(path, 'apply_then_500');
    expect(started.statusCode).toBe(303);
    const lost = await buyer.client.get(`/orders/${order.id}/complete?canceled=1`);
    expect(lost.statusCode).toBe(503);
    expect(lost.body).toContain('your order is not canceled yet');
    // "Try again": the same address (Handlebars writes "=" in an attribute as &#x3D;, which the browser reads as "=").
    expect(lost.body.replaceAll('&#x3D;', '=')).toContain(`href="/orders/${order.id}/complete?canceled=1"`);
    expect((await orderRow(w.database.db, order.id)).status).toBe('pending');
    const again = await buyer.client.get(`/orders/${order.id}/complete?canceled=1`);
    expect(again.statusCode).toBe(200);
    expect(await orderRow(w.database.db, order.id)).toMatchObject({ status: 'canceled', stock_reserved: false });
    const expires = await w.emu.requests(path);
    expect(expires.map((r) => r.fault ?? 'answered')).toContain('apply_then_500');
    expect(new Set(expires.map((r) => r.idempotency_key))).toEqual(new Set([`order:${order.id}:expire`]));
    await w.settle();
    // The retry's first read already finds the session expired (by the lost call): one transition.
    expect((await transitions(order.id)).map((t) => t.to_status)).toEqual(['canceled']);
  });

  it("the reconciler's cancel of an intent left for a day, answer lost: its next run completes it, once", async () => {
    const listingId = await createListing(w, seller.user.id, 900, { stock: 2 });
    const user = await createTestUser(w.database.db, 'buyer');
    const order = await buyWithPaymentElement(w.database.db, w.stripe, {
      buyerId: user.id,
      buyerEmail: user.email,
      listingId,
      quantity: 1,
      attemptId: randomUUID(),
    });
    await sql`update orders set created_at = now() - interval '25 hours' where id = ${order.id}`.execute(w.database.db);
    await w.emu.fault(`/v1/payment_intents/${order.stripe_payment_intent_id}/cancel`, 'apply_then_500');
    await expect(reconcilePendingOrders(w.database.db, w.stripe)).rejects.toThrow();
    expect((await orderRow(w.database.db, order.id)).status).toBe('pending');

    await reconcilePendingOrders(w.database.db, w.stripe);
    expect((await orderRow(w.database.db, order.id)).status).toBe('canceled');
    expect((await w.stripe.paymentIntents.retrieve(order.stripe_payment_intent_id!)).status).toBe('canceled');
    expect(await transitions(order.id)).toEqual([{ to_status: 'canceled', source: 'reconcile' }]);
  });
});

describe('admin money', () => {
  async function refundForm(orderId: string) {
    const page = await w.admin.get(`/admin/orders/${orderId}`);
    return { refund_id: hiddenValue(page.body, 'refund_id')!, amount: '10.00', reverse_transfer: 'on', refund_application_fee: 'on', confirm: 'yes' };
  }

  it('a refund, answer lost: "send again" gets the refund Stripe made, recorded and audited once; its events change nothing more', async () => {
    const order = await createPaidOrder(w, seller, { amount: 4_000 });
    const form = await refundForm(order.id);
    await w.emu.fault('/v1/refunds', 'apply_then_500');
    const lost = await w.admin.post(`/admin/orders/${order.id}/refunds`, form);
    expect([lost.statusCode, lost.body.includes('Stripe did not answer')]).toEqual([422, true]);
    expect(await w.database.db.selectFrom('refunds').select('status').where('id', '=', form.refund_id).executeTakeFirstOrThrow()).toEqual({
      status: 'requested',
    });

    expect((await w.admin.post(`/admin/orders/${order.id}/refunds/${form.refund_id}/retry`)).statusCode).toBe(303);
    await w.settle();
    const atStripe = await w.stripe.refunds.list({ payment_intent: order.stripe_payment_intent_id! });
    expect(atStripe.data.map((r) => r.metadata?.refund_id)).toEqual([form.refund_id]);
    const row = await w.database.db.selectFrom('refunds').select(['status', 'stripe_refund_id']).where('order_id', '=', order.id).execute();
    expect(row).toEqual([{ status: 'succeeded', stripe_refund_id: atStripe.data[0]!.id }]);
    expect(await orderRow(w.database.db, order.id)).toMatchObject({ status: 'partially_refunded', amount_refunded: 1_000 });
    expect((await auditActions(order.id)).filter((a) => a.startsWith('refund.'))).toEqual(['refund.request', 'refund.create']);
  });

  it('a refund, answer lost: Stripe\'s events record it; "send again" then sends nothing', async () => {
    const order = await createPaidOrder(w, seller, { amount: 4_000 });
    const form = await refundForm(order.id);
    await w.emu.fault('/v1/refunds', 'apply_then_500');
    expect((await w.admin.post(`/admin/orders/${order.id}/refunds`, form)).statusCode).toBe(422);
    await w.settle();
    expect(await w.database.db.selectFrom('refunds').select('status').where('id', '=', form.refund_id).executeTakeFirstOrThrow()).toEqual({
      status: 'succeeded',
    });
    const sent = (await w.emu.requests('/v1/refunds')).length;
    expect((await w.admin.post(`/admin/orders/${order.id}/refunds/${form.refund_id}/retry`)).statusCode).toBe(303);
    expect((await w.emu.requests('/v1/refunds')).length).toBe(sent);
    expect((await w.stripe.refunds.list({ payment_intent: order.stripe_payment_intent_id! })).data).toHaveLength(1);
  });

  it('a manual payout, answer lost: the same form again gets the payout Stripe made, recorded and audited once', async () => {
    const other = await createSeller(w, { manualPayouts: true });
    await createPaidOrder(w, other, { amount: 5_000 });
    const page = await w.admin.get(`/admin/sellers/${other.user.id}`);
    const form = { request_id: hiddenValue(page.body, 'request_id')!, amount: '45.00', currency: 'usd', confirm: 'yes' };
    await w.emu.fault('/v1/payouts', 'apply_then_500');
    expect((await w.admin.post(`/admin/sellers/${other.user.id}/payouts`, form)).statusCode).toBe(422);
    expect((await w.admin.post(`/admin/sellers/${other.user.id}/payouts`, form)).statusCode).toBe(303);
    const atStripe = await w.stripe.payouts.list({}, { stripeAccount: other.accountId });
    expect(atStripe.data.map((p) => p.amount)).toEqual([4_500]);
    const request = await w.database.db
      .selectFrom('payout_requests')
      .select(['status', 'stripe_payout_id'])
      .where('id', '=', form.request_id)
      .executeTakeFirstOrThrow();
    expect(request).toEqual({ status: 'created', stripe_payout_id: atStripe.data[0]!.id });
    expect(await auditActions(other.user.id)).toEqual(['payout.request', 'payout.create']);
  });

  it('pausing payouts, answer lost: pressing Pause again completes our side (mirror and audit) once', async () => {
    const other = await createSeller(w, { manualPayouts: true });
    await w.emu.fault(`/v1/accounts/${other.accountId}`, 'apply_then_500');
    const lost = await w.admin.post(`/admin/sellers/${other.user.id}/payouts/pause`);
    expect(lost.statusCode).toBe(303);
    expect((await w.stripe.accounts.retrieve(other.accountId)).settings?.payouts?.schedule?.interval).toBe('manual');
    expect(await w.database.db.selectFrom('seller_payout_settings').select('paused').where('seller_id', '=', other.user.id).executeTakeFirst()).toBeUndefined();

    expect((await w.admin.post(`/admin/sellers/${other.user.id}/payouts/pause`)).statusCode).toBe(303);
    expect(await w.database.db.selectFrom('seller_payout_settings').select('paused').where('seller_id', '=', other.user.id).executeTakeFirstOrThrow()).toEqual({
      paused: true,
    });
    expect(await auditActions(other.user.id)).toEqual(['payouts.pause']);
  });
});

describe('disputes', () => {
  /** A paid order whose charge is disputed, with the dispute's events not yet processed. */
  async function disputedOrder(amount: number): Promise<{ order: Order; disputeId: string }> {
    const started = await createPendingOrder(w, seller, amount);
    await w.stripe.paymentIntents.confirm(started.stripe_payment_intent_id!, { payment_method: 'pm_card_createDispute' });
    const order = await syncOrderFromStripe(w.database.db, w.stripe, started, 'completion_page');
    const dispute = (await w.stripe.disputes.list({ payment_intent: order.stripe_payment_intent_id! })).data[0]!;
    return { order, disputeId: dispute.id };
  }
  const disputeRow = (id: string) => w.database.db.selectFrom('disputes').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  async function reversalsFor(transferId: string, disputeId: string) {
    return (await w.stripe.transfers.listReversals(transferId, { limit: 100 })).data.filter((r) => r.metadata?.dispute_id === disputeId);
  }

  it('recovery from the seller, answer lost: the dispute event is retried, finds the reversal Stripe made and records it, once; winning repays once even when that answer is lost too', async () => {
    const { order, disputeId } = await disputedOrder(7_000);
    await w.emu.fault(`/v1/transfers/${order.stripe_transfer_id}/reversals`, 'apply_then_500');
    await w.settle();
    const reversals = await reversalsFor(order.stripe_transfer_id!, disputeId);
    expect(reversals.map((r) => r.amount)).toEqual([7_000]);
    expect(await disputeRow(disputeId)).toMatchObject({ recovery_reversal_id: reversals[0]!.id, recovered_amount: 7_000, recovery_error: null });

    await w.emu.fault('/v1/transfers', 'apply_then_500');
    const submitted = await w.admin.post(`/admin/disputes/${disputeId}/evidence`, { action: 'submit', uncategorized_text: 'winning_evidence', confirm: 'yes' });
    expect(submitted.statusCode).toBe(303);
    await w.settle();
    const repayments = (await w.stripe.transfers.list({ destination: seller.accountId, limit: 100 })).data.filter((t) => t.metadata.dispute_id === disputeId);
    expect(repayments.map((t) => t.amount)).toEqual([7_000]);
    expect(await disputeRow(disputeId)).toMatchObject({ status: 'won', repayment_transfer_id: repayments[0]!.id, repaid_amount: 7_000 });
    expect(await reversalsFor(order.stripe_transfer_id!, disputeId)).toHaveLength(1);
  });

  it('submitting evidence, answer lost: the same evidence again is the same request; recorded and audited once', async () => {
    const { disputeId } = await disputedOrder(3_000);
    await w.settle();
    await w.emu.fault(`/v1/disputes/${disputeId}`, 'apply_then_500');
    const form = { action: 'submit', product_description: 'Mug', uncategorized_text: 'losing_evidence', confirm: 'yes' };
    const lost = await w.admin.post(`/admin/disputes/${disputeId}/evidence`, form);
    expect(lost.statusCode).toBe(422);
    expect((await w.stripe.disputes.retrieve(disputeId)).evidence_details.submission_count).toBe(1);
    expect((await w.admin.post(`/admin/disputes/${disputeId}/evidence`, form)).statusCode).toBe(303);
    expect((await w.stripe.disputes.retrieve(disputeId)).evidence_details.submission_count).toBe(1);
    expect(await disputeRow(disputeId)).toMatchObject({ evidence_submitted: true });
    expect(await auditActions(disputeId)).toEqual(['dispute.evidence_submit']);
  });

  it("accepting a dispute, answer lost: accepting again gets Stripe's first answer; recorded and audited once", async () => {
    const { disputeId } = await disputedOrder(2_000);
    await w.settle();
    await w.emu.fault(`/v1/disputes/${disputeId}/close`, 'apply_then_500');
    expect((await w.admin.post(`/admin/disputes/${disputeId}/accept`, { confirm: 'yes' })).statusCode).toBe(422);
    expect((await w.stripe.disputes.retrieve(disputeId)).status).toBe('lost');
    expect((await w.admin.post(`/admin/disputes/${disputeId}/accept`, { confirm: 'yes' })).statusCode).toBe(303);
    expect((await disputeRow(disputeId)).status).toBe('lost');
    expect(await auditActions(disputeId)).toEqual(['dispute.accept']);
    expect((await w.emu.requests(`/v1/disputes/${disputeId}/close`)).map((r) => r.idempotency_key)).toEqual([
      `dispute:${disputeId}:close`,
      `dispute:${disputeId}:close`,
    ]);
  });
});

describe('sellers', () => {
  it('creating the Connect account, answer lost: "Set up payouts" again gets the account Stripe made, recorded once', async () => {
    const { client, user } = await loginAs(w.app, 'seller');
    await w.emu.fault('/v1/accounts', 'apply_then_500');
    const lost = await client.post('/seller/payouts/start', { country: 'US' });
    expect([lost.statusCode, lost.location]).toEqual([303, '/seller']);
    const accounts = async () => (await w.stripe.accounts.list({ limit: 100 })).data.filter((a) => a.metadata?.seller_id === user.id);
    expect(await accounts()).toHaveLength(1);
    expect(
      (await w.database.db.selectFrom('sellers').select('stripe_account_id').where('id', '=', user.id).executeTakeFirstOrThrow()).stripe_account_id,
    ).toBeNull();

    const again = await client.post('/seller/payouts/start', { country: 'US' });
    expect(again.location).toMatch(new RegExp(`^${w.emu.url}/hosted/onboarding/`));
    const [account] = await accounts();
    expect(await accounts()).toHaveLength(1);
    expect((await w.database.db.selectFrom('sellers').select('stripe_account_id').where('id', '=', user.id).executeTakeFirstOrThrow()).stripe_account_id).toBe(
      account!.id,
    );
  });
});
