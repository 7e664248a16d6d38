// Issue 15 point 6: a declined card (or a failed 3D Secure) on Stripe's hosted Checkout page does
// not end the order. Stripe keeps the session open and its page invites another card, so every
// event of the failed attempt is processed (as the worker would, a moment later) and the buyer
// then pays with 4242 on the same page: the order ends paid. The stock stays held meanwhile and
// goes back only when the session ends (here: it expires).
import { describe, expect, it } from 'vitest';
import { useWorld } from '../helpers/fixture.ts';
import { orderRow, outcomeOf, startCheckout, stockOf, transitionsOf, useEnabledSeller } from '../helpers/market.ts';
import { answerChallenge, localPath, payOnCheckoutPage } from '../helpers/hosted-pages.ts';

const w = useWorld({ webhooks: 'held' });
const seller = useEnabledSeller(w);

const checkout = (stock: number) => startCheckout(w, seller.sellerId, { price: 2500, stock });

/** The first attempt fails the way `card` fails; returns the reason Stripe's page showed. */
async function failFirstAttempt(sessionUrl: string, card: string): Promise<void> {
  const attempt = await payOnCheckoutPage(sessionUrl, card);
  if (card === '4000002500003155') {
    expect(attempt.location).toContain('/hosted/3ds/');
    const back = await answerChallenge(attempt.location!, 'fail');
    expect(back).toContain('/hosted/checkout/'); // back on Stripe's page, with the error shown
  } else {
    expect(attempt.status).toBe(402);
  }
}

describe('hosted Checkout: retry after a failed attempt on the same page', () => {
  for (const [card, code, reason] of [
    ['4000000000000002', 'generic_decline', 'Your card was declined.'],
    ['4000000000009995', 'insufficient_funds', 'Your card has insufficient funds.'],
    ['4000002500003155', 'payment_intent_authentication_failure', '3D Secure'],
  ] as const) {
    it(`${card} fails, every event is processed, then 4242 on the same page → paid`, async () => {
      const { listing, buyer, sessionUrl, orderId } = await checkout(3);
      await failFirstAttempt(sessionUrl, card);
      await w.events.run(); // what the webhook worker does about two seconds later

      const waiting = await orderRow(w.db, orderId);
      expect(waiting).toMatchObject({ status: 'pending', failure_code: code, stock_reserved: true });
      expect(waiting.failure_message).toContain(reason);
      expect(await stockOf(w.db, listing.id)).toBe(2);
      expect((await w.stripe.checkout.sessions.retrieve(waiting.stripe_checkout_session_id!)).status).toBe('open');
      // Our status page, if the buyer looks: not paid yet, why, and the way back to Stripe's page.
      const status = await buyer.client.get(`/orders/${orderId}/complete`);
      expect(outcomeOf(status.body)).toBe('Not paid yet');
      expect(status.body).toContain(reason);
      expect(status.body).toContain(`href="${sessionUrl}"`);
      expect(status.body).not.toContain('http-equiv="refresh"');

      const retry = await payOnCheckoutPage(sessionUrl, '4242424242424242');
      expect(retry.status).toBe(303);
      expect(localPath(retry.location!)).toContain(`/orders/${orderId}/complete?session_id=`);
      await w.events.run();
      const paid = await orderRow(w.db, orderId);
      expect(paid).toMatchObject({ status: 'paid', failure_code: null, failure_message: null, stock_reserved: true });
      expect(await stockOf(w.db, listing.id)).toBe(2);
      expect(outcomeOf((await buyer.client.get(localPath(retry.location!))).body)).toBe('Paid');
      expect(await transitionsOf(w.db, orderId)).toEqual([expect.objectContaining({ from_status: 'pending', to_status: 'paid' })]);
    });
  }

  it('the completion page read before the events (the buyer looks first) also leaves the session open', async () => {
    const { buyer, sessionUrl, orderId } = await checkout(2);
    await failFirstAttempt(sessionUrl, '4000000000000002');
    const status = await buyer.client.get(`/orders/${orderId}/complete`);
    expect(outcomeOf(status.body)).toBe('Not paid yet');
    await w.events.run();
    expect((await payOnCheckoutPage(sessionUrl, '4242424242424242')).status).toBe(303);
    await w.events.run();
    expect((await orderRow(w.db, orderId)).status).toBe('paid');
  });
});

// Last: it moves the emulator's clock past every session's expiry.
describe('the session ends', () => {
  it('a declined order whose session expires fails with its reason and gives its stock back', async () => {
    const { listing, buyer, sessionUrl, orderId } = await checkout(4);
    const untouched = await checkout(4);
    await failFirstAttempt(sessionUrl, '4000000000009995');
    await w.events.run();
    expect(await stockOf(w.db, listing.id)).toBe(3);
    await w.emu.advanceClock(2 * 3600);
    await w.events.run();
    expect(await orderRow(w.db, orderId)).toMatchObject({ status: 'payment_failed', failure_code: 'insufficient_funds', stock_reserved: false });
    expect(await stockOf(w.db, listing.id)).toBe(4);
    const page = await buyer.client.get(`/orders/${orderId}/complete`);
    expect(outcomeOf(page.body)).toBe('Payment failed');
    expect(page.body).toContain('Your card has insufficient funds.');
    // A session nobody tried to pay just ends canceled.
    expect(await orderRow(w.db, untouched.orderId)).toMatchObject({ status: 'canceled', stock_reserved: false });
    expect(await stockOf(w.db, untouched.listing.id)).toBe(4);
  });
});
