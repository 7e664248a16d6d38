/**
 * Subscriptions, their invoices and renewals on the emulator clock, through the real SDK.
 * Money: a 2 000 usd monthly price with a destination and a 10 % application fee is a
 * destination charge of 2 000 per invoice (transfer 2 000, application fee 200, Stripe fee
 * 2.9 % + 30 = 88 on the platform).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type Stripe from 'stripe';
import { createExpressAccount, useTestEmulator, monthlyPrice, platformEvents } from './helpers.ts';

const t = useTestEmulator();
let seller: Stripe.Account;
let monthly: Stripe.Price;

beforeAll(async () => {
  seller = await createExpressAccount(t, { outcome: 'verified', interval: 'manual' });
  monthly = await monthlyPrice(t, 'Veg box');
});

async function customerWithCard(pm = 'pm_card_visa'): Promise<{ customer: Stripe.Customer; pm: Stripe.PaymentMethod }> {
  const customer = await t.stripe.customers.create({ email: 'sub@example.com' });
  const card = await t.stripe.paymentMethods.attach(pm, { customer: customer.id });
  await t.stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: card.id } });
  return { customer, pm: card };
}

function itemPeriod(sub: Stripe.Subscription): { start: number; end: number } {
  const it = sub.items.data[0];
  if (!it) throw new Error('no item');
  return { start: it.current_period_start, end: it.current_period_end };
}

async function paidCharge(invoiceId: string): Promise<Stripe.Charge> {
  const inv = await t.stripe.invoices.retrieve(invoiceId, { expand: ['payments.data.payment.payment_intent'] });
  const payment = inv.payments?.data[0];
  const pi = payment?.payment.payment_intent as Stripe.PaymentIntent;
  return t.stripe.charges.retrieve(String(pi.latest_charge), { expand: ['balance_transaction', 'transfer', 'application_fee'] });
}

describe('a destination-charge subscription', () => {
  it('pays its first invoice and each renewal as a destination charge with the fee percentage', async () => {
    const { customer, pm } = await customerWithCard();
    const mark = t.receiver.received.length;
    const sub = await t.stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: monthly.id }],
      transfer_data: { destination: seller.id },
      application_fee_percent: 10,
      metadata: { seller_id: '7' },
      expand: ['latest_invoice'],
    });
    expect(sub.status).toBe('active');
    expect(sub.application_fee_percent).toBe(10);
    expect(sub.transfer_data).toEqual({ amount_percent: null, destination: seller.id });
    const first = sub.latest_invoice as Stripe.Invoice;
    expect(first).toMatchObject({
      status: 'paid',
      billing_reason: 'subscription_create',
      amount_due: 2000,
      amount_paid: 2000,
      total: 2000,
      customer: customer.id,
    });
    expect(first.parent?.subscription_details?.subscription).toBe(sub.id);
    expect(first.lines.data[0]?.parent?.subscription_item_details?.subscription_item).toBe(sub.items.data[0]?.id);
    expect(first.lines.data[0]?.description).toBe('1 × Veg box (at $20.00 / month)');
    expect(first.number).toMatch(/^[A-Z0-9]+-0001$/);
    expect('payment_intent' in first).toBe(false);

    const charge = await paidCharge(first.id);
    expect(charge.amount).toBe(2000);
    expect(charge.payment_method).toBe(pm.id);
    expect(charge.customer).toBe(customer.id);
    expect((charge.transfer as Stripe.Transfer).amount).toBe(2000);
    expect((charge.transfer as Stripe.Transfer).destination).toBe(seller.id);
    expect((charge.application_fee as Stripe.ApplicationFee).amount).toBe(200);
    expect((charge.balance_transaction as Stripe.BalanceTransaction).fee).toBe(88);

    const payments = await t.stripe.invoicePayments.list({ invoice: first.id });
    expect(payments.data).toHaveLength(1);
    expect(payments.data[0]).toMatchObject({
      status: 'paid',
      amount_paid: 2000,
      is_default: true,
      payment: { type: 'payment_intent', payment_intent: charge.payment_intent },
    });

    const types = (
      await platformEvents(t, {
        types: [
          'customer.subscription.created',
          'invoice.created',
          'invoice.finalized',
          'invoice.paid',
          'invoice.payment_succeeded',
          'invoice_payment.paid',
          'customer.subscription.updated',
        ],
        after: mark,
      })
    ).map((e) => e.type);
    expect(types).toEqual([
      'customer.subscription.created',
      'invoice.created',
      'invoice.finalized',
      'invoice_payment.paid',
      'invoice.paid',
      'invoice.payment_succeeded',
      'customer.subscription.updated',
    ]);

    // A month later: the renewal is created at the period end, charged an hour later.
    const period = itemPeriod(sub);
    const beforeRenewal = t.receiver.received.length;
    await t.control('/_emulator/clock/advance', { to: period.end + 3600 });
    const renewed = await t.stripe.subscriptions.retrieve(sub.id, { expand: ['latest_invoice'] });
    expect(renewed.status).toBe('active');
    expect(itemPeriod(renewed).start).toBe(period.end);
    expect(itemPeriod(renewed).end).toBeGreaterThan(period.end + 27 * 86_400);
    const second = renewed.latest_invoice as Stripe.Invoice;
    expect(second.id).not.toBe(first.id);
    expect(second).toMatchObject({ status: 'paid', billing_reason: 'subscription_cycle', amount_paid: 2000, number: first.number?.replace(/0001$/, '0002') });
    const renewalCharge = await paidCharge(second.id);
    expect((renewalCharge.transfer as Stripe.Transfer).amount).toBe(2000);
    expect((renewalCharge.application_fee as Stripe.ApplicationFee).amount).toBe(200);
    const updated = await platformEvents(t, { types: ['customer.subscription.updated'], after: beforeRenewal });
    const periodChange = updated.find((e) => (e.data.previous_attributes as { items?: unknown } | undefined)?.items !== undefined);
    expect(periodChange).toBeDefined();
    expect((await platformEvents(t, { types: ['invoice.paid'], after: beforeRenewal })).map((e) => (e.data.object as Stripe.Invoice).id)).toEqual([second.id]);
  });

  it('refunds an invoice charge like a one-off destination charge (reverse_transfer, refund_application_fee)', async () => {
    const { customer } = await customerWithCard();
    const sub = await t.stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: monthly.id }],
      transfer_data: { destination: seller.id },
      application_fee_percent: 10,
    });
    const charge = await paidCharge(String(sub.latest_invoice));
    const refund = await t.stripe.refunds.create({ charge: charge.id, amount: 1000, reverse_transfer: true, refund_application_fee: true });
    expect(refund.status).toBe('succeeded');
    const after = await t.stripe.charges.retrieve(charge.id, { expand: ['transfer', 'application_fee'] });
    expect(after.amount_refunded).toBe(1000);
    expect((after.transfer as Stripe.Transfer).amount_reversed).toBe(1000);
    expect((after.application_fee as Stripe.ApplicationFee).amount_refunded).toBe(100);
  });

  it('cancels at period end: stays active, then canceled with customer.subscription.deleted', async () => {
    const { customer } = await customerWithCard();
    const sub = await t.stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }] });
    const pending = await t.stripe.subscriptions.update(sub.id, { cancel_at_period_end: true });
    expect(pending).toMatchObject({ status: 'active', cancel_at_period_end: true, cancel_at: itemPeriod(sub).end });
    expect(pending.canceled_at).not.toBeNull();
    const mark = t.receiver.received.length;
    await t.control('/_emulator/clock/advance', { to: itemPeriod(sub).end + 10 });
    const ended = await t.stripe.subscriptions.retrieve(sub.id);
    expect(ended).toMatchObject({ status: 'canceled', ended_at: itemPeriod(sub).end + 10 });
    expect(ended.cancellation_details?.reason).toBe('cancellation_requested');
    const deleted = await platformEvents(t, { types: ['customer.subscription.deleted'], after: mark });
    expect(deleted.map((e) => (e.data.object as Stripe.Subscription).id)).toEqual([sub.id]);
    expect((await t.stripe.invoices.list({ subscription: sub.id })).data).toHaveLength(1);
  });

  it('one idempotency key → one subscription', async () => {
    const { customer } = await customerWithCard();
    const params: Stripe.SubscriptionCreateParams = {
      customer: customer.id,
      items: [{ price: monthly.id }],
      transfer_data: { destination: seller.id },
      application_fee_percent: 10,
    };
    const [a, b] = await Promise.allSettled([
      t.stripe.subscriptions.create(params, { idempotencyKey: 'sub-attempt-1' }),
      t.stripe.subscriptions.create(params, { idempotencyKey: 'sub-attempt-1' }),
    ]);
    const c = await t.stripe.subscriptions.create(params, { idempotencyKey: 'sub-attempt-1' });
    const ids = new Set([a, b].filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<Stripe.Subscription>).value.id));
    ids.add(c.id);
    expect(ids.size).toBe(1);
    const all = await t.stripe.subscriptions.list({ customer: customer.id, status: 'all' });
    expect(all.data).toHaveLength(1);
    expect((await t.stripe.invoices.list({ customer: customer.id })).data).toHaveLength(1);
  });
});

describe('payment_settings.payment_method_types', () => {
  // Refused as on Checkout, PaymentIntents and SetupIntents: payment methods are chosen dynamically.
  it('is refused with payment_method_types_no_longer_supported, whatever the types; the object still shows it as null', async () => {
    const customer = await t.stripe.customers.create({ email: 'types@example.com' });
    const base = { customer: customer.id, items: [{ price: monthly.id }], payment_behavior: 'default_incomplete' as const };
    for (const types of [['card'], ['sepa_debit']] as const) {
      await expect(t.stripe.subscriptions.create({ ...base, payment_settings: { payment_method_types: [...types] } })).rejects.toMatchObject({
        statusCode: 400,
        code: 'payment_method_types_no_longer_supported',
      });
    }
    const created = await t.stripe.subscriptions.create(base);
    expect(created.payment_settings?.payment_method_types).toBeNull();
    await expect(t.stripe.subscriptions.update(created.id, { payment_settings: { payment_method_types: ['card'] } })).rejects.toMatchObject({
      statusCode: 400,
      code: 'payment_method_types_no_longer_supported',
    });
  });
});

describe('subscription lifecycle', () => {
  it('default_incomplete exposes latest_invoice.confirmation_secret and stays incomplete; 23 h later it expires', async () => {
    const customer = await t.stripe.customers.create({ email: 'incomplete@example.com' });
    const sub = await t.stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: monthly.id }],
      payment_behavior: 'default_incomplete',
      payment_settings: { save_default_payment_method: 'on_subscription' },
      expand: ['latest_invoice.confirmation_secret'],
    });
    expect(sub.status).toBe('incomplete');
    const inv = sub.latest_invoice as Stripe.Invoice;
    expect(inv.status).toBe('open');
    expect(inv.confirmation_secret?.type).toBe('payment_intent');
    expect(inv.confirmation_secret?.client_secret).toMatch(/^pi_.+_secret_/);
    const plain = await t.stripe.invoices.retrieve(inv.id);
    expect('confirmation_secret' in plain).toBe(false);
    expect('payments' in plain).toBe(false);

    await expect(t.stripe.subscriptions.update(sub.id, { items: [{ id: sub.items.data[0]?.id ?? '', quantity: 2 }] })).rejects.toMatchObject({
      statusCode: 400,
    });
    const mark = t.receiver.received.length;
    await t.advance(23 * 3600 + 1);
    const expired = await t.stripe.subscriptions.retrieve(sub.id);
    expect(expired.status).toBe('incomplete_expired');
    expect((await t.stripe.invoices.retrieve(inv.id)).status).toBe('void');
    const mine = (await platformEvents(t, { types: ['invoice.voided', 'customer.subscription.updated'], after: mark })).filter((e) =>
      [sub.id, inv.id].includes((e.data.object as { id: string }).id),
    );
    expect(mine.map((e) => e.type)).toEqual(['invoice.voided', 'customer.subscription.updated']);
    expect(mine[1]?.data.previous_attributes).toMatchObject({ status: 'incomplete' });
    expect((await t.stripe.subscriptions.list({ customer: customer.id })).data).toHaveLength(0);
    expect((await t.stripe.subscriptions.list({ customer: customer.id, status: 'incomplete_expired' })).data).toHaveLength(1);
  });

  it('refuses a charge-automatically subscription without a payment method (allow_incomplete)', async () => {
    const customer = await t.stripe.customers.create({ email: 'nocard@example.com' });
    await expect(t.stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }] })).rejects.toMatchObject({ statusCode: 400 });
    expect((await t.stripe.subscriptions.list({ customer: customer.id, status: 'all' })).data).toHaveLength(0);
  });

  it('trials: trialing with a paid $0 invoice, trial_will_end 3 days before, then active and charged', async () => {
    const { customer } = await customerWithCard();
    const sub = await t.stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: monthly.id }],
      trial_period_days: 7,
      expand: ['latest_invoice'],
    });
    expect(sub.status).toBe('trialing');
    expect(sub.trial_end).toBe(sub.trial_start! + 7 * 86_400);
    expect(itemPeriod(sub).end).toBe(sub.trial_end);
    expect(sub.latest_invoice).toMatchObject({ status: 'paid', amount_due: 0, total: 0 });
    const mark = t.receiver.received.length;
    await t.control('/_emulator/clock/advance', { to: sub.trial_end! - 3 * 86_400 + 1 });
    expect(
      (await platformEvents(t, { types: ['customer.subscription.trial_will_end'], after: mark })).map((e) => (e.data.object as Stripe.Subscription).id),
    ).toEqual([sub.id]);
    await t.control('/_emulator/clock/advance', { to: sub.trial_end! + 3600 });
    const after = await t.stripe.subscriptions.retrieve(sub.id, { expand: ['latest_invoice'] });
    expect(after.status).toBe('active');
    expect(after.latest_invoice).toMatchObject({ status: 'paid', amount_paid: 2000, billing_reason: 'subscription_cycle' });
    expect(itemPeriod(after).start).toBe(sub.trial_end);
  });

  it('switches price with prorations on the next invoice, or invoiced now with always_invoice', async () => {
    const { customer } = await customerWithCard();
    const prod = await t.stripe.products.create({ name: 'Big box' });
    const big = await t.stripe.prices.create({ product: prod.id, currency: 'usd', unit_amount: 4000, recurring: { interval: 'month' } });
    const sub = await t.stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }] });
    const period = itemPeriod(sub);
    const half = period.start + Math.floor((period.end - period.start) / 2);
    await t.control('/_emulator/clock/advance', { to: half });
    const switched = await t.stripe.subscriptions.update(sub.id, {
      items: [{ id: sub.items.data[0]?.id ?? '', price: big.id }],
      proration_behavior: 'always_invoice',
      proration_date: half,
      expand: ['latest_invoice'],
    });
    expect(switched.items.data[0]?.price.id).toBe(big.id);
    expect(itemPeriod(switched)).toEqual(period);
    const inv = switched.latest_invoice as Stripe.Invoice;
    expect(inv.billing_reason).toBe('subscription_update');
    const prorations = inv.lines.data.filter((l) => l.parent?.subscription_item_details?.proration);
    expect(prorations).toHaveLength(2);
    const remaining = period.end - half;
    const length = period.end - period.start;
    const credit = -Math.floor((2000 * remaining * 2 + length) / (2 * length));
    const charge = Math.floor((4000 * remaining * 2 + length) / (2 * length));
    expect(prorations.map((l) => l.amount).sort((x, y) => x - y)).toEqual([credit, charge]);
    expect(inv).toMatchObject({ status: 'paid', amount_paid: credit + charge });

    const anchored = await t.stripe.subscriptions.update(sub.id, {
      items: [{ id: sub.items.data[0]?.id ?? '', price: monthly.id }],
      proration_behavior: 'none',
      billing_cycle_anchor: { type: 'now' },
      expand: ['latest_invoice'],
    });
    // Emulator time runs on from `half` with real time: the new anchor is "now", a moment later.
    expect(itemPeriod(anchored).start).toBeGreaterThanOrEqual(half);
    expect(itemPeriod(anchored).start).toBeLessThan(half + 3600);
    expect(anchored.billing_cycle_anchor).toBe(itemPeriod(anchored).start);
    expect(anchored.latest_invoice).toMatchObject({ status: 'paid', amount_paid: 2000, billing_reason: 'subscription_update' });
  });

  it('pauses (no renewal while paused) and resumes with a new period', async () => {
    const { customer } = await customerWithCard();
    const sub = await t.stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }] });
    const mark = t.receiver.received.length;
    const paused = await t.stripe.subscriptions.pause(sub.id, {});
    expect(paused.status).toBe('paused');
    expect(paused.status_details?.paused?.subscription.type).toBe('pause_requested');
    await t.control('/_emulator/clock/advance', { to: itemPeriod(sub).end + 7200 });
    expect((await t.stripe.invoices.list({ subscription: sub.id })).data).toHaveLength(1);
    const resumed = await t.stripe.subscriptions.resume(sub.id, { billing_cycle_anchor: { type: 'now' }, expand: ['latest_invoice'] });
    expect(resumed.status).toBe('active');
    expect(resumed.latest_invoice).toMatchObject({ status: 'paid', amount_paid: 2000 });
    const types = (await platformEvents(t, { types: ['customer.subscription.paused', 'customer.subscription.resumed'], after: mark })).map((e) => e.type);
    expect(types).toEqual(['customer.subscription.paused', 'customer.subscription.resumed']);
  });

  it('lists by customer, price and status; cancel now', async () => {
    const { customer } = await customerWithCard();
    const sub = await t.stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }] });
    expect((await t.stripe.subscriptions.list({ price: monthly.id, customer: customer.id })).data.map((s) => s.id)).toEqual([sub.id]);
    const canceled = await t.stripe.subscriptions.cancel(sub.id, { cancellation_details: { comment: 'moving away', feedback: 'other' } });
    expect(canceled).toMatchObject({
      status: 'canceled',
      cancellation_details: { comment: 'moving away', feedback: 'other', reason: 'cancellation_requested' },
    });
    expect((await t.stripe.subscriptions.list({ customer: customer.id })).data).toHaveLength(0);
    expect((await t.stripe.subscriptions.list({ customer: customer.id, status: 'canceled' })).data).toHaveLength(1);
    expect((await t.stripe.subscriptions.list({ customer: customer.id, status: 'all' })).data).toHaveLength(1);
    await expect(t.stripe.subscriptions.update(sub.id, { items: [{ price: monthly.id }] })).rejects.toMatchObject({ statusCode: 400 });
  });
});
