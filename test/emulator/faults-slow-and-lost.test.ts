/**
 * The faults that model a slow Stripe (`delay`) and a lost answer (`apply_then_drop`,
 * `apply_then_500`), through the real SDK. A lost answer is the dangerous one for money: Stripe
 * did the work, the caller does not know, and only a retry with the same Idempotency-Key is safe.
 */
import { afterEach, describe, expect, test } from 'vitest';
import Stripe from 'stripe';
import { useTestEmulator } from './helpers.ts';

interface RequestLog {
  data: Array<{ id: string; method: string; path: string; idempotency_key: string | null; status: number; fault?: string; replayed?: boolean }>;
}

const t = useTestEmulator();
afterEach(async () => {
  await t.control('/_emulator/faults', undefined, 'DELETE');
});

/** A succeeded 10 000 usd card payment on the platform, ready to be refunded. */
async function paidIntent(): Promise<Stripe.PaymentIntent> {
  return t.stripe.paymentIntents.create({
    amount: 10_000,
    currency: 'usd',
    payment_method: 'pm_card_visa',
    confirm: true,
    return_url: 'https://shop.example/return',
  });
}

async function refundsOf(pi: Stripe.PaymentIntent): Promise<Stripe.Refund[]> {
  return (await t.stripe.refunds.list({ payment_intent: pi.id, limit: 100 })).data;
}

async function postsTo(path: string): Promise<RequestLog['data']> {
  return (await t.control<RequestLog>(`/_emulator/requests?path=${encodeURIComponent(path)}`)).data.filter((r) => r.method === 'POST');
}

/** Events delivered to the webhook receiver (verified signatures) about one object. */
async function deliveredEventsAbout(id: string, type: string): Promise<Stripe.Event[]> {
  await t.flush();
  return t.receiver.events(t.stripe).filter((e) => e.type === type && (e.data.object as { id?: string }).id === id);
}

const line = { price_data: { currency: 'usd', unit_amount: 2_500, product_data: { name: 'Lamp' } }, quantity: 1 };

describe('delay: a slow Stripe', () => {
  test('the request waits holdMs, then is processed and answered normally', async () => {
    const holdMs = 1_500;
    await t.control('/_emulator/faults', { method: 'POST', path: '/v1/checkout/sessions', kind: 'delay', holdMs, count: 1 });
    const startedAt = Date.now();
    const session = await t.stripe.checkout.sessions.create(
      { mode: 'payment', line_items: [line], success_url: 'https://shop.example/ok' },
      { idempotencyKey: 'slow-session-1' },
    );
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(holdMs);
    expect(session.status).toBe('open');
    expect(session.amount_total).toBe(2_500);
    const [attempt] = (await postsTo('/v1/checkout/sessions')).slice(-1);
    expect(attempt).toMatchObject({ fault: 'delay', status: 200, idempotency_key: 'slow-session-1' });
    // Processed once: the retry with the same key is a replay, and the fault is used up.
    const again = await t.stripe.checkout.sessions.create(
      { mode: 'payment', line_items: [line], success_url: 'https://shop.example/ok' },
      { idempotencyKey: 'slow-session-1' },
    );
    expect(again.id).toBe(session.id);
    expect(again.lastResponse.headers['idempotent-replayed']).toBe('true');
  });

  test('a request held by a long delay goes on when the test releases it, and only then', async () => {
    const pi = await paidIntent();
    await t.control('/_emulator/faults', { method: 'POST', path: '/v1/refunds', kind: 'delay', holdMs: 600_000, count: 1 });
    let done = false;
    const held = t.stripe.refunds.create({ payment_intent: pi.id, amount: 700 }).then((r) => {
      done = true;
      return r;
    });
    await expect.poll(async () => (await postsTo('/v1/refunds')).some((r) => r.fault === 'delay' && r.status === 0), { interval: 20 }).toBe(true);
    expect(done).toBe(false);
    expect(await refundsOf(pi)).toEqual([]); // held before it is applied
    expect(await t.control('/_emulator/faults/release', {}, 'POST')).toEqual({ released: 1 });
    expect(await held).toMatchObject({ object: 'refund', amount: 700, status: 'succeeded' });
    expect(await t.control('/_emulator/faults/release', {}, 'POST')).toEqual({ released: 0 });
  });

  test('other requests are answered while a delayed one waits (the event loop is free)', async () => {
    const pi = await paidIntent();
    await t.control('/_emulator/faults', { method: 'POST', path: '/v1/refunds', kind: 'delay', holdMs: 3_000, count: 1 });
    let slowDone = false;
    const slow = t.stripe.refunds.create({ payment_intent: pi.id, amount: 1_000 }).then((r) => {
      slowDone = true;
      return r;
    });
    // Wait until the emulator has the delayed request, then use the emulator meanwhile.
    await expect.poll(async () => (await postsTo('/v1/refunds')).some((r) => r.fault === 'delay' && r.status === 0), { interval: 20 }).toBe(true);
    const session = await t.stripe.checkout.sessions.create({ mode: 'payment', line_items: [line], success_url: 'https://shop.example/ok' });
    const balance = await t.stripe.balance.retrieve();
    const other = await t.stripe.refunds.create({ payment_intent: pi.id, amount: 500 });
    expect(session.status).toBe('open');
    expect(balance.object).toBe('balance');
    expect(other.amount).toBe(500);
    expect(slowDone).toBe(false);
    const refund = await slow;
    expect(refund).toMatchObject({ object: 'refund', amount: 1_000, status: 'succeeded' });
    expect((await refundsOf(pi)).map((r) => r.amount).sort()).toEqual([1_000, 500].sort());
  });

  test('concurrent delayed requests wait side by side, not one after another', async () => {
    const holdMs = 1_000;
    const n = 12;
    await t.control('/_emulator/faults', { method: 'POST', path: '/v1/checkout/sessions', kind: 'delay', holdMs, count: n });
    const startedAt = Date.now();
    const sessions = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        t.stripe.checkout.sessions.create({ mode: 'payment', line_items: [line], success_url: 'https://shop.example/ok', metadata: { i: String(i) } }),
      ),
    );
    const elapsed = Date.now() - startedAt;
    expect(new Set(sessions.map((s) => s.id)).size).toBe(n);
    // One after another would take n × holdMs; side by side about one holdMs.
    expect(elapsed).toBeLessThan((n * holdMs) / 2);
    const delayed = (await postsTo('/v1/checkout/sessions')).filter((r) => r.fault === 'delay').slice(-n);
    expect(delayed.map((r) => r.status)).toEqual(Array.from({ length: n }, () => 200));
  });
});

describe('apply_then_500 and apply_then_drop: the work is done, the answer is lost', () => {
  test('apply_then_500: the SDK retries with its own key and gets the stored refund back, not a second refund', async () => {
    const pi = await paidIntent();
    await t.control('/_emulator/faults', { method: 'POST', path: '/v1/refunds', kind: 'apply_then_500', count: 1 });
    const refund = await t.client({ maxNetworkRetries: 2 }).refunds.create({ payment_intent: pi.id, amount: 2_000 });
    expect(refund.lastResponse.headers['idempotent-replayed']).toBe('true');
    const [lost, replayed] = (await postsTo('/v1/refunds')).slice(-2);
    expect(lost).toMatchObject({ fault: 'apply_then_500', status: 500 });
    expect(replayed).toMatchObject({ status: 200, replayed: true, idempotency_key: lost!.idempotency_key });
    expect((await refundsOf(pi)).map((r) => r.id)).toEqual([refund.id]);
    // Its effects happened once: one refund.created event, the charge refunded once.
    expect(await deliveredEventsAbout(refund.id, 'refund.created')).toHaveLength(1);
    expect((await t.stripe.charges.retrieve(String(pi.latest_charge))).amount_refunded).toBe(2_000);
  });

  test('apply_then_drop once: the SDK resends a reset connection with the same key and gets the stored refund', async () => {
    const pi = await paidIntent();
    await t.control('/_emulator/faults', { method: 'POST', path: '/v1/refunds', kind: 'apply_then_drop', count: 1 });
    // stripe-node resends once after a closed connection even with maxNetworkRetries 0.
    const refund = await t.client({ maxNetworkRetries: 0 }).refunds.create({ payment_intent: pi.id, amount: 2_500 });
    expect(refund.lastResponse.headers['idempotent-replayed']).toBe('true');
    const [lost, replayed] = (await postsTo('/v1/refunds')).slice(-2);
    expect(lost).toMatchObject({ fault: 'apply_then_drop', status: -1 });
    expect(replayed).toMatchObject({ status: 200, replayed: true, idempotency_key: lost!.idempotency_key });
    expect((await refundsOf(pi)).map((r) => r.id)).toEqual([refund.id]);
  });

  test('apply_then_drop twice: the caller sees a connection error, yet the refund exists; resending with its key replays it', async () => {
    const pi = await paidIntent();
    await t.control('/_emulator/faults', { method: 'POST', path: '/v1/refunds', kind: 'apply_then_drop', count: 2 });
    const noRetries = t.client({ maxNetworkRetries: 0 });
    const key = `refund-${pi.id}-1`;
    await expect(noRetries.refunds.create({ payment_intent: pi.id, amount: 3_000 }, { idempotencyKey: key })).rejects.toBeInstanceOf(
      Stripe.errors.StripeConnectionError,
    );
    const applied = await refundsOf(pi);
    expect(applied.map((r) => r.amount)).toEqual([3_000]);
    expect((await postsTo('/v1/refunds')).slice(-2)).toMatchObject([
      { fault: 'apply_then_drop', idempotency_key: key },
      { fault: 'apply_then_drop', idempotency_key: key, replayed: true },
    ]);

    const again = await noRetries.refunds.create({ payment_intent: pi.id, amount: 3_000 }, { idempotencyKey: key });
    expect(again.id).toBe(applied[0]!.id);
    expect(again.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(await refundsOf(pi)).toHaveLength(1);
    expect(await deliveredEventsAbout(again.id, 'refund.created')).toHaveLength(1);
  });

  // Without a key of its own, each call gets a fresh key from the SDK: "send again" is a new request.
  test.each([
    ['apply_then_drop', 2, Stripe.errors.StripeConnectionError],
    ['apply_then_500', 1, Stripe.errors.StripeAPIError],
  ] as const)("%s without the caller's own key: sending again makes a second refund", async (kind, count, errorClass) => {
    const pi = await paidIntent();
    await t.control('/_emulator/faults', { method: 'POST', path: '/v1/refunds', kind, count });
    const noRetries = t.client({ maxNetworkRetries: 0 });
    const lostAnswer = await noRetries.refunds.create({ payment_intent: pi.id, amount: 1_500 }).catch((e: unknown) => e);
    expect(lostAnswer).toBeInstanceOf(errorClass);
    await noRetries.refunds.create({ payment_intent: pi.id, amount: 1_500 });
    const refunds = await refundsOf(pi);
    expect(refunds.map((r) => r.amount)).toEqual([1_500, 1_500]);
    expect((await t.stripe.charges.retrieve(String(pi.latest_charge))).amount_refunded).toBe(3_000);
    const [first, second] = (await postsTo('/v1/refunds')).filter((r) => !r.replayed).slice(-2);
    expect(first!.idempotency_key).not.toBe(second!.idempotency_key);
  });

  test('apply_then_drop on Checkout Session create: the same key → the same session; a new call → a second session', async () => {
    const noRetries = t.client({ maxNetworkRetries: 0 });
    const params: Stripe.Checkout.SessionCreateParams = {
      mode: 'payment',
      line_items: [line],
      success_url: 'https://shop.example/ok',
      metadata: { order_id: 'ord-lost-1' },
    };
    const countSessions = async () => (await t.stripe.checkout.sessions.list({ limit: 100 })).data.filter((s) => s.metadata?.order_id === 'ord-lost-1').length;

    await t.control('/_emulator/faults', { method: 'POST', path: '/v1/checkout/sessions', kind: 'apply_then_drop', count: 2 });
    await expect(noRetries.checkout.sessions.create(params, { idempotencyKey: 'checkout-ord-lost-1' })).rejects.toBeInstanceOf(
      Stripe.errors.StripeConnectionError,
    );
    expect(await countSessions()).toBe(1);
    const replay = await noRetries.checkout.sessions.create(params, { idempotencyKey: 'checkout-ord-lost-1' });
    expect(replay.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(await countSessions()).toBe(1);

    await t.control('/_emulator/faults', { method: 'POST', path: '/v1/checkout/sessions', kind: 'apply_then_drop', count: 2 });
    await expect(noRetries.checkout.sessions.create(params)).rejects.toBeInstanceOf(Stripe.errors.StripeConnectionError);
    await noRetries.checkout.sessions.create(params);
    expect(await countSessions()).toBe(3);
  });

  test('a request refused by the API is still answered with the lost-answer fault, and the stored error is replayed', async () => {
    const pi = await paidIntent();
    await t.control('/_emulator/faults', { method: 'POST', path: '/v1/refunds', kind: 'apply_then_500', count: 1 });
    const stripe = t.client({ maxNetworkRetries: 2 });
    const err = await stripe.refunds.create({ payment_intent: pi.id, amount: 20_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect((err as Stripe.errors.StripeError).param).toBe('amount');
    const [lost, replayed] = (await postsTo('/v1/refunds')).slice(-2);
    expect(lost).toMatchObject({ fault: 'apply_then_500', status: 500 });
    expect(replayed).toMatchObject({ status: 400, replayed: true });
  });

  test('unknown kinds and bad counts are refused by the control API', async () => {
    await expect(t.control('/_emulator/faults', { path: '/v1/refunds', kind: 'apply' })).rejects.toThrow(/Invalid kind/);
    await expect(t.control('/_emulator/faults', { path: '/v1/refunds', kind: 'delay', holdMs: -1 })).rejects.toThrow(/holdMs/);
    await expect(t.control('/_emulator/faults', { path: '/v1/refunds', kind: 'delay', count: 0 })).rejects.toThrow(/count/);
  });
});
