// Every call that moves money, with its answer lost: the emulator carries the request out (objects,
// ledger, events, the stored idempotent result) and then drops the connection (`apply_then_drop`,
// emulator README "Faults"). Twice, so the SDK's own resend is lost too and our code sees no answer.
// "Send again" — the same form, the event's retry — must send the same Idempotency-Key and get the
// stored answer back: exactly one object at Stripe. Without our key the second try is a new request
// and a second object (the emulator's own tests show that side).
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { buyWithCheckout, buyWithPaymentElement } from '../../src/orders/use-cases.ts';
import { requestManualPayout, sendPayoutRequest } from '../../src/payouts/use-cases.ts';
import { requestRefund, sendRefund } from '../../src/refunds/use-cases.ts';
import { createTestUser } from '../helpers/app.ts';
import type { RequestLogEntry } from '../helpers/emulator.ts';
import { useWorld } from '../helpers/fixture.ts';
import { createListing, createPaidOrder, disputeRow, orderRow, refundRows, useSeller } from '../helpers/market.ts';

const w = useWorld({ webhooks: true, admin: true });
const seller = useSeller(w, { manualPayouts: true });
afterEach(async () => w.emu.clearFaults());

/** The answer to the next POST on `path` (and everything below it) is lost twice: the caller sees no answer. */
const loseAnswers = (path: string) => w.emu.fault(path, 'apply_then_drop', { count: 2 });

/**
 * The requests of one key: the first try applied, its retry replayed it (both answers lost); what
 * was sent after that (the form again, or the event's retries: in its batch, then alone) was
 * answered from the same key.
 */
function expectLostThenReplayed(posts: RequestLogEntry[]): void {
  const seen = posts.map((r) => [r.fault ?? null, r.replayed ?? false]);
  expect(seen.slice(0, 2)).toEqual([
    ['apply_then_drop', false],
    ['apply_then_drop', true],
  ]);
  expect(seen.length).toBeGreaterThan(2);
  expect(seen.slice(2).every(([fault, replayed]) => fault === null && replayed === true)).toBe(true);
}

/** The last three requests (both lost tries and "send again") carried `key`, and the last was answered from it. */
function expectSentAgainWithTheSameKey(posts: RequestLogEntry[], key: string): void {
  expect(posts.slice(-3).map((r) => r.idempotency_key)).toEqual(Array(3).fill(key));
  expect(posts.at(-1)).toMatchObject({ status: 200, replayed: true });
}

async function buyer() {
  return createTestUser(w.db, 'buyer');
}

describe('buying', () => {
  it('Checkout Session: the lost create leaves the order pending; the same form again replays the one session', async () => {
    const listingId = await createListing(w, seller.user.id, 4_200);
    const user = await buyer();
    const input = { buyerId: user.id, buyerEmail: user.email, listingId, quantity: 1, attemptId: randomUUID(), publicUrl: w.app.config.publicUrl };
    await loseAnswers('/v1/checkout/sessions');
    await expect(buyWithCheckout(w.db, w.stripe, input)).rejects.toMatchObject({ code: 'payment_start_unanswered' });
    const order = await w.db.selectFrom('orders').selectAll().where('checkout_attempt_id', '=', input.attemptId).executeTakeFirstOrThrow();
    expect(order).toMatchObject({ status: 'pending', stripe_checkout_session_id: null });

    const again = await buyWithCheckout(w.db, w.stripe, input);
    const sessions = (await w.stripe.checkout.sessions.list({ limit: 100 })).data.filter((s) => s.client_reference_id === order.id);
    expect(sessions.map((s) => s.id)).toEqual([again.order.stripe_checkout_session_id]);
    expectLostThenReplayed((await w.emu.requests('/v1/checkout/sessions')).filter((r) => r.idempotency_key === `order:${order.id}:checkout`));
  });

  it('PaymentIntent: the lost create leaves the order pending; the same form again replays the one intent', async () => {
    const listingId = await createListing(w, seller.user.id, 3_100);
    const user = await buyer();
    const input = { buyerId: user.id, buyerEmail: user.email, listingId, quantity: 1, attemptId: randomUUID() };
    await loseAnswers('/v1/payment_intents');
    await expect(buyWithPaymentElement(w.db, w.stripe, input)).rejects.toMatchObject({ code: 'payment_start_unanswered' });

    const order = await buyWithPaymentElement(w.db, w.stripe, input);
    const intents = (await w.stripe.paymentIntents.list({ limit: 100 })).data.filter((i) => i.metadata.order_id === order.id);
    expect(intents.map((i) => i.id)).toEqual([order.stripe_payment_intent_id]);
    const posts = (await w.emu.requests('/v1/payment_intents')).filter((r) => r.idempotency_key === `order:${order.id}:checkout`);
    expect(posts.at(-1)).toMatchObject({ status: 200, replayed: true });
  });
});

describe('admin money', () => {
  it('refund (with its transfer reversal and fee refund): lost, then "send again" replays the one refund', async () => {
    const order = await createPaidOrder(w, seller, { amount: 10_000 });
    const refundId = randomUUID();
    await loseAnswers('/v1/refunds');
    const request = { refundId, orderId: order.id, amount: '40.00', reason: null, reverseTransfer: true, refundApplicationFee: true };
    await expect(requestRefund(w.db, w.stripe, w.actor, request)).rejects.toMatchObject({ code: 'stripe_outcome_unknown' });
    expect((await refundRows(w.db, order.id)).map((r) => r.status)).toEqual(['requested']);

    const sent = await sendRefund(w.db, w.stripe, w.actor, refundId);
    await w.settle();
    const atStripe = await w.stripe.refunds.list({ payment_intent: order.stripe_payment_intent_id!, limit: 100 });
    expect(atStripe.data.map((r) => r.amount)).toEqual([4_000]);
    expect(sent.stripe_refund_id).toBe(atStripe.data[0]!.id);
    expect((await w.stripe.charges.retrieve(order.stripe_charge_id!)).amount_refunded).toBe(4_000);
    expect((await w.stripe.transfers.retrieve(order.stripe_transfer_id!)).amount_reversed).toBe(4_000);
    expect((await w.stripe.applicationFees.retrieve(order.stripe_application_fee_id!)).amount_refunded).toBe(400);
    expect(await orderRow(w.db, order.id)).toMatchObject({ status: 'partially_refunded', amount_refunded: 4_000 });
    expectSentAgainWithTheSameKey(await w.emu.requests('/v1/refunds'), `refund:${refundId}`);
  });

  it('manual payout: lost, then "send again" replays the one payout on the seller\'s account', async () => {
    await createPaidOrder(w, seller, { amount: 5_000 }); // available at once (pm_card_bypassPending)
    const requestId = randomUUID();
    await loseAnswers('/v1/payouts');
    const input = { requestId, sellerId: seller.user.id, amount: '12.00', currency: 'usd' };
    await expect(requestManualPayout(w.db, w.stripe, w.actor, input)).rejects.toMatchObject({ code: 'stripe_outcome_unknown' });

    const sent = await sendPayoutRequest(w.db, w.stripe, w.actor, requestId);
    const payouts = (await w.stripe.payouts.list({ limit: 100 }, { stripeAccount: seller.accountId })).data.filter(
      (p) => p.metadata?.payout_request_id === requestId,
    );
    expect(payouts.map((p) => p.amount)).toEqual([1_200]);
    expect(sent.request).toMatchObject({ status: 'created', stripe_payout_id: payouts[0]!.id });
    expectSentAgainWithTheSameKey(await w.emu.requests('/v1/payouts'), `payout:${requestId}`);
  });
});

describe('disputes (the recovery policy, run by the dispute events)', () => {
  it('recovery from the seller (a transfer reversal): lost, the event is retried, one reversal is recorded', async () => {
    await loseAnswers('/v1/transfers'); // …/tr_…/reversals is below it
    const order = await createPaidOrder(w, seller, { amount: 7_000, paymentMethod: 'pm_card_createDispute' });
    const dispute = await w.db.selectFrom('disputes').selectAll().where('order_id', '=', order.id).executeTakeFirstOrThrow();
    const reversals = (await w.stripe.transfers.listReversals(order.stripe_transfer_id!, { limit: 100 })).data;
    expect(reversals.map((r) => [r.amount, r.metadata?.dispute_id])).toEqual([[7_000, dispute.id]]);
    expect(dispute).toMatchObject({ recovered_amount: 7_000, recovery_reversal_id: reversals[0]!.id });
    expect((await w.stripe.transfers.retrieve(order.stripe_transfer_id!)).amount_reversed).toBe(7_000);
    const posts = await w.emu.requests(`/v1/transfers/${order.stripe_transfer_id}/reversals`);
    // Both tries of the first attempt applied and lost their answers; whatever the worker sent
    // after that (the event retried, in its batch or alone) was answered from the same key.
    expect(posts.slice(0, 2).map((r) => r.fault)).toEqual(['apply_then_drop', 'apply_then_drop']);
    expect(posts.slice(2).every((r) => r.fault === undefined && r.replayed === true)).toBe(true);
    expect(new Set(posts.map((r) => r.idempotency_key))).toEqual(new Set([`dispute:${dispute.id}:recover`]));
  });

  it('repayment of a won dispute (a transfer to the seller): lost, the closed event is retried, the retry replays the one transfer', async () => {
    const order = await createPaidOrder(w, seller, { amount: 6_000, paymentMethod: 'pm_card_createDispute' });
    const disputeId = (await w.db.selectFrom('disputes').select('id').where('order_id', '=', order.id).executeTakeFirstOrThrow()).id;
    await loseAnswers('/v1/transfers');
    await w.stripe.disputes.update(disputeId, { evidence: { uncategorized_text: 'winning_evidence' }, submit: true });
    await w.settle();
    const dispute = await disputeRow(w.db, disputeId);
    expect(dispute).toMatchObject({ status: 'won', recovered_amount: 6_000, repaid_amount: 6_000 });
    const repayments = (await w.stripe.transfers.list({ destination: seller.accountId, limit: 100 })).data.filter((t) => t.metadata?.dispute_id === disputeId);
    expect(repayments.map((t) => [t.id, t.amount])).toEqual([[dispute!.repayment_transfer_id, 6_000]]);
    expectLostThenReplayed((await w.emu.requests('/v1/transfers')).filter((r) => r.idempotency_key === `dispute:${disputeId}:repay`));
  });
});
