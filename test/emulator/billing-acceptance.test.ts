/**
 * Issue #11 acceptance, in one scenario through the real SDK and the hosted stand-ins:
 * a buyer saves 3155 with a SetupIntent (3DS), subscribes to a 20.00/month price with a
 * destination and a 10 % application fee; the first invoice and the renewal a month later are
 * destination charges of 2 000 (transfer 2 000, application fee 200, balance transactions on both
 * sides); the card is swapped to 0341 in the portal, the next renewal fails (past_due, retries),
 * the card is fixed and the retry pays; the buyer cancels at period end in the portal and at the
 * period end the subscription is canceled with customer.subscription.deleted.
 *
 * Figures per invoice (payments money model, fees.ts): platform charge +2 000 (Stripe fee
 * 2.9 % + 30 = 88), transfer −2 000, application fee +200; seller payment +2 000 with the
 * application fee 200 taken (net 1 800).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type Stripe from 'stripe';
import { createExpressAccount, useTestEmulator, platformEvents } from './helpers.ts';
import { hasTestId, press, visit } from './billing-pages.ts';

const t = useTestEmulator();
let seller: Stripe.Account;

beforeAll(async () => {
  seller = await createExpressAccount(t, { outcome: 'verified', interval: 'manual' });
});

/** The invoice's charge, checked as a 2 000 destination charge with its money on both sides. */
async function expectDestinationCharge(invoiceId: string): Promise<void> {
  const invoice = await t.stripe.invoices.retrieve(invoiceId, { expand: ['payments.data.payment.payment_intent'] });
  expect(invoice).toMatchObject({ status: 'paid', amount_paid: 2000 });
  const paid = (invoice.payments?.data ?? []).filter((p) => p.status === 'paid');
  expect(paid).toHaveLength(1);
  const pi = paid[0]?.payment.payment_intent as Stripe.PaymentIntent;
  const charge = await t.stripe.charges.retrieve(String(pi.latest_charge), { expand: ['balance_transaction', 'transfer', 'application_fee'] });
  expect(charge).toMatchObject({ amount: 2000, status: 'succeeded', application_fee_amount: 200, transfer_data: { destination: seller.id } });
  const chargeTxn = charge.balance_transaction as Stripe.BalanceTransaction;
  expect(chargeTxn).toMatchObject({ type: 'charge', amount: 2000, fee: 88, net: 1912 });
  const transfer = charge.transfer as Stripe.Transfer;
  expect(transfer).toMatchObject({ amount: 2000, destination: seller.id, source_transaction: charge.id });
  expect(await t.stripe.balanceTransactions.retrieve(String(transfer.balance_transaction))).toMatchObject({ type: 'transfer', amount: -2000, net: -2000 });
  const fee = charge.application_fee as Stripe.ApplicationFee;
  expect(fee).toMatchObject({ amount: 200, account: seller.id, originating_transaction: charge.id });
  expect(await t.stripe.balanceTransactions.retrieve(String(fee.balance_transaction))).toMatchObject({ type: 'application_fee', amount: 200, net: 200 });
  const payment = await t.stripeFor(seller.id).charges.retrieve(String(transfer.destination_payment), { expand: ['balance_transaction'] });
  expect(payment.balance_transaction).toMatchObject({ type: 'payment', amount: 2000, fee: 200, net: 1800 });
}

function periodEnd(sub: Stripe.Subscription): number {
  return sub.items.data[0]?.current_period_end ?? 0;
}

describe('issue #11 acceptance', () => {
  it('3155 saved with 3DS, 20.00/month with destination and 10 % fee, renewals, dunning, portal card swap and cancel at period end', async () => {
    const product = await t.stripe.products.create({ name: 'Seller 7 membership' });
    const price = await t.stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 2000, recurring: { interval: 'month' } });
    const customer = await t.stripe.customers.create({ email: 'ada@example.com', name: 'Ada' });

    // 1. The buyer saves 3155 with a SetupIntent and authenticates on the 3DS page.
    const si = await t.stripe.setupIntents.create({
      customer: customer.id,
      usage: 'off_session',
      automatic_payment_methods: { enabled: true },
      payment_method: 'pm_card_authenticationRequiredOnSetup',
      confirm: true,
      return_url: 'https://shop.example/saved',
    });
    expect(si.status).toBe('requires_action');
    await press(await visit(si.next_action?.redirect_to_url?.url ?? ''), '3ds-complete');
    const saved = await t.stripe.setupIntents.retrieve(si.id);
    expect(saved.status).toBe('succeeded');
    const card3155 = String(saved.payment_method);
    await t.stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: card3155 } });

    // 2. Subscribe: 20.00/month, destination, 10 % fee; the first invoice is paid off-session.
    const sub = await t.stripe.subscriptions.create(
      { customer: customer.id, items: [{ price: price.id }], transfer_data: { destination: seller.id }, application_fee_percent: 10, off_session: true },
      { idempotencyKey: 'subscribe-ada-seller7' },
    );
    expect(sub.status).toBe('active');
    await expectDestinationCharge(String(sub.latest_invoice));

    // 3. A month later the renewal is paid off-session with the same figures.
    const firstEnd = periodEnd(sub);
    await t.control('/_emulator/clock/advance', { to: firstEnd + 3600 });
    const renewed = await t.stripe.subscriptions.retrieve(sub.id);
    expect(renewed.status).toBe('active');
    expect(renewed.latest_invoice).not.toBe(sub.latest_invoice);
    expect(renewed.items.data[0]?.current_period_start).toBe(firstEnd);
    await expectDestinationCharge(String(renewed.latest_invoice));

    // 4. In the portal the buyer swaps the card to 0341.
    const portal = await t.stripe.billingPortal.sessions.create({ customer: customer.id, return_url: 'https://shop.example/account' });
    const swapped = await press(await visit(portal.url), 'add-card', { card_number: '4000000000000341' });
    expect(hasTestId(swapped, 'card-0341')).toBe(true);
    const withNewCard = (await t.stripe.customers.retrieve(customer.id)) as Stripe.Customer;
    const card0341 = await t.stripe.paymentMethods.retrieve(String(withNewCard.invoice_settings.default_payment_method));
    expect(card0341.card?.last4).toBe('0341');

    // 5. The next renewal fails: past_due, invoice.payment_failed, a retry scheduled; the retry fails too.
    const secondEnd = periodEnd(renewed);
    await t.control('/_emulator/clock/advance', { to: secondEnd + 3600 });
    const pastDue = await t.stripe.subscriptions.retrieve(sub.id, { expand: ['latest_invoice'] });
    expect(pastDue.status).toBe('past_due');
    const failing = pastDue.latest_invoice as Stripe.Invoice;
    expect(failing).toMatchObject({ status: 'open', attempt_count: 1, billing_reason: 'subscription_cycle' });
    expect(failing.next_payment_attempt).toBe(secondEnd + 3600 + 86_400);
    expect((await platformEvents(t, { types: ['invoice.payment_failed'] })).map((e) => (e.data.object as Stripe.Invoice).id)).toContain(failing.id);
    await t.control('/_emulator/clock/advance', { to: secondEnd + 3600 + 86_400 });
    const retried = await t.stripe.invoices.retrieve(failing.id);
    expect(retried).toMatchObject({ status: 'open', attempt_count: 2, next_payment_attempt: secondEnd + 3600 + 3 * 86_400 });
    expect((await t.stripe.subscriptions.retrieve(sub.id)).status).toBe('past_due');

    // 6. The buyer fixes the card in the portal; the next retry pays it, with the same figures.
    const portal2 = await t.stripe.billingPortal.sessions.create({ customer: customer.id, return_url: 'https://shop.example/account' });
    await press(await visit(portal2.url), 'add-card', { card_number: '4242424242424242' });
    await t.control('/_emulator/clock/advance', { to: secondEnd + 3600 + 3 * 86_400 });
    const recovered = await t.stripe.subscriptions.retrieve(sub.id);
    expect(recovered.status).toBe('active');
    expect(recovered.latest_invoice).toBe(failing.id);
    expect((await t.stripe.invoices.retrieve(failing.id)).attempt_count).toBe(3);
    await expectDestinationCharge(failing.id);

    // 7. The buyer cancels at period end in the portal; at the period end the subscription ends.
    const portal3 = await t.stripe.billingPortal.sessions.create({ customer: customer.id, return_url: 'https://shop.example/account' });
    await press(await visit(portal3.url), `cancel-${sub.id}`);
    const cancelling = await t.stripe.subscriptions.retrieve(sub.id);
    expect(cancelling).toMatchObject({ status: 'active', cancel_at_period_end: true });
    const thirdEnd = periodEnd(cancelling);
    await t.control('/_emulator/clock/advance', { to: thirdEnd + 60 });
    const ended = await t.stripe.subscriptions.retrieve(sub.id);
    expect(ended.status).toBe('canceled');
    expect(ended.ended_at).toBeGreaterThanOrEqual(thirdEnd);
    const deleted = await platformEvents(t, { types: ['customer.subscription.deleted'] });
    expect(deleted.map((e) => (e.data.object as Stripe.Subscription).id)).toEqual([sub.id]);
    expect((deleted[0]?.data.object as Stripe.Subscription).status).toBe('canceled');
    // No invoice after the cancellation; 1 first + 2 renewals = 3 invoices.
    expect((await t.stripe.invoices.list({ subscription: sub.id })).data).toHaveLength(3);
  });
});
