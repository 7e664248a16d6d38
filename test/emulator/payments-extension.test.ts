/**
 * The surface payments offers other resource modules (src/emulator/resources/payments/api.ts and
 * core.extendRoute), exercised as billing would: a small module registered next to payments adds
 * routes and hooks, and the real SDK drives them over HTTP.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import Stripe from 'stripe';
import { EmulatorCore } from '../../src/emulator/index.ts';
import { registerConnect } from '../../src/emulator/resources/connect/index.ts';
import { registerPayments } from '../../src/emulator/resources/payments/index.ts';
import {
  completeCheckoutSession,
  createCheckoutSession,
  createIntent,
  intentInternal,
  lineItem,
  type Payments,
} from '../../src/emulator/resources/payments/api.ts';
import { p, str } from '../../src/emulator/core/params.ts';
import { stripeAt } from './helpers.ts';

const RECURRING_PRICE: Stripe.Price = {
  id: 'price_test_monthly',
  object: 'price',
  active: true,
  billing_scheme: 'per_unit',
  created: 0,
  currency: 'usd',
  custom_unit_amount: null,
  livemode: false,
  lookup_key: null,
  metadata: {},
  nickname: null,
  product: 'prod_test_plan',
  recurring: { interval: 'month', interval_count: 1, meter: null, usage_type: 'licensed' } as Stripe.Price.Recurring,
  tax_behavior: 'unspecified',
  tiers_mode: null,
  transform_quantity: null,
  type: 'recurring',
  unit_amount: 1_200,
  unit_amount_decimal: null,
};

let core: EmulatorCore;
let pay: Payments;
let stripe: Stripe;
const succeeded: string[] = [];
const failed: string[] = [];

/** What a billing module does at registration, reduced to what these tests need. */
function registerFakeBilling(): void {
  core.route('POST', '/v1/test_invoices', { params: { amount: p.integer } }, (req) =>
    createIntent(pay, { account: req.account, amount: Number(req.params.amount), currency: 'usd', internal: { invoice: 'in_test_1' } }),
  );
  pay.hooks.intentSucceeded.push((pi) => succeeded.push(pi.id));
  pay.hooks.intentPaymentFailed.push((pi) => failed.push(pi.id));
  pay.priceLookup = (_account, id) => (id === RECURRING_PRICE.id ? { price: RECURRING_PRICE, productName: 'Monthly plan' } : undefined);
  core.extendRoute('POST', '/v1/checkout/sessions', { params: { subscription_data: { metadata: p.hash } } });
  pay.checkoutModes.set('subscription', {
    create: (req) =>
      createCheckoutSession(pay, req.account, {
        mode: 'subscription',
        lineItems: [lineItem(pay, RECURRING_PRICE, 'Monthly plan', 1)],
        currency: 'usd',
        successUrl: str(req.params, 'success_url') ?? null,
      }),
  });
  pay.hooks.checkoutCompleting.push((session) => {
    if (session.mode === 'subscription') session.subscription = 'sub_test_from_billing';
  });
}

beforeAll(async () => {
  core = new EmulatorCore({ port: 0 });
  registerConnect(core);
  pay = registerPayments(core);
  registerFakeBilling();
  await core.listen();
  stripe = stripeAt(core.url);
});
afterAll(async () => {
  await core.flushDeliveries();
  await core.stop();
});

describe('PaymentIntents for another module', () => {
  test('createIntent keeps private data the API never shows, and the hooks hear about success and failure', async () => {
    const created = await stripe.rawRequest('POST', '/v1/test_invoices', { amount: 2_000 });
    const id = String((created as unknown as { id: string }).id);
    expect(intentInternal(pay, id)).toMatchObject({ invoice: 'in_test_1' });
    expect(JSON.stringify(await stripe.paymentIntents.retrieve(id))).not.toContain('in_test_1');

    const paid = await stripe.paymentIntents.confirm(id, { payment_method: 'pm_card_visa' });
    expect(paid.status).toBe('succeeded');
    expect(succeeded).toContain(id);

    const declined = await stripe.paymentIntents.create({ amount: 900, currency: 'usd' });
    await expect(stripe.paymentIntents.confirm(declined.id, { payment_method: 'pm_card_visa_chargeDeclined' })).rejects.toBeInstanceOf(
      Stripe.errors.StripeCardError,
    );
    expect(failed).toContain(declined.id);
    expect(succeeded).not.toContain(declined.id);
  });
});

describe('Checkout Sessions for another module', () => {
  test('a payment-mode line item can name a Price the lookup knows; unknown prices are still refused', async () => {
    const s = await stripe.checkout.sessions.create({
      mode: 'payment',
      line_items: [{ price: RECURRING_PRICE.id, quantity: 3 }],
      success_url: 'https://shop.example/ok',
    });
    expect(s.amount_total).toBe(3_600);
    const items = await stripe.checkout.sessions.listLineItems(s.id);
    expect(items.data[0]).toMatchObject({ description: 'Monthly plan', quantity: 3, price: { id: RECURRING_PRICE.id } });
    const unknown = await stripe.checkout.sessions.create({ mode: 'payment', line_items: [{ price: 'price_nope', quantity: 1 }] }).catch((e: unknown) => e);
    expect((unknown as Stripe.errors.StripeError).param).toBe('line_items[0][price]');
  });

  test('a registered mode creates its sessions, accepts its extended params, and completes through the hosted page with the hook', async () => {
    const s = await stripe.checkout.sessions.create({
      mode: 'subscription',
      line_items: [{ price: RECURRING_PRICE.id, quantity: 1 }],
      subscription_data: { metadata: { plan: 'monthly' } },
      success_url: 'https://shop.example/ok?cs={CHECKOUT_SESSION_ID}',
    });
    expect(s).toMatchObject({ mode: 'subscription', amount_total: 1_200, status: 'open' });
    const page = await fetch(`${core.url}/hosted/checkout/${s.id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email: 'buyer@example.com', card_number: '4242424242424242' }),
      redirect: 'manual',
    });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe(`https://shop.example/ok?cs=${s.id}`);
    const done = await stripe.checkout.sessions.retrieve(s.id);
    expect(done).toMatchObject({ status: 'complete', payment_status: 'paid', subscription: 'sub_test_from_billing' });
    const completed = await stripe.events.list({ type: 'checkout.session.completed' });
    const event = completed.data.find((e) => (e.data.object as Stripe.Checkout.Session).id === s.id);
    expect((event?.data.object as Stripe.Checkout.Session).subscription).toBe('sub_test_from_billing');
  });

  test('without a registered mode, other modes are refused as before; a session with no PaymentIntent completes as no_payment_required', async () => {
    const setup = await stripe.checkout.sessions.create({ mode: 'setup', currency: 'usd' }).catch((e: unknown) => e);
    expect((setup as Stripe.errors.StripeError).param).toBe('mode');
    const session = createCheckoutSession(pay, core.platformAccount, { mode: 'setup', lineItems: [], currency: 'usd' });
    expect(completeCheckoutSession(pay, session.id)).toMatchObject({ status: 'complete', payment_status: 'no_payment_required' });
  });

  test('extendRoute refuses a route that does not exist', () => {
    expect(() => core.extendRoute('POST', '/v1/nothing_here', { params: {} })).toThrow(/no route/);
  });
});
