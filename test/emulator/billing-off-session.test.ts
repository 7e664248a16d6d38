/**
 * Saved cards charged off-session through the PaymentIntents API (destination charges), as the
 * Stripe test cards behave (docs.stripe.com/testing, "Authentication and setup"):
 * 3155 needs 3DS until set up, then pays off-session; 3184 needs it every time (402
 * `authentication_required`, then confirmable on-session); 0341 attaches and declines.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type Stripe from 'stripe';
import { createExpressAccount, useTestEmulator } from './helpers.ts';
import { press, visit } from './billing-pages.ts';

const t = useTestEmulator();
let seller: Stripe.Account;

beforeAll(async () => {
  seller = await createExpressAccount(t, { outcome: 'verified', interval: 'manual' });
});

async function savedCard(pm: string): Promise<{ customer: Stripe.Customer; pm: string }> {
  const customer = await t.stripe.customers.create({ email: 'offsession@example.com' });
  const si = await t.stripe.setupIntents.create({ customer: customer.id, payment_method: pm, confirm: true, return_url: 'https://shop.example/saved' });
  if (si.status === 'requires_action') await press(await visit(si.next_action?.redirect_to_url?.url ?? ''), '3ds-complete');
  const done = await t.stripe.setupIntents.retrieve(si.id);
  expect(done.status).toBe('succeeded');
  return { customer, pm: String(done.payment_method) };
}

function offSession(customer: string, pm: string, key?: string): Promise<Stripe.PaymentIntent> {
  return t.stripe.paymentIntents.create(
    {
      amount: 2000,
      currency: 'usd',
      customer,
      payment_method: pm,
      off_session: true,
      confirm: true,
      transfer_data: { destination: seller.id },
      application_fee_amount: 200,
    },
    key ? { idempotencyKey: key } : {},
  );
}

describe('off-session payments with a saved card', () => {
  it('3155: authenticated once with a SetupIntent, then paid off-session without 3DS', async () => {
    const { customer, pm } = await savedCard('pm_card_authenticationRequiredOnSetup');
    const pi = await offSession(customer.id, pm, 'order-1-charge');
    expect(pi.status).toBe('succeeded');
    const charge = await t.stripe.charges.retrieve(String(pi.latest_charge));
    expect(charge).toMatchObject({ amount: 2000, application_fee_amount: 200, customer: customer.id, payment_method: pm });
    // On-session the same card still asks for 3DS.
    const onSession = await t.stripe.paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      customer: customer.id,
      payment_method: pm,
      confirm: true,
      return_url: 'https://shop.example/r',
    });
    expect(onSession.status).toBe('requires_action');
  });

  it('3155 never set up: off-session fails with 402 authentication_required', async () => {
    const customer = await t.stripe.customers.create({ email: 'notsetup@example.com' });
    const pm = await t.stripe.paymentMethods.attach('pm_card_authenticationRequiredOnSetup', { customer: customer.id });
    await expect(offSession(customer.id, pm.id)).rejects.toMatchObject({ statusCode: 402, code: 'authentication_required' });
  });

  it('3184: 402 authentication_required carrying the PaymentIntent, which the buyer confirms on-session through 3DS', async () => {
    const { customer, pm } = await savedCard('pm_card_authenticationRequired');
    const err = (await offSession(customer.id, pm).catch((e: unknown) => e)) as Stripe.errors.StripeCardError;
    expect(err.statusCode).toBe(402);
    expect(err.code).toBe('authentication_required');
    expect(err.decline_code).toBe('authentication_required');
    const failed = err.payment_intent as Stripe.PaymentIntent;
    expect(failed.status).toBe('requires_payment_method');
    expect((failed.last_payment_error?.payment_method as Stripe.PaymentMethod).id).toBe(pm);
    const onSession = await t.stripe.paymentIntents.confirm(failed.id, { payment_method: pm, return_url: 'https://shop.example/back' });
    expect(onSession.status).toBe('requires_action');
    const back = await press(await visit(onSession.next_action?.redirect_to_url?.url ?? ''), '3ds-complete');
    expect(back.url).toContain('redirect_status=succeeded');
    expect((await t.stripe.paymentIntents.retrieve(failed.id)).status).toBe('succeeded');
  });

  it('0341 attaches, then every charge declines; a detached card cannot be charged', async () => {
    const { customer, pm } = await savedCard('pm_card_chargeCustomerFail');
    await expect(offSession(customer.id, pm)).rejects.toMatchObject({ statusCode: 402, code: 'card_declined' });
    const visa = await t.stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    await t.stripe.paymentMethods.detach(visa.id);
    await expect(offSession(customer.id, visa.id)).rejects.toMatchObject({ statusCode: 400, code: 'payment_method_unexpected_state' });
  });

  it('setup_future_usage: off_session attaches the card to the customer and sets it up', async () => {
    const customer = await t.stripe.customers.create({ email: 'sfu@example.com' });
    const pi = await t.stripe.paymentIntents.create({
      amount: 1500,
      currency: 'usd',
      customer: customer.id,
      payment_method: 'pm_card_authenticationRequiredOnSetup',
      setup_future_usage: 'off_session',
      confirm: true,
      return_url: 'https://shop.example/r',
    });
    expect(pi.setup_future_usage).toBe('off_session');
    await press(await visit(pi.next_action?.redirect_to_url?.url ?? ''), '3ds-complete');
    const paid = await t.stripe.paymentIntents.retrieve(pi.id);
    expect(paid.status).toBe('succeeded');
    const saved = await t.stripe.customers.listPaymentMethods(customer.id);
    expect(saved.data.map((p) => p.id)).toEqual([paid.payment_method]);
    expect((await offSession(customer.id, String(paid.payment_method))).status).toBe('succeeded');
  });

  it('refuses an unknown customer and off_session without confirm', async () => {
    await expect(t.stripe.paymentIntents.create({ amount: 1000, currency: 'usd', customer: 'cus_nope' })).rejects.toMatchObject({
      code: 'resource_missing',
      param: 'customer',
    });
    await expect(t.stripe.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method: 'pm_card_visa', off_session: true })).rejects.toMatchObject({
      param: 'off_session',
    });
  });
});
