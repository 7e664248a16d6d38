// Issue 13, hosted Checkout in subscription mode: the session carries the seller as the
// subscription's transfer destination, the fee policy's percentage and the plan's trial; the
// completion page asks Stripe; a double submit reuses the one session; an abandoned session that
// expires leaves the subscription never started and the buyer free to subscribe again.
import { describe, expect, it } from 'vitest';
import { hasTestId, press, visit } from '../emulator/billing-pages.ts';
import { localPath, payOnCheckoutPage } from '../helpers/hosted-pages.ts';
import { useWorld } from '../helpers/fixture.ts';
import { useSeller } from '../helpers/market.ts';
import { invoiceRows, planFor, subscriptionIdFromPayUrl, subscriptionRow } from './harness.ts';

const h = useWorld({ webhooks: true, admin: true });
const seller = useSeller(h, { manualPayouts: true });

async function ourRowOfSession(sessionUrl: string): Promise<string> {
  const sessionId = new URL(sessionUrl).pathname.split('/').pop()!;
  return (await h.database.db.selectFrom('subscriptions').select('id').where('stripe_checkout_session_id', '=', sessionId).executeTakeFirstOrThrow()).id;
}

describe('hosted Checkout in subscription mode', () => {
  it("4242: paid on Stripe's page, back on our completion page, first invoice a destination charge with the 10 % fee", async () => {
    const plan = await planFor(h, seller, { amount: '20.00' });
    const buyer = await h.signIn('buyer');
    const first = await buyer.client.post(`/plans/${plan.id}/subscribe`, { flow: 'hosted' });
    expect(first.statusCode).toBe(303);
    const again = await buyer.client.post(`/plans/${plan.id}/subscribe`, { flow: 'hosted' });
    expect(again.location).toBe(first.location);
    expect((await h.emu.requests('/v1/checkout/sessions')).length).toBe(1);
    const id = await ourRowOfSession(first.location!);
    const session = await h.stripe.checkout.sessions.retrieve(new URL(first.location!).pathname.split('/').pop()!);
    expect(session).toMatchObject({ mode: 'subscription', client_reference_id: id });

    const paid = await payOnCheckoutPage(first.location!, '4242424242424242');
    expect(paid.location).toContain(`/subscriptions/${id}/complete`);
    const done = await buyer.client.get(localPath(paid.location!));
    expect(done.body).toContain('data-subscription-status="active"');
    await h.settle();
    const row = await subscriptionRow(h, id);
    expect(row.status).toBe('active');
    const sub = await h.stripe.subscriptions.retrieve(row.stripe_subscription_id!);
    expect(sub).toMatchObject({ application_fee_percent: 10, transfer_data: { destination: seller.accountId } });
    expect((await invoiceRows(h, id))[0]).toMatchObject({ status: 'paid', amount_paid: 2000, application_fee_amount: 200, seller_net_amount: 1800 });
  });

  it("3155 through the challenge on Stripe's page, with the plan's trial", async () => {
    const plan = await planFor(h, seller, { amount: '12.00', trialDays: 14 });
    const buyer = await h.signIn('buyer');
    const response = await buyer.client.post(`/plans/${plan.id}/subscribe`, { flow: 'hosted' });
    const id = await ourRowOfSession(response.location!);
    const paid = await payOnCheckoutPage(response.location!, '4000002500003155');
    // Stripe's page asks the bank (3D Secure) to set the card up for the renewals after the trial.
    const challenge = await visit(new URL(paid.location!, response.location).toString());
    expect(hasTestId(challenge, '3ds-complete')).toBe(true);
    const back = await press(challenge, '3ds-complete');
    expect(back.url).toContain(`/subscriptions/${id}/complete`);
    await h.settle();
    const row = await subscriptionRow(h, id);
    expect(row.status).toBe('trialing');
    expect(row.trial_end).not.toBeNull();
    await h.emu.control('POST', '/_emulator/clock/advance', { to: row.trial_end!.getTime() / 1000 + 3700 });
    await h.settle();
    expect((await subscriptionRow(h, id)).status).toBe('active');
    expect((await invoiceRows(h, id)).filter((i) => i.status === 'paid' && i.amount_paid === 1200)).toHaveLength(1);
  });

  it('an abandoned session expires: never started, and the buyer may subscribe again', async () => {
    const plan = await planFor(h, seller, { amount: '5.00' });
    const buyer = await h.signIn('buyer');
    const response = await buyer.client.post(`/plans/${plan.id}/subscribe`, { flow: 'hosted' });
    const id = await ourRowOfSession(response.location!);
    await h.emu.control('POST', '/_emulator/clock/advance', { hours: 25 });
    await h.settle();
    expect((await subscriptionRow(h, id)).status).toBe('incomplete_expired');
    const again = await buyer.client.post(`/plans/${plan.id}/subscribe`, { flow: 'custom' });
    expect(again.statusCode).toBe(303);
    expect(subscriptionIdFromPayUrl(again.location)).not.toBe(id);
  });
});
