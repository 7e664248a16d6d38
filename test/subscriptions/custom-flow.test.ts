// Issue 13 acceptance on the emulator's clock, custom flow: subscribe with 4242 → the first invoice
// is paid as a destination charge (transfer, 10 % application fee) with its breakdown shown to the
// seller → a month later it renews with the same figures. 3155 through the 3DS challenge. A trial
// that converts. Everything reaches our tables through signed webhooks, the inbox and the worker.
import { describe, expect, it } from 'vitest';
import { answerChallenge } from '../helpers/hosted-pages.ts';
import type { TestClient } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';
import { useSeller } from '../helpers/market.ts';
import { intentIdOf, invoiceRows, planFor, subscriptionIdFromPayUrl, subscriptionRow } from './harness.ts';

const h = useWorld({ webhooks: true, admin: true });
const seller = useSeller(h, { manualPayouts: true });

/** Presses "Subscribe with card on this site" and reads the pay page's client secret. */
async function startCustom(client: TestClient, planId: string) {
  const response = await client.post(`/plans/${planId}/subscribe`, { flow: 'custom' });
  expect(response.statusCode, response.body.slice(0, 400)).toBe(303);
  const id = subscriptionIdFromPayUrl(response.location);
  const page = await client.get(response.location!);
  const secret = /data-client-secret="([^"]+)"/.exec(page.body)?.[1];
  const kind = /data-kind="([^"]+)"/.exec(page.body)?.[1];
  return { id, secret: secret!, kind, page };
}

describe('custom flow on the emulator clock', () => {
  it('4242: first invoice paid with transfer and 10 % fee; renewed a month later with the same figures', async () => {
    const plan = await planFor(h, seller, { amount: '20.00' });
    const buyer = await h.signIn('buyer');
    const { id, secret, kind } = await startCustom(buyer.client, plan.id);
    expect(kind).toBe('payment');
    expect((await subscriptionRow(h, id)).status).toBe('incomplete');
    await h.stripe.paymentIntents.confirm(intentIdOf(secret), { payment_method: 'pm_card_visa' });
    await h.settle();
    const row = await subscriptionRow(h, id);
    expect(row).toMatchObject({ status: 'active', amount: 2000, fee_basis_points: 1000 });
    const sub = await h.stripe.subscriptions.retrieve(row.stripe_subscription_id!);
    expect(sub).toMatchObject({ application_fee_percent: 10, transfer_data: { destination: seller.accountId } });
    const [first] = await invoiceRows(h, id);
    expect(first).toMatchObject({ status: 'paid', amount_paid: 2000, application_fee_amount: 200, stripe_fee_amount: 88, seller_net_amount: 1800 });
    expect(first?.stripe_transfer_id).toMatch(/^tr_/);

    const { client: sellerClient } = await h.signIn('seller', seller.user.id);
    const view = await sellerClient.get('/seller/subscriptions');
    expect(view.body).toContain('$20.00');
    expect(view.body).toContain('$18.00');
    expect(view.body).toContain('$0.88');

    await h.emu.control('POST', '/_emulator/clock/advance', { to: sub.items.data[0]!.current_period_end + 3700 });
    await h.settle();
    const invoices = await invoiceRows(h, id);
    expect(invoices).toHaveLength(2);
    expect(invoices[1]).toMatchObject({
      status: 'paid',
      billing_reason: 'subscription_cycle',
      amount_paid: 2000,
      application_fee_amount: 200,
      stripe_fee_amount: 88,
      seller_net_amount: 1800,
    });
    const renewed = await subscriptionRow(h, id);
    expect(renewed.status).toBe('active');
    expect(renewed.current_period_start?.getTime()).toBe(sub.items.data[0]!.current_period_end * 1000);
    const list = await buyer.client.get('/subscriptions');
    expect(list.body).toContain('Renews on');
    expect(list.body).toContain(invoices[1]!.hosted_invoice_url!.replace(/&/g, '&amp;'));
  });

  it('3155: the first payment goes through the 3DS challenge', async () => {
    const plan = await planFor(h, seller, { amount: '15.00' });
    const buyer = await h.signIn('buyer');
    const { id, secret } = await startCustom(buyer.client, plan.id);
    const intent = await h.stripe.paymentIntents.confirm(intentIdOf(secret), {
      payment_method: 'pm_card_authenticationRequiredOnSetup',
      return_url: `${h.baseUrl}/subscriptions/${id}/complete`,
    });
    expect(intent.status).toBe('requires_action');
    const back = await answerChallenge(intent.next_action!.redirect_to_url!.url!, 'complete');
    expect(back).toContain(`/subscriptions/${id}/complete`);
    const done = await buyer.client.get(new URL(back).pathname + new URL(back).search);
    expect(done.body).toContain('data-subscription-status="active"');
    await h.settle();
    expect((await invoiceRows(h, id))[0]).toMatchObject({ status: 'paid', amount_paid: 1500, application_fee_amount: 150 });
  });

  it('a trial: the card is saved with a SetupIntent, the trial converts to a paid month', async () => {
    const plan = await planFor(h, seller, { amount: '9.00', trialDays: 7 });
    const buyer = await h.signIn('buyer');
    const { id, secret, kind } = await startCustom(buyer.client, plan.id);
    expect(kind).toBe('setup');
    expect((await subscriptionRow(h, id)).status).toBe('trialing');
    await h.stripe.setupIntents.confirm(secret.split('_secret_')[0]!, { payment_method: 'pm_card_visa' });
    // Stripe.js sends the buyer to the return URL: our completion page.
    expect((await buyer.client.get(`/subscriptions/${id}/complete`)).body).toContain('data-subscription-status="trialing"');
    await h.settle();
    const trialing = await subscriptionRow(h, id);
    expect(trialing.trial_end).not.toBeNull();
    await h.emu.control('POST', '/_emulator/clock/advance', { to: trialing.trial_end!.getTime() / 1000 + 3700 });
    await h.settle();
    const converted = await subscriptionRow(h, id);
    expect(converted.status).toBe('active');
    const paid = (await invoiceRows(h, id)).filter((i) => i.status === 'paid' && i.amount_paid === 900);
    expect(paid).toHaveLength(1);
    expect(paid[0]).toMatchObject({ application_fee_amount: 90, seller_net_amount: 810 });
  });

  it('a trial whose buyer saves the card and never comes back to our page still converts (setup_intent.succeeded)', async () => {
    const plan = await planFor(h, seller, { amount: '7.00', trialDays: 3 });
    const buyer = await h.signIn('buyer');
    const { id, secret } = await startCustom(buyer.client, plan.id);
    await h.stripe.setupIntents.confirm(secret.split('_secret_')[0]!, { payment_method: 'pm_card_visa' });
    await h.settle();
    const trialing = await subscriptionRow(h, id);
    await h.emu.control('POST', '/_emulator/clock/advance', { to: trialing.trial_end!.getTime() / 1000 + 3700 });
    await h.settle();
    expect((await subscriptionRow(h, id)).status).toBe('active');
    expect((await invoiceRows(h, id)).filter((i) => i.status === 'paid' && i.amount_paid === 700)).toHaveLength(1);
  });
});
