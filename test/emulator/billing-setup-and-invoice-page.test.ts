/**
 * SetupIntents (saving cards, 3DS on the challenge page) and the hosted invoice page (paying
 * and authenticating a renewal that needs the buyer), through the real SDK and HTTP forms.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type Stripe from 'stripe';
import { createExpressAccount, useTestEmulator, monthlyPrice, platformEvents } from './helpers.ts';
import { hasTestId, press, visit } from './billing-pages.ts';

const t = useTestEmulator();
let seller: Stripe.Account;
let monthly: Stripe.Price;

beforeAll(async () => {
  seller = await createExpressAccount(t, { outcome: 'verified', interval: 'manual' });
  monthly = await monthlyPrice(t, 'Flowers');
});

/** Save a card with a SetupIntent, authenticating on the 3DS page when asked. */
async function saveCard(customer: string, pm: string): Promise<Stripe.SetupIntent> {
  const si = await t.stripe.setupIntents.create({
    customer,
    usage: 'off_session',
    automatic_payment_methods: { enabled: true },
    payment_method: pm,
    confirm: true,
    return_url: 'https://shop.example/saved',
  });
  if (si.status !== 'requires_action') return si;
  const challenge = await visit(si.next_action?.redirect_to_url?.url ?? '');
  expect(hasTestId(challenge, '3ds-complete')).toBe(true);
  const back = await press(challenge, '3ds-complete');
  expect(back.url).toMatch(/^https:\/\/shop\.example\/saved\?setup_intent=seti_.+redirect_status=succeeded$/);
  return t.stripe.setupIntents.retrieve(si.id);
}

describe('SetupIntents', () => {
  it('saves 3155 after 3DS on the challenge page and attaches it to the customer', async () => {
    const customer = await t.stripe.customers.create({ email: 'setup@example.com' });
    const mark = t.receiver.received.length;
    const created = await t.stripe.setupIntents.create({
      customer: customer.id,
      usage: 'off_session',
      automatic_payment_methods: { enabled: true },
      metadata: { buyer_id: '9' },
    });
    expect(created).toMatchObject({ status: 'requires_payment_method', usage: 'off_session', customer: customer.id, metadata: { buyer_id: '9' } });
    expect(created.client_secret).toMatch(/^seti_.+_secret_/);
    const confirming = await t.stripe.setupIntents.confirm(created.id, {
      payment_method: 'pm_card_authenticationRequiredOnSetup',
      return_url: 'https://shop.example/saved',
    });
    expect(confirming.status).toBe('requires_action');
    expect(confirming.next_action?.type).toBe('redirect_to_url');
    const challenge = await visit(confirming.next_action?.redirect_to_url?.url ?? '');
    await press(challenge, '3ds-complete');
    const done = await t.stripe.setupIntents.retrieve(created.id);
    expect(done.status).toBe('succeeded');
    const pms = await t.stripe.customers.listPaymentMethods(customer.id);
    expect(pms.data.map((p) => p.id)).toContain(done.payment_method);
    const types = (
      await platformEvents(t, {
        after: mark,
        types: ['setup_intent.created', 'setup_intent.requires_action', 'setup_intent.succeeded', 'payment_method.attached'],
      })
    )
      .filter((e) => (e.data.object as { id: string }).id === created.id || (e.data.object as { id: string }).id === done.payment_method)
      .map((e) => e.type);
    expect(types).toEqual(['setup_intent.created', 'setup_intent.requires_action', 'payment_method.attached', 'setup_intent.succeeded']);
  });

  it('fails a declining card (402, setup_intent.setup_failed) and a failed challenge', async () => {
    const customer = await t.stripe.customers.create({ email: 'setupfail@example.com' });
    const si = await t.stripe.setupIntents.create({ customer: customer.id });
    await expect(t.stripe.setupIntents.confirm(si.id, { payment_method: 'pm_card_visa_chargeDeclined' })).rejects.toMatchObject({
      statusCode: 402,
      code: 'card_declined',
    });
    const after = await t.stripe.setupIntents.retrieve(si.id);
    expect(after.status).toBe('requires_payment_method');
    expect(after.last_setup_error?.code).toBe('card_declined');
    const threeDS = await t.stripe.setupIntents.confirm(si.id, { payment_method: 'pm_card_authenticationRequired', return_url: 'https://shop.example/saved' });
    const back = await press(await visit(threeDS.next_action?.redirect_to_url?.url ?? ''), '3ds-fail');
    expect(back.url).toContain('redirect_status=failed');
    expect(await t.stripe.setupIntents.retrieve(si.id)).toMatchObject({
      status: 'requires_payment_method',
      last_setup_error: { code: 'setup_intent_authentication_failure' },
    });
    expect((await t.stripe.customers.listPaymentMethods(customer.id)).data).toHaveLength(0);
    const canceled = await t.stripe.setupIntents.cancel(si.id, { cancellation_reason: 'abandoned' });
    expect(canceled.status).toBe('canceled');
  });

  it('refuses payment_method_types and unknown parameters', async () => {
    await expect(t.stripe.setupIntents.create({ payment_method_types: ['card'] } as Stripe.SetupIntentCreateParams)).rejects.toMatchObject({
      code: 'payment_method_types_no_longer_supported',
    });
    await expect(t.stripe.setupIntents.create({ bogus: true } as Stripe.SetupIntentCreateParams)).rejects.toMatchObject({ code: 'parameter_unknown' });
  });
});

describe('hosted invoice page', () => {
  it('3184 on a renewal → invoice.payment_action_required; authenticating on the hosted invoice page pays it', async () => {
    const customer = await t.stripe.customers.create({ email: 'sca@example.com' });
    const visa = await t.stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    await t.stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: visa.id } });
    const sub = await t.stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: monthly.id }],
      transfer_data: { destination: seller.id },
      application_fee_percent: 10,
    });
    expect(sub.status).toBe('active');
    // The buyer replaces the card with one that asks for authentication every time.
    const si = await saveCard(customer.id, 'pm_card_authenticationRequired');
    expect(si.status).toBe('succeeded');
    await t.stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: String(si.payment_method) } });

    const end = sub.items.data[0]?.current_period_end ?? 0;
    await t.flush();
    const mark = t.receiver.received.length;
    await t.control('/_emulator/clock/advance', { to: end + 3600 });
    const pastDue = await t.stripe.subscriptions.retrieve(sub.id, { expand: ['latest_invoice.confirmation_secret'] });
    expect(pastDue.status).toBe('past_due');
    const inv = pastDue.latest_invoice as Stripe.Invoice;
    expect(inv).toMatchObject({ status: 'open', attempt_count: 1, attempted: true, next_payment_attempt: null });
    expect(inv.confirmation_secret?.client_secret).toMatch(/^pi_/);
    const required = (await platformEvents(t, { after: mark, types: ['invoice.payment_action_required'] })).map((e) => (e.data.object as Stripe.Invoice).id);
    expect(required).toEqual([inv.id]);

    const invoicePage = await visit(inv.hosted_invoice_url ?? '');
    expect(hasTestId(invoicePage, 'needs-auth')).toBe(true);
    const challenge = await press(invoicePage, 'authenticate');
    expect(challenge.url).toContain('/hosted/3ds/');
    const back = await press(challenge, '3ds-complete');
    expect(back.url.startsWith(`${inv.hosted_invoice_url}?payment_intent=`)).toBe(true);
    expect(back.url).toContain('redirect_status=succeeded');
    expect(back.html).toContain('data-testid="status">paid<');

    const paid = await t.stripe.invoices.retrieve(inv.id, { expand: ['payments.data.payment.payment_intent.latest_charge'] });
    expect(paid).toMatchObject({ status: 'paid', amount_paid: 2000 });
    const charge = (paid.payments?.data[0]?.payment.payment_intent as Stripe.PaymentIntent).latest_charge as Stripe.Charge;
    expect(charge.application_fee_amount).toBe(200);
    expect(charge.transfer_data?.destination).toBe(seller.id);
    expect((await t.stripe.subscriptions.retrieve(sub.id)).status).toBe('active');
    expect((await platformEvents(t, { after: mark, types: ['invoice.paid'] })).map((e) => (e.data.object as Stripe.Invoice).id)).toContain(inv.id);
  });

  it('pays an open invoice with another card typed on the page', async () => {
    const customer = await t.stripe.customers.create({ email: 'page@example.com' });
    const sub = await t.stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: monthly.id }],
      payment_behavior: 'default_incomplete',
      expand: ['latest_invoice'],
    });
    const inv = sub.latest_invoice as Stripe.Invoice;
    const pageBefore = await visit(inv.hosted_invoice_url ?? '');
    expect(pageBefore.html).toContain('$20.00');
    const declined = await press(pageBefore, 'pay-with-card', { card_number: '4000000000000002' });
    expect(declined.status).toBe(402);
    expect(declined.html).toContain('Your card was declined.');
    const paidPage = await press(pageBefore, 'pay-with-card', { card_number: '4242 4242 4242 4242' });
    expect(paidPage.html).toContain('data-testid="status">paid<');
    expect((await t.stripe.subscriptions.retrieve(sub.id)).status).toBe('active');
    const pdf = await fetch(`${inv.hosted_invoice_url}/pdf`);
    expect(await pdf.text()).toContain(inv.number ?? 'none');
  });
});
