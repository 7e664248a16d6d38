// Issue 13 acceptance on the emulator's clock, renewals that go wrong and what buyers do about it:
// a 3184 renewal → "Action needed" with the hosted invoice link → authenticated there → active;
// a 0341 card → past due, explained → card fixed in the portal → the retry pays → active;
// cancel at period end (and undo) → canceled at the end; a plan's price change moving subscribers
// with prorations. Events reach our tables through the real endpoint, inbox and worker.
import { describe, expect, it } from 'vitest';
import { hasTestId, press, visit } from '../emulator/billing-pages.ts';
import { answerChallenge } from '../helpers/hosted-pages.ts';
import type { TestClient } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';
import { useSeller } from '../helpers/market.ts';
import { intentIdOf, invoiceRows, planFor, subscriptionIdFromPayUrl, subscriptionRow } from './harness.ts';

const h = useWorld({ webhooks: true, admin: true });
const seller = useSeller(h, { manualPayouts: true });

type Client = TestClient;

/** Subscribes through the custom flow, paying the first invoice with `paymentMethod` (3DS answered). */
async function subscribe(client: Client, planId: string, paymentMethod: string): Promise<string> {
  const response = await client.post(`/plans/${planId}/subscribe`, { flow: 'custom' });
  const id = subscriptionIdFromPayUrl(response.location);
  const secret = /data-client-secret="([^"]+)"/.exec((await client.get(response.location!)).body)![1]!;
  const intent = await h.stripe.paymentIntents.confirm(intentIdOf(secret), {
    payment_method: paymentMethod,
    return_url: `${h.baseUrl}/subscriptions/${id}/complete`,
  });
  if (intent.status === 'requires_action') await answerChallenge(intent.next_action!.redirect_to_url!.url!, 'complete');
  await h.settle();
  expect((await subscriptionRow(h, id)).status).toBe('active');
  return id;
}

async function advanceTo(unix: number): Promise<void> {
  await h.emu.control('POST', '/_emulator/clock/advance', { to: unix });
  await h.settle();
}

/** Our "Manage billing" button → the portal session URL (at the emulator). */
async function openPortal(client: Client, id: string): Promise<string> {
  const response = await client.post(`/subscriptions/${id}/portal`, {});
  expect(response.statusCode).toBe(303);
  expect(response.location).toContain('/hosted/portal/');
  return response.location!;
}

const cardOf = (page: string) => page.replace(/&amp;/g, '&');

describe('renewals that need the buyer', () => {
  it('3184: the renewal needs authentication → Action needed → the hosted invoice page → active', async () => {
    const plan = await planFor(h, seller, { amount: '20.00' });
    const buyer = await h.signIn('buyer');
    const id = await subscribe(buyer.client, plan.id, 'pm_card_authenticationRequired');
    const row = await subscriptionRow(h, id);
    await advanceTo(row.current_period_end!.getTime() / 1000 + 3700);
    expect((await subscriptionRow(h, id)).status).toBe('past_due');
    const page = await buyer.client.get('/subscriptions');
    expect(page.body).toContain('data-testid="action-needed"');
    const link = cardOf(/href="([^"]+)" data-testid="authenticate-link"/.exec(page.body)![1]!);
    const invoicePage = await visit(link);
    expect(hasTestId(invoicePage, 'authenticate')).toBe(true);
    const challenge = await press(invoicePage, 'authenticate');
    await press(await visit(challenge.url), '3ds-complete');
    await h.settle();
    expect((await subscriptionRow(h, id)).status).toBe('active');
    const invoices = await invoiceRows(h, id);
    expect(invoices.at(-1)).toMatchObject({ status: 'paid', billing_reason: 'subscription_cycle', action_required: false, application_fee_amount: 200 });
    expect((await buyer.client.get('/subscriptions')).body).not.toContain('data-testid="action-needed"');
  });

  it('0341: past due, explained → card fixed in the portal → the retry pays → active', async () => {
    const plan = await planFor(h, seller, { amount: '20.00' });
    const buyer = await h.signIn('buyer');
    const id = await subscribe(buyer.client, plan.id, 'pm_card_visa');
    // The buyer switches to a card that attaches but declines every charge.
    const swapped = await press(await visit(await openPortal(buyer.client, id)), 'add-card', { card_number: '4000000000000341' });
    expect(hasTestId(swapped, 'card-0341')).toBe(true);
    const row = await subscriptionRow(h, id);
    const firstTry = row.current_period_end!.getTime() / 1000 + 3700;
    await advanceTo(firstTry);
    expect((await subscriptionRow(h, id)).status).toBe('past_due');
    const failing = (await invoiceRows(h, id)).at(-1)!;
    expect(failing).toMatchObject({ status: 'open', attempt_count: 1, action_required: false });
    expect(failing.next_payment_attempt).not.toBeNull();
    const page = await buyer.client.get('/subscriptions');
    expect(page.body).toContain('data-testid="payment-failed"');
    expect(page.body).toContain('We will try your card again on');
    const { client: sellerClient } = await h.signIn('seller', seller.user.id);
    expect((await sellerClient.get('/seller/subscriptions')).body).toMatch(/data-testid="at-risk">\s*<li>/);

    await press(await visit(await openPortal(buyer.client, id)), 'add-card', { card_number: '4242424242424242' });
    await advanceTo(failing.next_payment_attempt!.getTime() / 1000 + 60);
    expect((await subscriptionRow(h, id)).status).toBe('active');
    expect(
      await h.database.db.selectFrom('invoices').select(['status', 'amount_paid', 'seller_net_amount']).where('id', '=', failing.id).executeTakeFirst(),
    ).toEqual({ status: 'paid', amount_paid: 2000, seller_net_amount: 1800 });
  });

  it('cancel at period end, undo, cancel again in the portal → canceled at the end', async () => {
    const plan = await planFor(h, seller, { amount: '20.00' });
    const buyer = await h.signIn('buyer');
    const id = await subscribe(buyer.client, plan.id, 'pm_card_visa');
    expect((await buyer.client.post(`/subscriptions/${id}/cancel`, {})).statusCode).toBe(303);
    expect((await subscriptionRow(h, id)).cancel_at_period_end).toBe(true);
    expect((await buyer.client.get('/subscriptions')).body).toContain('data-testid="ends"');
    expect((await buyer.client.post(`/subscriptions/${id}/resume`, {})).statusCode).toBe(303);
    expect((await subscriptionRow(h, id)).cancel_at_period_end).toBe(false);
    const stripeId = (await subscriptionRow(h, id)).stripe_subscription_id!;
    await press(await visit(await openPortal(buyer.client, id)), `cancel-${stripeId}`);
    await h.settle();
    const cancelling = await subscriptionRow(h, id);
    expect(cancelling).toMatchObject({ status: 'active', cancel_at_period_end: true });
    await advanceTo(cancelling.current_period_end!.getTime() / 1000 + 60);
    const ended = await subscriptionRow(h, id);
    expect(ended.status).toBe('canceled');
    expect(await invoiceRows(h, id)).toHaveLength(1);
    const { client: sellerClient } = await h.signIn('seller', seller.user.id);
    expect((await sellerClient.get('/seller/subscriptions')).body).toMatch(/data-testid="canceled-this-month">\s*<li>/);
  });

  it('a price change moves subscribers with prorations: the next invoice carries them, with the fee on the whole', async () => {
    const plan = await planFor(h, seller, { amount: '20.00' });
    const buyer = await h.signIn('buyer');
    const id = await subscribe(buyer.client, plan.id, 'pm_card_visa');
    const start = await subscriptionRow(h, id);
    // Half-way through the month the seller raises the price to 30.00 and moves subscribers.
    const half = (start.current_period_start!.getTime() + start.current_period_end!.getTime()) / 2000;
    await advanceTo(Math.floor(half));
    const { client: sellerClient } = await h.signIn('seller', seller.user.id);
    expect((await sellerClient.post(`/seller/plans/${plan.id}/price`, { amount: '30.00', move: 'create_prorations' })).statusCode).toBe(303);
    await h.settle();
    const moved = await subscriptionRow(h, id);
    const newPrice = (await h.database.db.selectFrom('plans').select('stripe_price_id').where('id', '=', plan.id).executeTakeFirstOrThrow()).stripe_price_id;
    expect(moved).toMatchObject({ stripe_price_id: newPrice, amount: 3000 });
    await advanceTo(start.current_period_end!.getTime() / 1000 + 3700);
    const renewal = (await invoiceRows(h, id)).at(-1)!;
    const lines = await h.stripe.invoices.listLineItems(renewal.id);
    expect(lines.data.some((l) => l.parent?.subscription_item_details?.proration === true)).toBe(true);
    // 30.00 for the new month plus about half of the 10.00 difference for the month just ended.
    expect(renewal.amount_paid).toBeGreaterThan(3000);
    expect(renewal.amount_paid).toBeLessThan(4000);
    expect(renewal).toMatchObject({ status: 'paid', application_fee_amount: Math.floor((renewal.amount_paid * 10 + 50) / 100) });
  });

  for (const outcome of ['cancel', 'unpaid'] as const) {
    it(`retries run out → ${outcome === 'cancel' ? 'canceled' : 'unpaid'} (Stripe's setting), shown to the buyer`, async () => {
      await h.emu.control('POST', '/_emulator/billing/settings', { subscription_after_retries: outcome });
      try {
        const plan = await planFor(h, seller, { amount: '20.00' });
        const buyer = await h.signIn('buyer');
        const id = await subscribe(buyer.client, plan.id, 'pm_card_visa');
        await press(await visit(await openPortal(buyer.client, id)), 'add-card', { card_number: '4000000000000341' });
        const end = (await subscriptionRow(h, id)).current_period_end!.getTime() / 1000;
        await advanceTo(end + 3700);
        expect((await subscriptionRow(h, id)).status).toBe('past_due');
        await advanceTo(end + 3700 + 15 * 86_400);
        const row = await subscriptionRow(h, id);
        expect(row.status).toBe(outcome === 'cancel' ? 'canceled' : 'unpaid');
        const page = await buyer.client.get('/subscriptions');
        expect(page.body).toContain(outcome === 'cancel' ? 'Canceled' : 'Unpaid: renewals are not being charged');
      } finally {
        await h.emu.control('POST', '/_emulator/billing/settings', { subscription_after_retries: 'cancel' });
      }
    });
  }
});
