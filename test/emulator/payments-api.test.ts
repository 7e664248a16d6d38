/**
 * Contract tests of the payments resources: validation errors as Stripe returns them,
 * PaymentIntent lifecycle (manual capture, cancel, update, list, expand), Checkout Sessions
 * (validation, list, line items, expire, expiry on the clock), transfers, application-fee refunds,
 * Stripe-Account isolation, and the Stripe.js stand-in endpoints.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type Stripe from 'stripe';
import { createExpressAccount, useTestEmulator } from './helpers.ts';

const t = useTestEmulator();
let seller: Stripe.Account;
let unboarded: Stripe.Account;

beforeAll(async () => {
  seller = await createExpressAccount(t, { outcome: 'verified', interval: 'manual' });
  unboarded = await createExpressAccount(t);
});

async function fails(p: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!e) throw new Error('expected the call to fail');
  return e as Stripe.errors.StripeError;
}

const line = { price_data: { currency: 'usd', unit_amount: 1_500, product_data: { name: 'Mug' } }, quantity: 1 };

describe('PaymentIntent validation', () => {
  it('rejects payment_method_types like API version endive does', async () => {
    const e = await fails(
      t.stripe.paymentIntents.create({ amount: 1_000, currency: 'usd', payment_method_types: ['card'] } as Stripe.PaymentIntentCreateParams),
    );
    expect(e.statusCode).toBe(400);
    expect(e.code).toBe('payment_method_types_no_longer_supported');
  });
  it('confirm=true without a payment method fails before anything is created', async () => {
    const before = (await t.stripe.paymentIntents.list({ limit: 100 })).data.length;
    const e = await fails(t.stripe.paymentIntents.create({ amount: 1_000, currency: 'usd', confirm: true }));
    expect(e.statusCode).toBe(400);
    expect(e.code).toBe('payment_intent_unexpected_state');
    expect((await t.stripe.paymentIntents.list({ limit: 100 })).data.length).toBe(before);
  });
  it('rejects unknown parameters', async () => {
    const e = await fails(
      t.stripe.paymentIntents.create({
        amount: 1_000,
        currency: 'usd',
        transfer_data: { destination: seller.id, foo: 1 },
      } as unknown as Stripe.PaymentIntentCreateParams),
    );
    expect(e.code).toBe('parameter_unknown');
    expect(e.param).toBe('transfer_data[foo]');
  });
  it('enforces the minimum and maximum amounts', async () => {
    const small = await fails(t.stripe.paymentIntents.create({ amount: 49, currency: 'usd' }));
    expect(small.code).toBe('amount_too_small');
    expect(small.param).toBe('amount');
    const large = await fails(t.stripe.paymentIntents.create({ amount: 100_000_000, currency: 'usd' }));
    expect(large.code).toBe('amount_too_large');
    expect((await t.stripe.paymentIntents.create({ amount: 50, currency: 'usd' })).amount).toBe(50);
    expect((await t.stripe.paymentIntents.create({ amount: 99_999_999, currency: 'usd' })).amount).toBe(99_999_999);
  });
  it('rejects an application fee above the amount, or without a destination', async () => {
    const e = await fails(
      t.stripe.paymentIntents.create({ amount: 1_000, currency: 'usd', application_fee_amount: 1_001, transfer_data: { destination: seller.id } }),
    );
    expect(e.statusCode).toBe(400);
    expect(e.param).toBe('application_fee_amount');
    const noDest = await fails(t.stripe.paymentIntents.create({ amount: 1_000, currency: 'usd', application_fee_amount: 100 }));
    expect(noDest.param).toBe('application_fee_amount');
    expect(noDest.message).toContain('transfer_data[destination]');
  });
  it('rejects a missing destination and one without an active transfers capability', async () => {
    const missing = await fails(t.stripe.paymentIntents.create({ amount: 1_000, currency: 'usd', transfer_data: { destination: 'acct_doesnotexist' } }));
    expect(missing.code).toBe('resource_missing');
    expect(missing.param).toBe('transfer_data[destination]');
    const cap = await fails(t.stripe.paymentIntents.create({ amount: 1_000, currency: 'usd', transfer_data: { destination: unboarded.id } }));
    expect(cap.statusCode).toBe(400);
    expect(cap.code).toBe('insufficient_capabilities_for_transfer');
    expect(cap.param).toBe('transfer_data[destination]');
    const tr = await fails(t.stripe.transfers.create({ amount: 100, currency: 'usd', destination: unboarded.id }));
    expect(tr.code).toBe('insufficient_capabilities_for_transfer');
  });
});

describe('PaymentIntent lifecycle', () => {
  it('create → update → confirm → expand latest_charge.balance_transaction; re-confirm fails', async () => {
    const pi = await t.stripe.paymentIntents.create({
      amount: 2_000,
      currency: 'usd',
      metadata: { order: '1' },
      description: 'Order 1',
      receipt_email: 'b@example.com',
    });
    expect(pi.status).toBe('requires_payment_method');
    expect(pi.client_secret).toMatch(new RegExp(`^${pi.id}_secret_`));
    expect(pi.automatic_payment_methods).toEqual({ allow_redirects: 'always', enabled: true });
    const upd = await t.stripe.paymentIntents.update(pi.id, { amount: 2_500, metadata: { extra: 'x' } });
    expect(upd.amount).toBe(2_500);
    expect(upd.metadata).toEqual({ order: '1', extra: 'x' });
    const done = await t.stripe.paymentIntents.confirm(pi.id, { payment_method: 'pm_card_visa', expand: ['latest_charge'] });
    expect(done.status).toBe('succeeded');
    expect((done.latest_charge as Stripe.Charge).object).toBe('charge');
    const again = await t.stripe.paymentIntents.retrieve(pi.id, { expand: ['latest_charge.balance_transaction', 'payment_method'] });
    const charge = again.latest_charge as Stripe.Charge;
    expect(charge.amount).toBe(2_500);
    expect(charge.receipt_url).toContain('/hosted/receipts/');
    expect((charge.balance_transaction as Stripe.BalanceTransaction).fee).toBe(Math.round(2_500 * 0.029) + 30);
    expect((again.payment_method as Stripe.PaymentMethod).card?.last4).toBe('4242');
    const e = await fails(t.stripe.paymentIntents.confirm(pi.id, { payment_method: 'pm_card_visa' }));
    expect(e.code).toBe('payment_intent_unexpected_state');
    const amountAfter = await fails(t.stripe.paymentIntents.update(pi.id, { amount: 100 }));
    expect(amountAfter.code).toBe('payment_intent_unexpected_state');
    const receipt = await fetch(String(charge.receipt_url));
    expect(await receipt.text()).toContain('$25.00');
  });

  it('manual capture: requires_capture → capture moves the money; cancel of a succeeded one fails', async () => {
    const pi = await t.stripe.paymentIntents.create({
      amount: 10_000,
      currency: 'usd',
      capture_method: 'manual',
      application_fee_amount: 1_000,
      transfer_data: { destination: seller.id },
      payment_method: 'pm_card_visa',
      confirm: true,
    });
    expect(pi.status).toBe('requires_capture');
    expect(pi.amount_capturable).toBe(10_000);
    const ch = await t.stripe.charges.retrieve(String(pi.latest_charge));
    expect(ch.captured).toBe(false);
    expect(ch.balance_transaction).toBeNull();
    const captured = await t.stripe.paymentIntents.capture(pi.id);
    expect(captured.status).toBe('succeeded');
    expect(captured.amount_received).toBe(10_000);
    const ch2 = await t.stripe.charges.retrieve(String(pi.latest_charge));
    expect(ch2.captured).toBe(true);
    expect(ch2.transfer).toMatch(/^tr_/);
    expect(ch2.application_fee).toMatch(/^fee_/);
    const e = await fails(t.stripe.paymentIntents.cancel(pi.id));
    expect(e.code).toBe('payment_intent_unexpected_state');
  });

  it('cancel emits payment_intent.canceled; list filters and paginates', async () => {
    const a = await t.stripe.paymentIntents.create({ amount: 1_000, currency: 'usd' });
    const canceled = await t.stripe.paymentIntents.cancel(a.id, { cancellation_reason: 'requested_by_customer' });
    expect(canceled.status).toBe('canceled');
    expect(canceled.cancellation_reason).toBe('requested_by_customer');
    const page = await t.stripe.paymentIntents.list({ limit: 2 });
    expect(page.data).toHaveLength(2);
    expect(page.has_more).toBe(true);
    expect(page.data[0]?.id).toBe(a.id);
    await t.flush();
    expect(t.receiver.events(t.stripe).some((ev) => ev.type === 'payment_intent.canceled' && ev.data.object.id === a.id)).toBe(true);
  });

  it('objects are scoped to their account', async () => {
    const pi = await t.stripe.paymentIntents.create({ amount: 1_000, currency: 'usd' });
    const e = await fails(t.stripeFor(seller.id).paymentIntents.retrieve(pi.id));
    expect(e.statusCode).toBe(404);
    expect(e.code).toBe('resource_missing');
  });

  it('idempotent replay of a confirm=true create returns the same PaymentIntent', async () => {
    const params: Stripe.PaymentIntentCreateParams = { amount: 3_000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true };
    const a = await t.stripe.paymentIntents.create(params, { idempotencyKey: 'order-idem-1' });
    const b = await t.stripe.paymentIntents.create(params, { idempotencyKey: 'order-idem-1' });
    expect(b.id).toBe(a.id);
    expect((await t.stripe.charges.list({ payment_intent: a.id })).data).toHaveLength(1);
  });
});

describe('Checkout Session API', () => {
  it('rejects ui_mode hosted, payment_method_types and out-of-range expires_at', async () => {
    const ui = await fails(
      t.stripe.checkout.sessions.create({
        mode: 'payment',
        ui_mode: 'hosted' as Stripe.Checkout.SessionCreateParams.UiMode,
        line_items: [line],
        success_url: 'https://s.example/ok',
      }),
    );
    expect(ui.statusCode).toBe(400);
    expect(ui.param).toBe('ui_mode');
    const pmt = await fails(
      t.stripe.checkout.sessions.create({ mode: 'payment', line_items: [line], payment_method_types: ['card'] } as Stripe.Checkout.SessionCreateParams),
    );
    expect(pmt.code).toBe('payment_method_types_no_longer_supported');
    const now = Math.floor(Date.now() / 1000);
    const soon = await fails(t.stripe.checkout.sessions.create({ mode: 'payment', line_items: [line], expires_at: now + 600 }));
    expect(soon.param).toBe('expires_at');
    const late = await fails(t.stripe.checkout.sessions.create({ mode: 'payment', line_items: [line], expires_at: now + 25 * 3600 }));
    expect(late.param).toBe('expires_at');
    const fee = await fails(
      t.stripe.checkout.sessions.create({
        mode: 'payment',
        line_items: [line],
        payment_intent_data: { application_fee_amount: 2_000, transfer_data: { destination: seller.id } },
      }),
    );
    expect(fee.param).toBe('payment_intent_data[application_fee_amount]');
    const cap = await fails(
      t.stripe.checkout.sessions.create({ mode: 'payment', line_items: [line], payment_intent_data: { transfer_data: { destination: unboarded.id } } }),
    );
    expect(cap.code).toBe('insufficient_capabilities_for_transfer');
  });

  it('retrieve, list, line items, expire', async () => {
    const s = await t.stripe.checkout.sessions.create({
      mode: 'payment',
      ui_mode: 'hosted_page',
      line_items: [line, { ...line, quantity: 2 }],
      success_url: 'https://s.example/ok',
      metadata: { k: 'v' },
    });
    expect(s.object).toBe('checkout.session');
    expect(s.status).toBe('open');
    expect(s.payment_status).toBe('unpaid');
    expect(s.amount_total).toBe(4_500);
    expect(s.payment_intent).toBeNull();
    expect(s.expires_at - s.created).toBe(24 * 3600);
    const items = await t.stripe.checkout.sessions.listLineItems(s.id, { limit: 1 });
    expect(items.data).toHaveLength(1);
    expect(items.has_more).toBe(true);
    expect(items.data[0]?.price?.unit_amount).toBe(1_500);
    const listed = await t.stripe.checkout.sessions.list({ limit: 5 });
    expect(listed.data.map((x) => x.id)).toContain(s.id);
    const expired = await t.stripe.checkout.sessions.expire(s.id);
    expect(expired.status).toBe('expired');
    expect(expired.url).toBeNull();
    const again = await fails(t.stripe.checkout.sessions.expire(s.id));
    expect(again.statusCode).toBe(400);
    const page = await fetch(`${t.url}/hosted/checkout/${s.id}`);
    expect(page.status).toBe(410);
  });

  it('expires when the clock passes expires_at (checkout.session.expired)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const probe = await t.stripe.paymentIntents.create({ amount: 1_000, currency: 'usd' });
    const offset = probe.created - now;
    const s = await t.stripe.checkout.sessions.create({ mode: 'payment', line_items: [line], expires_at: probe.created + 3600 });
    expect(offset).toBeGreaterThanOrEqual(0);
    await t.advance(3_601);
    const after = await t.stripe.checkout.sessions.retrieve(s.id);
    expect(after.status).toBe('expired');
    await t.flush();
    const evt = t.receiver.events(t.stripe).find((e) => e.type === 'checkout.session.expired' && e.data.object.id === s.id);
    expect(evt?.request).toEqual({ id: null, idempotency_key: null });
  });
});

describe('transfers, application fees, refunds API', () => {
  it('a transfer without source_transaction needs available funds (balance_insufficient), then works', async () => {
    const big = await fails(t.stripe.transfers.create({ amount: 99_000_000, currency: 'usd', destination: seller.id }));
    expect(big.code).toBe('balance_insufficient');
    await t.stripe.paymentIntents.create({ amount: 20_000, currency: 'usd', payment_method: 'pm_card_bypassPending', confirm: true });
    const tr = await t.stripe.transfers.create({ amount: 5_000, currency: 'usd', destination: seller.id, metadata: { why: 'bonus' } });
    expect(tr.amount).toBe(5_000);
    expect(tr.destination_payment).toMatch(/^py_/);
    const listed = await t.stripe.transfers.list({ destination: seller.id, limit: 100 });
    expect(listed.data.map((x) => x.id)).toContain(tr.id);
    const r1 = await t.stripe.transfers.createReversal(tr.id, { amount: 2_000 });
    const reversals = await t.stripe.transfers.listReversals(tr.id);
    expect(reversals.data.map((r) => r.id)).toEqual([r1.id]);
    const rest = await t.stripe.transfers.createReversal(tr.id);
    expect(rest.amount).toBe(3_000);
    const none = await fails(t.stripe.transfers.createReversal(tr.id, { amount: 1 }));
    expect(none.statusCode).toBe(400);
  });

  it('application fee refunds: partial, rest, then error', async () => {
    const pi = await t.stripe.paymentIntents.create({
      amount: 10_000,
      currency: 'usd',
      application_fee_amount: 1_000,
      transfer_data: { destination: seller.id },
      payment_method: 'pm_card_visa',
      confirm: true,
    });
    const fee = (await t.stripe.applicationFees.list({ charge: String(pi.latest_charge) })).data[0] as Stripe.ApplicationFee;
    expect(fee.amount).toBe(1_000);
    const fr = await t.stripe.applicationFees.createRefund(fee.id, { amount: 300 });
    expect(fr.amount).toBe(300);
    expect(fr.fee).toBe(fee.id);
    const fr2 = await t.stripe.applicationFees.createRefund(fee.id);
    expect(fr2.amount).toBe(700);
    expect((await t.stripe.applicationFees.retrieve(fee.id)).refunded).toBe(true);
    const e = await fails(t.stripe.applicationFees.createRefund(fee.id, { amount: 1 }));
    expect(e.statusCode).toBe(400);
  });

  it('refund update (metadata), list by payment_intent, cancel only from requires_action', async () => {
    const pi = await t.stripe.paymentIntents.create({ amount: 5_000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true });
    const r = await t.stripe.refunds.create({ payment_intent: pi.id, amount: 1_000, reason: 'requested_by_customer', metadata: { a: '1' } });
    expect(r.reason).toBe('requested_by_customer');
    const u = await t.stripe.refunds.update(r.id, { metadata: { b: '2' } });
    expect(u.metadata).toEqual({ a: '1', b: '2' });
    const list = await t.stripe.refunds.list({ payment_intent: pi.id });
    expect(list.data.map((x) => x.id)).toEqual([r.id]);
    const e = await fails(t.stripe.refunds.cancel(r.id));
    expect(e.statusCode).toBe(400);
    const noCharge = await fails(t.stripe.refunds.create({ payment_intent: (await t.stripe.paymentIntents.create({ amount: 1_000, currency: 'usd' })).id }));
    expect(noCharge.statusCode).toBe(400);
  });
});

describe('asynchronous refund outcomes (events)', () => {
  it('pm_card_refundFail: succeeded, then refund.failed with a refund_failure credit; pm_card_pendingRefund: pending, then refund.updated', async () => {
    const failPi = await t.stripe.paymentIntents.create({ amount: 5_000, currency: 'usd', payment_method: 'pm_card_refundFail', confirm: true });
    const pendPi = await t.stripe.paymentIntents.create({ amount: 5_000, currency: 'usd', payment_method: 'pm_card_pendingRefund', confirm: true });
    const failing = await t.stripe.refunds.create({ payment_intent: failPi.id });
    const pending = await t.stripe.refunds.create({ payment_intent: pendPi.id });
    expect(failing.status).toBe('succeeded');
    expect(pending.status).toBe('pending');
    await t.advance(5);
    const failed = await t.stripe.refunds.retrieve(failing.id, { expand: ['failure_balance_transaction'] });
    expect(failed.status).toBe('failed');
    expect(failed.failure_reason).toBeTruthy();
    expect(failed.failure_balance_transaction).toMatchObject({ type: 'refund_failure', amount: 5_000 });
    expect((await t.stripe.charges.retrieve(String(failPi.latest_charge))).refunded).toBe(false);
    expect((await t.stripe.refunds.retrieve(pending.id)).status).toBe('succeeded');
    await t.flush();
    const events = t.receiver.events(t.stripe);
    const of = (id: string) => events.filter((e) => (e.data.object as { id?: string }).id === id).map((e) => e.type);
    expect(of(failing.id)).toEqual(expect.arrayContaining(['refund.created', 'refund.failed', 'refund.updated']));
    expect(of(pending.id)).toEqual(expect.arrayContaining(['refund.created', 'refund.updated']));
    const upd = events.find((e) => e.type === 'refund.updated' && e.data.object.id === pending.id);
    expect(upd?.data.previous_attributes).toMatchObject({ status: 'pending' });
  });
});

describe('payments control API', () => {
  it('opens a dispute on an existing charge and lists the test cards', async () => {
    const pi = await t.stripe.paymentIntents.create({ amount: 2_000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true });
    const d = await t.control<Stripe.Dispute>(`/_emulator/payments/charges/${String(pi.latest_charge)}/dispute`, { reason: 'product_not_received' });
    expect(d.reason).toBe('product_not_received');
    expect((await t.stripe.disputes.retrieve(d.id)).charge).toBe(pi.latest_charge);
    await expect(t.control(`/_emulator/payments/charges/${String(pi.latest_charge)}/dispute`, {})).rejects.toThrow(/already disputed/);
    const cards = await t.control<{ cards: Array<{ number: string }> }>('/_emulator/payments/test_cards');
    expect(cards.cards.map((c) => c.number)).toContain('4000000000000259');
  });
});

describe('Stripe.js stand-in', () => {
  it('serves the script', async () => {
    const res = await fetch(`${t.url}/js/v3.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('javascript');
    const js = await res.text();
    expect(js).toContain('window.Stripe = Stripe');
    expect(js).toContain('confirmPayment');
  });

  it('confirms with the publishable key + client secret; card data never needs the secret key', async () => {
    const pi = await t.stripe.paymentIntents.create({ amount: 4_000, currency: 'usd', application_fee_amount: 400, transfer_data: { destination: seller.id } });
    const post = (form: Record<string, string>) =>
      fetch(`${t.url}/hosted/js/payment_intents/${pi.id}/confirm`, { method: 'POST', body: new URLSearchParams(form) });
    const badKey = await post({ key: 'sk_test_x', client_secret: String(pi.client_secret), card_number: '4242424242424242' });
    expect(badKey.status).toBe(401);
    const badSecret = await post({ key: 'pk_test_x', client_secret: `${pi.id}_secret_nope`, card_number: '4242424242424242' });
    expect(badSecret.status).toBe(400);
    const declined = await post({
      key: 'pk_test_x',
      client_secret: String(pi.client_secret),
      card_number: '4000000000000002',
      return_url: 'https://shop.example/r',
    });
    expect(declined.status).toBe(402);
    expect(((await declined.json()) as { error: { decline_code: string } }).error.decline_code).toBe('generic_decline');
    const threeDS = await post({
      key: 'pk_test_x',
      client_secret: String(pi.client_secret),
      card_number: '4000000000003220',
      return_url: 'https://shop.example/r',
    });
    const body = (await threeDS.json()) as Stripe.PaymentIntent;
    expect(body.status).toBe('requires_action');
    expect(body.next_action?.redirect_to_url?.url).toContain('/hosted/3ds/');
    expect(threeDS.headers.get('access-control-allow-origin')).toBe('*');
    const get = await fetch(`${t.url}/hosted/js/payment_intents/${pi.id}?key=pk_test_x&client_secret=${encodeURIComponent(String(pi.client_secret))}`);
    expect(((await get.json()) as Stripe.PaymentIntent).status).toBe('requires_action');
    const ok = await post({
      key: 'pk_test_x',
      client_secret: String(pi.client_secret),
      card_number: '4242 4242 4242 4242',
      return_url: 'https://shop.example/r',
    });
    expect(((await ok.json()) as Stripe.PaymentIntent).status).toBe('succeeded');
  });
});
