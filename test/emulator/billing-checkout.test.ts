/**
 * Checkout Sessions in `subscription` and `setup` mode (issue #11 point 9, point 3): created
 * through the real SDK, completed on the hosted page stand-in by plain form posts (with the 3DS
 * challenge page where the card asks for it).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type Stripe from 'stripe';
import { createExpressAccount, useTestEmulator, monthlyPrice, platformEvents } from './helpers.ts';
import { hasTestId, press, visit, type PageResult } from './billing-pages.ts';

const t = useTestEmulator();
let seller: Stripe.Account;
let monthly: Stripe.Price;

beforeAll(async () => {
  seller = await createExpressAccount(t, { outcome: 'verified', interval: 'manual' });
  monthly = await monthlyPrice(t, 'Cheese club');
});

const SUCCESS = 'https://shop.example/done?cs={CHECKOUT_SESSION_ID}';

/** Submit the hosted Checkout page with a card number (and email). */
async function submit(session: Stripe.Checkout.Session, card: string, email = 'buyer@example.com'): Promise<PageResult> {
  const pageHtml = await visit(session.url ?? '');
  expect(hasTestId(pageHtml, 'pay')).toBe(true);
  return press(pageHtml, 'pay', { card_number: card, email });
}

/** On the 3DS challenge page: complete or fail it. */
async function challenge(at: PageResult, action: '3ds-complete' | '3ds-fail'): Promise<PageResult> {
  expect(hasTestId(at, action)).toBe(true);
  return press(at, action);
}

function subscriptionSession(extra: Partial<Stripe.Checkout.SessionCreateParams> = {}): Promise<Stripe.Checkout.Session> {
  return t.stripe.checkout.sessions.create({
    mode: 'subscription',
    ui_mode: 'hosted_page',
    line_items: [{ price: monthly.id, quantity: 1 }],
    success_url: SUCCESS,
    cancel_url: 'https://shop.example/cancel',
    ...extra,
  });
}

describe("Checkout mode: 'subscription'", () => {
  it('creates the destination subscription with the fee, its first invoice and payment; completed carries subscription and invoice', async () => {
    const customer = await t.stripe.customers.create({ email: 'club@example.com' });
    const session = await subscriptionSession({
      customer: customer.id,
      subscription_data: {
        transfer_data: { destination: seller.id },
        application_fee_percent: 10,
        on_behalf_of: seller.id,
        metadata: { seller_id: '7' },
        description: 'Cheese club',
      },
    });
    expect(session).toMatchObject({ mode: 'subscription', status: 'open', amount_total: 2000, subscription: null, invoice: null, payment_intent: null });
    const mark = t.receiver.received.length;
    const done = await submit(session, '4242 4242 4242 4242');
    expect(done.url).toBe(`https://shop.example/done?cs=${session.id}`);

    const completed = await t.stripe.checkout.sessions.retrieve(session.id);
    expect(completed).toMatchObject({ status: 'complete', payment_status: 'paid', customer: customer.id });
    const sub = await t.stripe.subscriptions.retrieve(String(completed.subscription));
    expect(sub).toMatchObject({
      status: 'active',
      customer: customer.id,
      application_fee_percent: 10,
      transfer_data: { destination: seller.id, amount_percent: null },
      on_behalf_of: seller.id,
      metadata: { seller_id: '7' },
      description: 'Cheese club',
      latest_invoice: completed.invoice,
    });
    // The card the buyer typed pays the renewals: it is the subscription's default and attached.
    const pms = await t.stripe.customers.listPaymentMethods(customer.id);
    expect(pms.data.map((p) => p.id)).toEqual([sub.default_payment_method]);

    const invoice = await t.stripe.invoices.retrieve(String(completed.invoice), { expand: ['payments.data.payment.payment_intent'] });
    expect(invoice).toMatchObject({ status: 'paid', amount_paid: 2000, billing_reason: 'subscription_create' });
    expect(invoice.parent?.subscription_details?.subscription).toBe(sub.id);
    const pi = invoice.payments?.data[0]?.payment.payment_intent as Stripe.PaymentIntent;
    const charge = await t.stripe.charges.retrieve(String(pi.latest_charge), { expand: ['transfer', 'application_fee'] });
    expect(charge.amount).toBe(2000);
    expect((charge.transfer as Stripe.Transfer).amount).toBe(2000);
    expect((charge.application_fee as Stripe.ApplicationFee).amount).toBe(200);

    const events = await platformEvents(t, { after: mark });
    const types: string[] = events.map((e) => e.type);
    const completedEvent = events.find((e) => e.type === 'checkout.session.completed');
    expect(completedEvent?.data.object).toMatchObject({ id: session.id, subscription: sub.id, invoice: invoice.id, payment_status: 'paid' });
    for (const type of ['customer.subscription.created', 'invoice.finalized', 'invoice.paid', 'invoice_payment.paid']) {
      expect(types.indexOf(type), type).toBeGreaterThanOrEqual(0);
      expect(types.indexOf(type), type).toBeLessThan(types.indexOf('checkout.session.completed'));
    }
    expect((await t.stripe.checkout.sessions.list({ subscription: sub.id })).data.map((s) => s.id)).toEqual([session.id]);
  });

  it('3155 authenticates on the challenge page; a failed challenge or a decline shows the error and a retry pays the same subscription', async () => {
    const session = await subscriptionSession({ customer_email: 'new@example.com' });
    const declined = await submit(session, '4000000000000002');
    expect(declined.status).toBe(402);
    expect(declined.html).toContain('Your card was declined.');

    const failed = await challenge(await submit(session, '4000002760003184'), '3ds-fail');
    expect(failed.url).toContain(`/hosted/checkout/${session.id}?error=`);
    expect(hasTestId(failed, 'error')).toBe(true);
    expect((await t.stripe.checkout.sessions.retrieve(session.id)).status).toBe('open');

    const challenged = await submit(session, '4000002500003155');
    const done = await challenge(challenged, '3ds-complete');
    expect(done.url).toBe(`https://shop.example/done?cs=${session.id}`);
    const completed = await t.stripe.checkout.sessions.retrieve(session.id);
    expect(completed.payment_status).toBe('paid');
    // A customer was created from the entered email; one subscription despite three attempts.
    const customer = await t.stripe.customers.retrieve(String(completed.customer));
    expect(customer).toMatchObject({ email: 'new@example.com' });
    const subs = await t.stripe.subscriptions.list({ customer: customer.id, status: 'all' });
    expect(subs.data.map((s) => [s.id, s.status])).toEqual([[completed.subscription, 'active']]);
    const invoice = await t.stripe.invoices.retrieve(String(completed.invoice));
    expect(invoice).toMatchObject({ status: 'paid', attempt_count: 3 });
  });

  it('a trial saves the card with a SetupIntent (3DS for 3155) and starts trialing with nothing paid', async () => {
    const customer = await t.stripe.customers.create({ email: 'trial@example.com' });
    const session = await subscriptionSession({ customer: customer.id, subscription_data: { trial_period_days: 14 } });
    expect(session.amount_total).toBe(0);
    const done = await challenge(await submit(session, '4000002500003155'), '3ds-complete');
    expect(done.url).toBe(`https://shop.example/done?cs=${session.id}`);
    const completed = await t.stripe.checkout.sessions.retrieve(session.id);
    expect(completed).toMatchObject({ status: 'complete', payment_status: 'no_payment_required' });
    const si = await t.stripe.setupIntents.retrieve(String(completed.setup_intent));
    expect(si).toMatchObject({ status: 'succeeded', customer: customer.id, usage: 'off_session' });
    const sub = await t.stripe.subscriptions.retrieve(String(completed.subscription));
    expect(sub).toMatchObject({ status: 'trialing', default_payment_method: si.payment_method });
    expect(sub.trial_end! - sub.trial_start!).toBe(14 * 86_400);
    expect(await t.stripe.invoices.retrieve(String(completed.invoice))).toMatchObject({ status: 'paid', amount_due: 0 });
  });

  it("payment_method_collection: 'if_required' with a trial collects no card; trial_end is kept as given", async () => {
    const customer = await t.stripe.customers.create({ email: 'nocard@example.com' });
    const now = Math.floor(Date.now() / 1000) + (await t.control<{ offset: number }>('/_emulator/clock')).offset;
    const trialEnd = now + 5 * 86_400;
    const session = await subscriptionSession({ customer: customer.id, payment_method_collection: 'if_required', subscription_data: { trial_end: trialEnd } });
    const done = await submit(session, '');
    expect(done.url).toBe(`https://shop.example/done?cs=${session.id}`);
    const completed = await t.stripe.checkout.sessions.retrieve(session.id);
    const sub = await t.stripe.subscriptions.retrieve(String(completed.subscription));
    expect(sub).toMatchObject({ status: 'trialing', trial_end: trialEnd, default_payment_method: null });
    expect(completed).toMatchObject({ payment_status: 'no_payment_required', setup_intent: null });
  });

  it('refuses payment_intent_data, one-time prices, short trials, a fee without a destination, and subscription_data in payment mode', async () => {
    const oneTimeProduct = await t.stripe.products.create({ name: 'Board' });
    const oneTime = await t.stripe.prices.create({ product: oneTimeProduct.id, currency: 'usd', unit_amount: 500 });
    const cases: Array<[Partial<Stripe.Checkout.SessionCreateParams>, string]> = [
      [{ payment_intent_data: { metadata: { a: 'b' } } }, 'payment_intent_data'],
      [{ line_items: [{ price: oneTime.id, quantity: 1 }] }, 'line_items[0][price]'],
      [{ subscription_data: { trial_period_days: 0 } }, 'subscription_data[trial_period_days]'],
      [{ subscription_data: { trial_end: Math.floor(Date.now() / 1000) + 3600 } }, 'subscription_data[trial_end]'],
      [{ subscription_data: { application_fee_percent: 10 } }, 'subscription_data[application_fee_percent]'],
      [{ subscription_data: { transfer_data: { destination: 'acct_nope' } } }, 'subscription_data[transfer_data][destination]'],
    ];
    for (const [extra, param] of cases) {
      const err = (await subscriptionSession(extra).catch((e: unknown) => e)) as Stripe.errors.StripeError;
      expect({ param: err.param, status: err.statusCode }, JSON.stringify(extra)).toEqual({ param, status: 400 });
    }
    const unknown = (await subscriptionSession({ subscription_data: { nope: 1 } as unknown as Stripe.Checkout.SessionCreateParams.SubscriptionData }).catch(
      (e: unknown) => e,
    )) as Stripe.errors.StripeError;
    expect(unknown.code).toBe('parameter_unknown');
    const inPayment = (await t.stripe.checkout.sessions
      .create({
        mode: 'payment',
        line_items: [{ quantity: 1, price_data: { currency: 'usd', unit_amount: 500, product_data: { name: 'Tea' } } }],
        subscription_data: { metadata: { a: 'b' } },
      })
      .catch((e: unknown) => e)) as Stripe.errors.StripeError;
    expect({ param: inPayment.param, message: inPayment.message }).toEqual({
      param: 'subscription_data',
      message: 'You can not pass `subscription_data` in `payment` mode.',
    });
  });
});

describe("Checkout mode: 'setup'", () => {
  it.each([
    ['3155', '4000002500003155'],
    ['3184', '4000002760003184'],
  ])('saves %s to the customer through a SetupIntent after 3DS; session.setup_intent is set', async (_label, card) => {
    const customer = await t.stripe.customers.create({ email: `setup-${card}@example.com` });
    const session = await t.stripe.checkout.sessions.create({
      mode: 'setup',
      currency: 'usd',
      customer: customer.id,
      setup_intent_data: { metadata: { buyer_id: '42' }, description: 'Card for later' },
      success_url: SUCCESS,
    });
    expect(session).toMatchObject({ mode: 'setup', amount_total: null, setup_intent: null, status: 'open' });
    const mark = t.receiver.received.length;
    const done = await challenge(await submit(session, card), '3ds-complete');
    expect(done.url).toBe(`https://shop.example/done?cs=${session.id}`);
    const completed = await t.stripe.checkout.sessions.retrieve(session.id);
    expect(completed).toMatchObject({ status: 'complete', payment_status: 'no_payment_required', subscription: null, invoice: null });
    const si = await t.stripe.setupIntents.retrieve(String(completed.setup_intent));
    expect(si).toMatchObject({ status: 'succeeded', customer: customer.id, metadata: { buyer_id: '42' }, description: 'Card for later' });
    const pms = await t.stripe.customers.listPaymentMethods(customer.id);
    expect(pms.data.map((p) => p.card?.last4)).toEqual([card.slice(-4)]);
    const events = await platformEvents(t, { after: mark });
    const types: string[] = events.map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining(['setup_intent.created', 'setup_intent.requires_action', 'payment_method.attached', 'setup_intent.succeeded']),
    );
    expect(types.indexOf('setup_intent.succeeded')).toBeLessThan(types.indexOf('checkout.session.completed'));
    expect(events.find((e) => e.type === 'checkout.session.completed')?.data.object).toMatchObject({ mode: 'setup', setup_intent: si.id });
  });

  it('4242 needs no challenge; a failed challenge stays on the page', async () => {
    const customer = await t.stripe.customers.create({ email: 'setup-plain@example.com' });
    const session = await t.stripe.checkout.sessions.create({ mode: 'setup', currency: 'usd', customer: customer.id, success_url: SUCCESS });
    const failed = await challenge(await submit(session, '4000002500003155'), '3ds-fail');
    expect(failed.url).toContain(`/hosted/checkout/${session.id}?error=`);
    const done = await submit(session, '4242424242424242');
    expect(done.url).toBe(`https://shop.example/done?cs=${session.id}`);
    const pms = await t.stripe.customers.listPaymentMethods(customer.id);
    expect(pms.data.map((p) => p.card?.last4)).toEqual(['4242']);
  });

  it('refuses line_items and a missing currency', async () => {
    const withItems = (await t.stripe.checkout.sessions
      .create({ mode: 'setup', currency: 'usd', line_items: [{ price: monthly.id, quantity: 1 }] })
      .catch((e: unknown) => e)) as Stripe.errors.StripeError;
    expect(withItems.message).toBe('You can not pass `line_items` in `setup` mode.');
    const noCurrency = (await t.stripe.checkout.sessions.create({ mode: 'setup' }).catch((e: unknown) => e)) as Stripe.errors.StripeError;
    expect({ status: noCurrency.statusCode, param: noCurrency.param }).toEqual({ status: 400, param: 'currency' });
  });
});

describe("Checkout mode: 'payment' with a customer's saved cards (issue #12)", () => {
  const oneOff = (customer: string, extra: Partial<Stripe.Checkout.SessionCreateParams> = {}): Promise<Stripe.Checkout.Session> =>
    t.stripe.checkout.sessions.create({
      mode: 'payment',
      customer,
      line_items: [{ quantity: 1, price_data: { currency: 'usd', unit_amount: 1500, product_data: { name: 'Jam' } } }],
      success_url: SUCCESS,
      ...extra,
    });

  it('"Save my card" attaches the card (allow_redisplay: always); the next session offers it and pays with it', async () => {
    const customer = await t.stripe.customers.create({ email: 'returning@example.com' });
    const first = await oneOff(customer.id, { saved_payment_method_options: { payment_method_save: 'enabled' } });
    expect(first.saved_payment_method_options).toEqual({
      allow_redisplay_filters: ['always'],
      payment_method_remove: 'disabled',
      payment_method_save: 'enabled',
    });
    const pageHtml = await visit(String(first.url));
    expect(hasTestId(pageHtml, 'save-card')).toBe(true);
    const done = await press(pageHtml, 'pay', { card_number: '4242424242424242', email: 'returning@example.com', save_card: 'yes' });
    expect(done.url).toBe(`https://shop.example/done?cs=${first.id}`);
    const pi = await t.stripe.paymentIntents.retrieve(String((await t.stripe.checkout.sessions.retrieve(first.id)).payment_intent));
    expect(pi).toMatchObject({ status: 'succeeded', setup_future_usage: 'off_session', customer: customer.id });
    const saved = await t.stripe.customers.listPaymentMethods(customer.id);
    expect(saved.data.map((p) => [p.id, p.allow_redisplay])).toEqual([[pi.payment_method, 'always']]);

    const second = await oneOff(customer.id);
    const again = await visit(String(second.url));
    expect(hasTestId(again, 'pay-saved-4242')).toBe(true);
    expect(hasTestId(again, 'save-card')).toBe(false);
    const paid = await press(again, 'pay-saved-4242');
    expect(paid.url).toBe(`https://shop.example/done?cs=${second.id}`);
    const secondPi = await t.stripe.paymentIntents.retrieve(String((await t.stripe.checkout.sessions.retrieve(second.id)).payment_intent));
    expect(secondPi).toMatchObject({ status: 'succeeded', payment_method: pi.payment_method });
  });

  it('payment_intent_data.setup_future_usage saves the card without consent to show it again; filters decide what is offered', async () => {
    const customer = await t.stripe.customers.create({ email: 'sfu@example.com' });
    const first = await oneOff(customer.id, { payment_intent_data: { setup_future_usage: 'off_session' } });
    await submit(first, '4242424242424242');
    const saved = await t.stripe.customers.listPaymentMethods(customer.id);
    expect(saved.data.map((p) => p.allow_redisplay)).toEqual(['unspecified']);
    expect(hasTestId(await visit(String((await oneOff(customer.id)).url)), 'saved-cards')).toBe(false);
    const filtered = await oneOff(customer.id, { saved_payment_method_options: { allow_redisplay_filters: ['always', 'unspecified'] } });
    expect(hasTestId(await visit(String(filtered.url)), 'pay-saved-4242')).toBe(true);
    // Another customer's session never offers it.
    const stranger = await t.stripe.customers.create({ email: 'stranger@example.com' });
    const theirs = await oneOff(stranger.id, { saved_payment_method_options: { allow_redisplay_filters: ['always', 'unspecified'] } });
    expect(hasTestId(await visit(String(theirs.url)), 'saved-cards')).toBe(false);
    const forged = await visit(String(theirs.url), { form: { saved_payment_method: String(saved.data[0]?.id) } });
    expect(forged.html).toContain('This saved card is not available.');
  });
});
