/**
 * Every test card through PaymentIntent confirm (pm_card_* ids and typed numbers) and through the
 * hosted Checkout page (driven with plain HTTP form posts), including both 3DS outcomes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type Stripe from 'stripe';
import { createExpressAccount, useTestEmulator } from './helpers.ts';

const t = useTestEmulator();
let seller: Stripe.Account;

beforeAll(async () => {
  seller = await createExpressAccount(t, { outcome: 'verified', interval: 'manual' });
});

type Outcome = 'succeeded' | '3ds' | 'declined';
interface Case {
  number: string;
  pm?: string;
  outcome: Outcome;
  decline?: string;
  dispute?: { reason: string; status: string };
  available?: boolean;
  refund?: [string, string];
}
const CASES: Case[] = [
  { number: '4242424242424242', pm: 'pm_card_visa', outcome: 'succeeded' },
  { number: '4000002500003155', pm: 'pm_card_authenticationRequiredOnSetup', outcome: '3ds' },
  { number: '4000000000003220', pm: 'pm_card_threeDSecure2Required', outcome: '3ds' },
  { number: '4000002760003184', outcome: '3ds' },
  { number: '4000000000000002', pm: 'pm_card_visa_chargeDeclined', outcome: 'declined', decline: 'generic_decline' },
  { number: '4000000000009995', outcome: 'declined', decline: 'insufficient_funds' },
  { number: '4000000000000259', pm: 'pm_card_createDispute', outcome: 'succeeded', dispute: { reason: 'fraudulent', status: 'needs_response' } },
  { number: '4000000000002685', outcome: 'succeeded', dispute: { reason: 'product_not_received', status: 'needs_response' } },
  { number: '4000000000001976', outcome: 'succeeded', dispute: { reason: 'general', status: 'warning_needs_response' } },
  { number: '4000000000000077', pm: 'pm_card_bypassPending', outcome: 'succeeded', available: true },
  { number: '4000000000007726', outcome: 'succeeded', refund: ['pending', 'succeeded'] },
  { number: '4000000000005126', outcome: 'succeeded', refund: ['succeeded', 'failed'] },
];

async function pmFor(c: Case, viaNumber: boolean): Promise<string> {
  if (!viaNumber && c.pm) return c.pm;
  const pm = await t.stripe.paymentMethods.create({ type: 'card', card: { number: c.number, exp_month: 12, exp_year: 2034, cvc: '123' } });
  expect(pm.card?.last4).toBe(c.number.slice(-4));
  return pm.id;
}

async function newIntent(): Promise<Stripe.PaymentIntent> {
  return t.stripe.paymentIntents.create({ amount: 5_000, currency: 'usd', application_fee_amount: 500, transfer_data: { destination: seller.id } });
}

/** Follow one redirect by hand (plain HTTP, like a browser without JS). */
async function http(url: string, form?: Record<string, string>): Promise<{ status: number; location: string | null; body: string }> {
  const res = await fetch(url, {
    method: form ? 'POST' : 'GET',
    redirect: 'manual',
    ...(form ? { body: new URLSearchParams(form), headers: { 'content-type': 'application/x-www-form-urlencoded' } } : {}),
  });
  const loc = res.headers.get('location');
  return { status: res.status, location: loc ? new URL(loc, url).toString() : null, body: await res.text() };
}

function secretFromPage(body: string): string {
  const m = /name="client_secret" value="([^"]+)"/.exec(body);
  if (!m?.[1]) throw new Error('no client_secret in the 3DS page');
  return m[1];
}

/** After a successful payment: card-specific effects. */
async function checkEffects(c: Case, pi: Stripe.PaymentIntent): Promise<void> {
  const charge = await t.stripe.charges.retrieve(String(pi.latest_charge), { expand: ['balance_transaction'] });
  expect(charge.status).toBe('succeeded');
  expect(charge.payment_method_details?.card?.last4).toBe(c.number.slice(-4));
  expect(charge.payment_method_details?.card?.brand).toBe('visa');
  expect((charge.balance_transaction as Stripe.BalanceTransaction).status).toBe(c.available ? 'available' : 'pending');
  const disputes = await t.stripe.disputes.list({ charge: charge.id });
  if (c.dispute) {
    expect(disputes.data).toHaveLength(1);
    expect(disputes.data[0]).toMatchObject({ reason: c.dispute.reason, status: c.dispute.status, amount: charge.amount });
    expect(charge.disputed).toBe(true);
  } else {
    expect(disputes.data).toHaveLength(0);
  }
  if (c.refund) {
    const r = await t.stripe.refunds.create({ charge: charge.id, amount: 1_000 });
    expect(r.status).toBe(c.refund[0]);
    await t.advance(60);
    const later = await t.stripe.refunds.retrieve(r.id);
    expect(later.status).toBe(c.refund[1]);
    const after = await t.stripe.charges.retrieve(charge.id);
    expect(after.amount_refunded).toBe(c.refund[1] === 'failed' ? 0 : 1_000);
    if (c.refund[1] === 'failed') expect(later.failure_balance_transaction).toMatch(/^txn_/);
  }
}

describe.each([false, true])('PaymentIntent confirm (typed number: %s)', (viaNumber) => {
  for (const c of CASES) {
    if (!viaNumber && !c.pm) continue;
    const label = viaNumber ? c.number : (c.pm ?? c.number);
    it(`${label} → ${c.outcome}`, async () => {
      const pi = await newIntent();
      const pm = await pmFor(c, viaNumber);
      if (c.outcome === 'declined') {
        const err = (await t.stripe.paymentIntents
          .confirm(pi.id, { payment_method: pm, return_url: 'https://shop.example/ret' })
          .catch((e: unknown) => e)) as Stripe.errors.StripeCardError;
        expect(err.statusCode).toBe(402);
        expect(err.rawType).toBe('card_error');
        expect(err.code).toBe('card_declined');
        expect(err.decline_code).toBe(c.decline);
        expect(err.payment_intent?.id).toBe(pi.id);
        const after = await t.stripe.paymentIntents.retrieve(pi.id);
        expect(after.status).toBe('requires_payment_method');
        expect(after.last_payment_error).toMatchObject({ code: 'card_declined', decline_code: c.decline, type: 'card_error' });
        const failed = await t.stripe.charges.retrieve(String(after.latest_charge));
        expect(failed.status).toBe('failed');
        // The buyer can try again with another card.
        const ok = await t.stripe.paymentIntents.confirm(pi.id, { payment_method: 'pm_card_visa' });
        expect(ok.status).toBe('succeeded');
        return;
      }
      const confirmed = await t.stripe.paymentIntents.confirm(pi.id, { payment_method: pm, return_url: 'https://shop.example/ret?order=1' });
      if (c.outcome === 'succeeded') {
        expect(confirmed.status).toBe('succeeded');
        await checkEffects(c, confirmed);
        return;
      }
      // 3DS: requires_action with a redirect to the emulator's challenge page.
      expect(confirmed.status).toBe('requires_action');
      expect(confirmed.next_action?.type).toBe('redirect_to_url');
      expect(confirmed.next_action?.redirect_to_url?.return_url).toBe('https://shop.example/ret?order=1');
      const url = String(confirmed.next_action?.redirect_to_url?.url);
      expect(url.startsWith(t.url)).toBe(true);
      const page = await http(url);
      expect(page.status).toBe(200);
      expect(page.body).toContain('Complete authentication');
      expect(page.body).toContain('Fail authentication');
      expect(page.body).toContain('Stripe emulator');

      // Fail first: back to return_url with redirect_status=failed.
      const failed = await http(`${t.url}/hosted/3ds/${pi.id}`, { client_secret: secretFromPage(page.body), action: 'fail' });
      expect(failed.status).toBe(303);
      const back = new URL(String(failed.location));
      expect(back.origin + back.pathname).toBe('https://shop.example/ret');
      expect(back.searchParams.get('order')).toBe('1');
      expect(back.searchParams.get('payment_intent')).toBe(pi.id);
      expect(back.searchParams.get('payment_intent_client_secret')).toBe(pi.client_secret);
      expect(back.searchParams.get('redirect_status')).toBe('failed');
      const afterFail = await t.stripe.paymentIntents.retrieve(pi.id);
      expect(afterFail.status).toBe('requires_payment_method');
      expect(afterFail.last_payment_error?.code).toBe('payment_intent_authentication_failure');

      // Then complete: succeeded.
      const again = await t.stripe.paymentIntents.confirm(pi.id, { payment_method: await pmFor(c, viaNumber), return_url: 'https://shop.example/ret' });
      expect(again.status).toBe('requires_action');
      const page2 = await http(String(again.next_action?.redirect_to_url?.url));
      const done = await http(`${t.url}/hosted/3ds/${pi.id}`, { client_secret: secretFromPage(page2.body), action: 'complete' });
      expect(done.status).toBe(303);
      expect(new URL(String(done.location)).searchParams.get('redirect_status')).toBe('succeeded');
      const succeeded = await t.stripe.paymentIntents.retrieve(pi.id);
      expect(succeeded.status).toBe('succeeded');
      const charge = await t.stripe.charges.retrieve(String(succeeded.latest_charge));
      expect(charge.payment_method_details?.card?.three_d_secure?.result).toBe('authenticated');
    });
  }
});

describe('hosted Checkout page', () => {
  async function session(extra: Partial<Stripe.Checkout.SessionCreateParams> = {}): Promise<Stripe.Checkout.Session> {
    return t.stripe.checkout.sessions.create({
      mode: 'payment',
      ui_mode: 'hosted_page',
      line_items: [
        { price_data: { currency: 'usd', unit_amount: 2_000, product_data: { name: 'Lamp', description: 'A lamp' } }, quantity: 2 },
        { price_data: { currency: 'usd', unit_amount: 1_000, product_data: { name: 'Bulb' } }, quantity: 1 },
      ],
      payment_intent_data: { application_fee_amount: 500, transfer_data: { destination: seller.id }, metadata: { order: 'o-1' } },
      success_url: 'https://shop.example/success?session={CHECKOUT_SESSION_ID}',
      cancel_url: 'https://shop.example/cancel',
      customer_email: 'buyer@example.com',
      client_reference_id: 'order-1',
      metadata: { order: 'o-1' },
      ...extra,
    });
  }
  const successFor = (s: Stripe.Checkout.Session): string => `https://shop.example/success?session=${s.id}`;

  for (const c of CASES) {
    it(`${c.number} → ${c.outcome}`, async () => {
      const s = await session();
      expect(s.url).toBe(`${t.url}/hosted/checkout/${s.id}`);
      const page = await http(String(s.url));
      expect(page.status).toBe(200);
      expect(page.body).toContain('Stripe emulator');
      expect(page.body).toContain('Lamp');
      expect(page.body).toContain('$50.00');
      const pay = await http(String(s.url), { email: 'buyer@example.com', card_number: c.number.replace(/(\d{4})/g, '$1 ').trim() });

      if (c.outcome === 'declined') {
        expect(pay.status).toBe(402);
        expect(pay.body).toContain(c.decline === 'insufficient_funds' ? 'Your card has insufficient funds.' : 'Your card was declined.');
        let open = await t.stripe.checkout.sessions.retrieve(s.id);
        expect(open.status).toBe('open');
        expect(open.payment_status).toBe('unpaid');
        const piId = String(open.payment_intent);
        const retry = await http(String(s.url), { email: 'buyer@example.com', card_number: '4242424242424242' });
        expect(retry.status).toBe(303);
        expect(retry.location).toBe(successFor(s));
        open = await t.stripe.checkout.sessions.retrieve(s.id);
        expect(open.status).toBe('complete');
        expect(open.payment_intent).toBe(piId); // the same PaymentIntent, retried
        return;
      }
      if (c.outcome === '3ds') {
        expect(pay.status).toBe(303);
        expect(String(pay.location)).toContain('/hosted/3ds/');
        const challenge = await http(String(pay.location));
        expect(challenge.body).toContain('Complete authentication');
        // Fail: back on the Checkout page with the error, session still open.
        const failed = await http(`${String(pay.location).split('?')[0]}`, { client_secret: secretFromPage(challenge.body), action: 'fail' });
        expect(String(failed.location).startsWith(`${t.url}/hosted/checkout/${s.id}/return?payment_intent=`)).toBe(true);
        const ret = await http(String(failed.location));
        expect(ret.status).toBe(303);
        const shown = await http(String(ret.location));
        expect(shown.body).toContain('failed authentication');
        expect((await t.stripe.checkout.sessions.retrieve(s.id)).status).toBe('open');
        // Pay again with the same card and complete the challenge.
        const pay2 = await http(String(s.url), { email: 'buyer@example.com', card_number: c.number });
        const challenge2 = await http(String(pay2.location));
        const done = await http(`${String(pay2.location).split('?')[0]}`, { client_secret: secretFromPage(challenge2.body), action: 'complete' });
        const ret2 = await http(String(done.location));
        expect(ret2.status).toBe(303);
        expect(ret2.location).toBe(successFor(s));
      } else {
        expect(pay.status).toBe(303);
        expect(pay.location).toBe(successFor(s));
      }
      const done = await t.stripe.checkout.sessions.retrieve(s.id, { expand: ['payment_intent', 'line_items'] });
      expect(done.status).toBe('complete');
      expect(done.payment_status).toBe('paid');
      expect(done.customer_details?.email).toBe('buyer@example.com');
      expect(done.line_items?.data.map((li) => [li.description, li.quantity, li.amount_total])).toEqual([
        ['Lamp', 2, 4_000],
        ['Bulb', 1, 1_000],
      ]);
      const pi = done.payment_intent as Stripe.PaymentIntent;
      expect(pi.status).toBe('succeeded');
      expect(pi.amount).toBe(5_000);
      expect(pi.application_fee_amount).toBe(500);
      expect(pi.transfer_data?.destination).toBe(seller.id);
      expect(pi.metadata).toEqual({ order: 'o-1' });
      await checkEffects(c, pi);
    });
  }

  it('Cancel goes to cancel_url; the session stays open', async () => {
    const s = await session();
    const res = await http(`${String(s.url)}/cancel`, {});
    expect(res.status).toBe(303);
    expect(res.location).toBe('https://shop.example/cancel');
    expect((await t.stripe.checkout.sessions.retrieve(s.id)).status).toBe('open');
  });

  it('emits checkout.session.completed for the platform', async () => {
    const s = await session();
    await http(String(s.url), { email: 'buyer@example.com', card_number: '4242424242424242' });
    await t.flush();
    const evt = t.receiver.events(t.stripe).find((e) => e.type === 'checkout.session.completed' && e.data.object.id === s.id);
    expect(evt).toBeDefined();
    expect(evt?.account).toBeUndefined();
    const obj = evt?.data.object as Stripe.Checkout.Session;
    expect(obj.payment_status).toBe('paid');
    expect(obj.client_reference_id).toBe('order-1');
  });
});
