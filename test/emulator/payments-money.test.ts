/**
 * Money scenarios with exact figures, through the real SDK over HTTP.
 *
 * Documented model (docs.stripe.com/connect/marketplace/tasks/app-fees and
 * docs.stripe.com/connect/destination-charges; see src/emulator/resources/payments/README.md, "Money model"):
 * the full charge amount is transferred to the destination, then the application fee is
 * transferred back to the platform; the platform pays Stripe's fee (2.9 % + 30), refunds and
 * chargebacks. For 10 000 with a 1 000 fee:
 *   platform:  +10 000 charge (fee 320) − 10 000 transfer + 1 000 application fee = +680
 *   connected: +10 000 payment (application fee 1 000)                           = +9 000
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type Stripe from 'stripe';
import { createExpressAccount, useTestEmulator } from './helpers.ts';

const t = useTestEmulator();
let seller: Stripe.Account;

beforeAll(async () => {
  seller = await createExpressAccount(t, { outcome: 'verified', interval: 'manual' });
});

function usd(b: Stripe.Balance, kind: 'available' | 'pending'): number {
  return b[kind].filter((x) => x.currency === 'usd').reduce((n, x) => n + x.amount, 0);
}

async function balances(): Promise<{ platform: { available: number; pending: number }; seller: { available: number; pending: number } }> {
  const p = await t.stripe.balance.retrieve();
  const s = await t.stripeFor(seller.id).balance.retrieve();
  return { platform: { available: usd(p, 'available'), pending: usd(p, 'pending') }, seller: { available: usd(s, 'available'), pending: usd(s, 'pending') } };
}

async function destinationCharge(pm = 'pm_card_visa', amount = 10_000, fee = 1_000): Promise<Stripe.PaymentIntent> {
  return t.stripe.paymentIntents.create({
    amount,
    currency: 'usd',
    application_fee_amount: fee,
    transfer_data: { destination: seller.id },
    payment_method: pm,
    confirm: true,
    return_url: 'https://shop.example/return',
  });
}

describe('destination charge: 10 000 usd with a 1 000 application fee', () => {
  it('moves both balances as Stripe documents', async () => {
    const before = await balances();
    const pi = await destinationCharge();
    expect(pi.status).toBe('succeeded');
    expect(pi.amount_received).toBe(10_000);

    const charge = await t.stripe.charges.retrieve(String(pi.latest_charge), { expand: ['balance_transaction', 'transfer', 'application_fee'] });
    const txn = charge.balance_transaction as Stripe.BalanceTransaction;
    expect(txn.type).toBe('charge');
    expect(txn.amount).toBe(10_000);
    expect(txn.fee).toBe(320); // 2.9 % of 10 000 = 290, + 30
    expect(txn.net).toBe(9_680);
    expect(txn.fee_details).toEqual([expect.objectContaining({ type: 'stripe_fee', amount: 320 })]);
    expect(charge.application_fee_amount).toBe(1_000);
    expect(charge.transfer_data?.destination).toBe(seller.id);

    const transfer = charge.transfer as Stripe.Transfer;
    expect(transfer.id).toMatch(/^tr_/);
    expect(transfer.amount).toBe(10_000);
    expect(transfer.destination).toBe(seller.id);
    expect(transfer.source_transaction).toBe(charge.id);

    const fee = charge.application_fee as Stripe.ApplicationFee;
    expect(fee.id).toMatch(/^fee_/);
    expect(fee.amount).toBe(1_000);
    expect(fee.account).toBe(seller.id);
    expect(fee.originating_transaction).toBe(charge.id);

    // The destination payment (py_) on the connected account carries the fee.
    const payment = await t.stripeFor(seller.id).charges.retrieve(String(transfer.destination_payment), { expand: ['balance_transaction'] });
    const pyTxn = payment.balance_transaction as Stripe.BalanceTransaction;
    expect(pyTxn.type).toBe('payment');
    expect(pyTxn.amount).toBe(10_000);
    expect(pyTxn.fee).toBe(1_000);
    expect(pyTxn.net).toBe(9_000);
    expect(pyTxn.fee_details).toEqual([expect.objectContaining({ type: 'application_fee', amount: 1_000 })]);

    const after = await balances();
    expect(after.platform.pending - before.platform.pending).toBe(680);
    expect(after.platform.available - before.platform.available).toBe(0);
    expect(after.seller.pending - before.seller.pending).toBe(9_000);
    expect(after.seller.available - before.seller.available).toBe(0);

    // Pending → available after the 2-day delay.
    await t.advance(3 * 86_400);
    const later = await balances();
    expect(later.platform.available - before.platform.available).toBe(680);
    expect(later.seller.available - before.seller.available).toBe(9_000);

    // Platform balance transactions of this charge.
    const platformTxns = await t.stripe.balanceTransactions.list({ limit: 100 });
    const mine = platformTxns.data.filter((b) => [charge.id, transfer.id, fee.id].includes(String(b.source)));
    expect(mine.map((b) => [b.type, b.net]).sort()).toEqual([
      ['application_fee', 1_000],
      ['charge', 9_680],
      ['transfer', -10_000],
    ]);
  });

  it('emits platform events without `account`', async () => {
    const pi = await destinationCharge();
    await t.flush();
    const events = t.receiver.events(t.stripe).filter((e) => {
      const o = e.data.object as { id?: string; payment_intent?: string; originating_transaction?: string; source_transaction?: string };
      return o.id === pi.id || o.payment_intent === pi.id || o.source_transaction === pi.latest_charge || o.originating_transaction === pi.latest_charge;
    });
    const types = events.map((e) => e.type);
    for (const type of ['payment_intent.created', 'payment_intent.succeeded', 'charge.succeeded', 'transfer.created', 'application_fee.created']) {
      expect(types).toContain(type);
    }
    expect(events.every((e) => e.account === undefined)).toBe(true);
  });
});

describe('refunds with reverse_transfer and refund_application_fee', () => {
  it('2 500 partial → 2 500 reversed and 250 of the fee; the remaining 7 500 → fully refunded; one more unit → error', async () => {
    const pi = await destinationCharge();
    const chargeId = String(pi.latest_charge);
    const before = await balances();

    const r1 = await t.stripe.refunds.create({ payment_intent: pi.id, amount: 2_500, reverse_transfer: true, refund_application_fee: true });
    expect(r1.status).toBe('succeeded');
    expect(r1.amount).toBe(2_500);
    expect(r1.transfer_reversal).toMatch(/^trr_/);
    const rev1 = await t.stripe.transfers.retrieveReversal(String((await t.stripe.charges.retrieve(chargeId)).transfer), String(r1.transfer_reversal));
    expect(rev1.amount).toBe(2_500);
    expect(rev1.source_refund).toBe(r1.id);

    let charge = await t.stripe.charges.retrieve(chargeId, { expand: ['transfer', 'application_fee'] });
    expect(charge.amount_refunded).toBe(2_500);
    expect(charge.refunded).toBe(false);
    expect((charge.transfer as Stripe.Transfer).amount_reversed).toBe(2_500);
    const fee = charge.application_fee as Stripe.ApplicationFee;
    expect(fee.amount_refunded).toBe(250);
    const feeRefunds = await t.stripe.applicationFees.listRefunds(fee.id);
    expect(feeRefunds.data.map((r) => r.amount)).toEqual([250]);
    expect(feeRefunds.data[0]?.id).toMatch(/^fr_/);

    const mid = await balances();
    // platform: −2 500 refund + 2 500 reversal − 250 fee refund
    expect(mid.platform.available + mid.platform.pending - (before.platform.available + before.platform.pending)).toBe(-250);
    // seller: −2 500 reversal + 250 fee refund
    expect(mid.seller.available + mid.seller.pending - (before.seller.available + before.seller.pending)).toBe(-2_250);

    const r2 = await t.stripe.refunds.create({ payment_intent: pi.id, amount: 7_500, reverse_transfer: true, refund_application_fee: true });
    expect(r2.amount).toBe(7_500);
    charge = await t.stripe.charges.retrieve(chargeId, { expand: ['transfer', 'application_fee'] });
    expect(charge.amount_refunded).toBe(10_000);
    expect(charge.refunded).toBe(true);
    expect((charge.transfer as Stripe.Transfer).amount_reversed).toBe(10_000);
    expect((charge.transfer as Stripe.Transfer).reversed).toBe(true);
    expect((charge.application_fee as Stripe.ApplicationFee).amount_refunded).toBe(1_000);
    expect((charge.application_fee as Stripe.ApplicationFee).refunded).toBe(true);

    const end = await balances();
    // Everything went back except Stripe's 320 processing fee, which the platform keeps paying.
    expect(end.platform.available + end.platform.pending - (before.platform.available + before.platform.pending)).toBe(-1_000);
    expect(end.seller.available + end.seller.pending - (before.seller.available + before.seller.pending)).toBe(-9_000);

    const err = await t.stripe.refunds.create({ payment_intent: pi.id, amount: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Stripe.errors.StripeError).statusCode).toBe(400);
    expect((err as Stripe.errors.StripeError).code).toBe('charge_already_refunded');

    await t.flush();
    const types = t.receiver.events(t.stripe).map((e) => e.type);
    for (const type of ['refund.created', 'charge.refunded', 'transfer.reversed', 'application_fee.refunded']) expect(types).toContain(type);
  });

  it('a refund larger than what is left fails with Stripe’s message', async () => {
    const pi = await destinationCharge();
    await t.stripe.refunds.create({ charge: String(pi.latest_charge), amount: 9_000 });
    const err = (await t.stripe.refunds.create({ charge: String(pi.latest_charge), amount: 1_001 }).catch((e: unknown) => e)) as Stripe.errors.StripeError;
    expect(err.statusCode).toBe(400);
    expect(err.param).toBe('amount');
    expect(err.code).toBe('amount_too_large');
    expect(err.message).toBe('Refund amount ($10.01) is greater than unrefunded amount on charge ($10.00)');
    const ok = await t.stripe.refunds.create({ charge: String(pi.latest_charge) });
    expect(ok.amount).toBe(1_000);
  });

  it('without reverse_transfer the platform alone pays the refund', async () => {
    const pi = await destinationCharge();
    const before = await balances();
    await t.stripe.refunds.create({ payment_intent: pi.id, amount: 4_000 });
    const after = await balances();
    expect(after.platform.available + after.platform.pending - (before.platform.available + before.platform.pending)).toBe(-4_000);
    expect(after.seller.available + after.seller.pending - (before.seller.available + before.seller.pending)).toBe(0);
  });
});

describe('disputes', () => {
  async function disputed(pm = 'pm_card_createDispute'): Promise<{ pi: Stripe.PaymentIntent; dispute: Stripe.Dispute }> {
    const pi = await destinationCharge(pm);
    const list = await t.stripe.disputes.list({ payment_intent: pi.id });
    expect(list.data).toHaveLength(1);
    return { pi, dispute: list.data[0] as Stripe.Dispute };
  }

  it('debits the platform 10 000 + 1 500 and reinstates both on winning_evidence', async () => {
    const before = await balances();
    const { pi, dispute } = await disputed();
    const afterCharge = before.platform.available + before.platform.pending + 680;
    expect(dispute.id).toMatch(/^du_/);
    expect(dispute.status).toBe('needs_response');
    expect(dispute.reason).toBe('fraudulent');
    expect(dispute.payment_method_details).toEqual({
      type: 'card',
      card: { brand: 'visa', case_type: 'chargeback', network: 'visa', network_reason_code: '10.4' },
    });
    expect(dispute.amount).toBe(10_000);
    expect(dispute.evidence_details.due_by).toBeGreaterThan(dispute.created);
    expect(dispute.balance_transactions).toHaveLength(1);
    expect(dispute.balance_transactions[0]).toMatchObject({ amount: -10_000, fee: 1_500, net: -11_500, type: 'adjustment' });
    expect((await t.stripe.charges.retrieve(String(pi.latest_charge))).disputed).toBe(true);

    const mid = await balances();
    expect(mid.platform.available + mid.platform.pending - afterCharge).toBe(-11_500);
    expect(mid.seller.available + mid.seller.pending - (before.seller.available + before.seller.pending)).toBe(9_000); // the seller is not debited

    const staged = await t.stripe.disputes.update(dispute.id, { evidence: { product_description: 'A lamp' }, submit: false });
    expect(staged.status).toBe('needs_response');
    expect(staged.evidence.product_description).toBe('A lamp');
    expect(staged.evidence_details.submission_count).toBe(0);

    const submitted = await t.stripe.disputes.update(dispute.id, {
      evidence: { uncategorized_text: 'winning_evidence', shipping_carrier: 'UPS', shipping_tracking_number: '1Z999' },
    });
    expect(submitted.status).toBe('under_review');
    expect(submitted.evidence.product_description).toBe('A lamp');
    const won = await t.stripe.disputes.retrieve(dispute.id);
    expect(won.status).toBe('won');
    expect(won.balance_transactions).toHaveLength(2);
    expect(won.balance_transactions[1]).toMatchObject({ amount: 10_000, fee: -1_500, net: 11_500, type: 'adjustment' });

    const end = await balances();
    expect(end.platform.available + end.platform.pending - afterCharge).toBe(0);

    await t.flush();
    const types = t.receiver
      .events(t.stripe)
      .filter((e) => (e.data.object as { id?: string }).id === dispute.id)
      .map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining([
        'charge.dispute.created',
        'charge.dispute.funds_withdrawn',
        'charge.dispute.updated',
        'charge.dispute.funds_reinstated',
        'charge.dispute.closed',
      ]),
    );
  });

  it('losing_evidence → lost, and the platform stays debited', async () => {
    const before = await balances();
    const { dispute } = await disputed('pm_card_createDispute');
    await t.stripe.disputes.update(dispute.id, { evidence: { uncategorized_text: 'losing_evidence' } });
    const lost = await t.stripe.disputes.retrieve(dispute.id);
    expect(lost.status).toBe('lost');
    const end = await balances();
    expect(end.platform.available + end.platform.pending - (before.platform.available + before.platform.pending)).toBe(680 - 11_500);
    const again = (await t.stripe.disputes
      .update(dispute.id, { evidence: { uncategorized_text: 'winning_evidence' } })
      .catch((e: unknown) => e)) as Stripe.errors.StripeError;
    expect(again.statusCode).toBe(400);
  });

  it('close accepts the loss (irreversible)', async () => {
    const { dispute } = await disputed();
    const closed = await t.stripe.disputes.close(dispute.id);
    expect(closed.status).toBe('lost');
    const err = (await t.stripe.disputes.close(dispute.id).catch((e: unknown) => e)) as Stripe.errors.StripeError;
    expect(err.statusCode).toBe(400);
  });

  it('after a won dispute the platform can re-pay the seller with a transfer from the charge', async () => {
    const { pi, dispute } = await disputed();
    // Recover from the seller first (platform reverses the transfer), then the dispute is won…
    const charge = await t.stripe.charges.retrieve(String(pi.latest_charge));
    const reversal = await t.stripe.transfers.createReversal(String(charge.transfer), { amount: 9_000 });
    expect(reversal.amount).toBe(9_000);
    await t.stripe.disputes.update(dispute.id, { evidence: { uncategorized_text: 'winning_evidence' } });
    // …and the seller is paid again.
    const tr = await t.stripe.transfers.create({
      amount: 9_000,
      currency: 'usd',
      destination: seller.id,
      source_transaction: charge.id,
      transfer_group: 'order-1',
    });
    expect(tr.amount).toBe(9_000);
    expect(tr.source_transaction).toBe(charge.id);
    const tooMuch = (await t.stripe.transfers.createReversal(String(charge.transfer), { amount: 1_001 }).catch((e: unknown) => e)) as Stripe.errors.StripeError;
    expect(tooMuch.statusCode).toBe(400);
    expect(tooMuch.param).toBe('amount');
  });
});
