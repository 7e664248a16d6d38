/** Wire-protocol contract: auth, parsing, params, errors, idempotency, scoping, lists, expand. */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import Stripe from 'stripe';
import { createEmulator, type EmulatorCore } from '../../src/emulator/index.ts';
import { p, PAYMENT_METHOD_TYPES_REMOVED, parseForm } from '../../src/emulator/core/params.ts';
import { API_KEY, createExpressAccount, stripeAt, useTestEmulator } from './helpers.ts';

const t = useTestEmulator();

async function raw(
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; headers: Headers; body: { error?: Record<string, unknown> } & Record<string, unknown> }> {
  const res = await fetch(`${t.url}${path}`, init);
  return { status: res.status, headers: res.headers, body: (await res.json()) as { error?: Record<string, unknown> } & Record<string, unknown> };
}

describe('authentication and errors', () => {
  test('requests without an API key get 401 Stripe-style, and the SDK raises StripeAuthenticationError', async () => {
    const r = await raw('/v1/balance');
    expect(r.status).toBe(401);
    expect(r.body.error?.type).toBe('invalid_request_error');
    expect(String(r.body.error?.message)).toMatch(/did not provide an API key/);
    const bad = new Stripe('rk_live_nope', { host: '127.0.0.1', port: Number(new URL(t.url).port), protocol: 'http', maxNetworkRetries: 0 });
    await expect(bad.balance.retrieve()).rejects.toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
  });

  test('every response carries Request-Id, and Stripe-Version is echoed', async () => {
    const r = await raw('/v1/balance', { headers: { authorization: `Bearer ${API_KEY}`, 'stripe-version': '2026-10-28.endive' } });
    expect(r.status).toBe(200);
    expect(r.headers.get('request-id')).toMatch(/^req_[A-Za-z0-9]{14}$/);
    expect(r.headers.get('stripe-version')).toBe('2026-10-28.endive');
    const unauth = await raw('/v1/balance');
    expect(unauth.headers.get('request-id')).toMatch(/^req_/);
  });

  test('unknown endpoints → 404 invalid_request_error', async () => {
    const r = await raw('/v1/nothing_here', { headers: { authorization: `Bearer ${API_KEY}` } });
    expect(r.status).toBe(404);
    expect(r.body.error?.type).toBe('invalid_request_error');
    expect(String(r.body.error?.message)).toContain('Unrecognized request URL (GET: /v1/nothing_here)');
  });

  test('unknown parameters → 400 parameter_unknown naming the param, top-level and nested', async () => {
    const e1 = await t.stripe.payouts.list({ colour: 'red' } as Stripe.PayoutListParams).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect((e1 as Stripe.errors.StripeError).code).toBe('parameter_unknown');
    expect((e1 as Stripe.errors.StripeError).param).toBe('colour');
    const e2 = await t.stripe.accounts
      .create({ controller: { fees: { payer: 'application' }, colour: 'x' } } as unknown as Stripe.AccountCreateParams)
      .catch((e: unknown) => e);
    expect((e2 as Stripe.errors.StripeError).code).toBe('parameter_unknown');
    expect((e2 as Stripe.errors.StripeError).param).toBe('controller[colour]');
    expect((e2 as Stripe.errors.StripeError).statusCode).toBe(400);
  });

  test('invalid integers and enums are rejected with the param', async () => {
    const r = await raw('/v1/payouts', {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'amount=12abc&currency=usd',
    });
    expect(r.status).toBe(400);
    expect(r.body.error?.code).toBe('parameter_invalid_integer');
    expect(r.body.error?.param).toBe('amount');
    const e = await t.stripe.payouts.create({ amount: 100, currency: 'usd', method: 'teleport' }).catch((x: unknown) => x);
    expect((e as Stripe.errors.StripeError).param).toBe('method');
  });

  test('missing required params → parameter_missing', async () => {
    const e = await t.stripe.payouts.create({ amount: 100 } as Stripe.PayoutCreateParams).catch((x: unknown) => x);
    expect((e as Stripe.errors.StripeError).code).toBe('parameter_missing');
    expect((e as Stripe.errors.StripeError).param).toBe('currency');
  });

  test('a Stripe-Account that does not exist → 403 account_invalid (StripePermissionError)', async () => {
    const e = await t
      .stripeFor('acct_doesnotexist')
      .balance.retrieve()
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Stripe.errors.StripePermissionError);
    expect((e as Stripe.errors.StripeError).code).toBe('account_invalid');
  });
});

describe('form encoding', () => {
  test('parseForm handles bracket notation, indices, [] and + / percent decoding', () => {
    expect(parseForm('a[b][c]=1&a[b][d]=x+y&list[0][x]=1&list[1][x]=2&expand[]=one&expand[]=two&e=%C3%A9%26')).toEqual({
      a: { b: { c: '1', d: 'x y' } },
      list: [{ x: '1' }, { x: '2' }],
      expand: ['one', 'two'],
      e: 'é&',
    });
  });

  test('nested params sent by the SDK arrive intact (metadata, capabilities, payout schedule)', async () => {
    const acct = await t.stripe.accounts.create({
      type: 'express',
      country: 'US',
      email: 'nested@example.com',
      metadata: { seller_id: '42', 'odd key': 'a&b=c' },
      capabilities: { card_payments: { requested: true }, transfers: { requested: true } },
      settings: { payouts: { schedule: { interval: 'weekly', weekly_anchor: 'friday', delay_days: 5 } } },
    });
    expect(acct.metadata).toEqual({ seller_id: '42', 'odd key': 'a&b=c' });
    expect(acct.capabilities).toEqual({ card_payments: 'inactive', transfers: 'inactive' });
    expect(acct.settings?.payouts?.schedule).toMatchObject({ interval: 'weekly', weekly_anchor: 'friday', delay_days: 5 });
  });
});

describe('idempotency', () => {
  test('same key + same params → the first response again with Idempotent-Replayed: true', async () => {
    const params: Stripe.AccountCreateParams = { type: 'express', country: 'US', email: 'idem@example.com' };
    const first = await t.stripe.accounts.create(params, { idempotencyKey: 'idem-create-1' });
    const second = await t.stripe.accounts.create(params, { idempotencyKey: 'idem-create-1' });
    expect(second.id).toBe(first.id);
    expect(JSON.stringify(second)).toBe(JSON.stringify(first));
    expect(second.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(first.lastResponse.headers['idempotent-replayed']).toBeUndefined();
    const all = await t.stripe.accounts.list({ limit: 100 });
    expect(all.data.filter((a) => a.email === 'idem@example.com')).toHaveLength(1);
  });

  test('same key + different params → 400 idempotency_error (StripeIdempotencyError)', async () => {
    await t.stripe.accounts.create({ type: 'express', email: 'a@example.com' }, { idempotencyKey: 'idem-conflict' });
    const e = await t.stripe.accounts.create({ type: 'express', email: 'b@example.com' }, { idempotencyKey: 'idem-conflict' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect((e as Stripe.errors.StripeError).statusCode).toBe(400);
    expect((e as Stripe.errors.StripeError).rawType).toBe('idempotency_error');
  });

  test('errors from a handler are replayed too; keys are scoped per Stripe-Account', async () => {
    const acct = await createExpressAccount(t, { outcome: 'verified', interval: 'manual' });
    const key = 'idem-payout-1';
    const e1 = await t
      .stripeFor(acct.id)
      .payouts.create({ amount: 500, currency: 'usd' }, { idempotencyKey: key })
      .catch((x: unknown) => x);
    expect((e1 as Stripe.errors.StripeError).code).toBe('balance_insufficient');
    t.emu.core.postLedger({ account: acct.id, amount: 1000, currency: 'usd', type: 'adjustment', immediate: true });
    // replay of the stored error, even though funds are now there
    const e2 = await t
      .stripeFor(acct.id)
      .payouts.create({ amount: 500, currency: 'usd' }, { idempotencyKey: key })
      .catch((x: unknown) => x);
    expect((e2 as Stripe.errors.StripeError).code).toBe('balance_insufficient');
    expect((e2 as Stripe.errors.StripeError).headers?.['idempotent-replayed']).toBe('true');
    // the same key under another account is a different request
    t.emu.core.postLedger({ account: t.emu.platformAccount, amount: 1000, currency: 'usd', type: 'adjustment', immediate: true });
    const platformPayout = await t.stripe.payouts.create({ amount: 500, currency: 'usd' }, { idempotencyKey: key });
    expect(platformPayout.status).toBe('pending');
  });
});

describe('Stripe-Account scoping', () => {
  test("account A can't read account B's payout (404), B can", async () => {
    const a = await createExpressAccount(t, { outcome: 'verified', interval: 'manual' });
    const b = await createExpressAccount(t, { outcome: 'verified', interval: 'manual' });
    t.emu.core.postLedger({ account: b.id, amount: 2000, currency: 'usd', type: 'adjustment', immediate: true });
    const po = await t.stripeFor(b.id).payouts.create({ amount: 700, currency: 'usd' });
    expect((await t.stripeFor(b.id).payouts.retrieve(po.id)).id).toBe(po.id);
    const e = await t
      .stripeFor(a.id)
      .payouts.retrieve(po.id)
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect((e as Stripe.errors.StripeError).statusCode).toBe(404);
    expect((e as Stripe.errors.StripeError).code).toBe('resource_missing');
    expect((e as Stripe.errors.StripeError).message).toBe(`No such payout: '${po.id}'`);
    // the platform without Stripe-Account doesn't see it either
    await expect(t.stripe.payouts.retrieve(po.id)).rejects.toMatchObject({ statusCode: 404 });
    expect((await t.stripeFor(a.id).payouts.list()).data.map((x) => x.id)).not.toContain(po.id);
    // balances are per account
    expect((await t.stripeFor(b.id).balance.retrieve()).available[0]?.amount).toBe(1300);
    expect((await t.stripeFor(a.id).balance.retrieve()).available[0]?.amount).toBe(0);
  });
});

describe('lists', () => {
  test('limit / starting_after / ending_before / has_more, newest first, and auto-pagination', async () => {
    const acct = await createExpressAccount(t, { outcome: 'verified', interval: 'manual' });
    const s = t.stripeFor(acct.id);
    t.emu.core.postLedger({ account: acct.id, amount: 10_000, currency: 'usd', type: 'adjustment', immediate: true });
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push((await s.payouts.create({ amount: 100 + i, currency: 'usd' })).id);
    const newestFirst = [...made].reverse();
    const page1 = await s.payouts.list({ limit: 2 });
    expect(page1.object).toBe('list');
    expect(page1.url).toBe('/v1/payouts');
    expect(page1.data.map((x) => x.id)).toEqual(newestFirst.slice(0, 2));
    expect(page1.has_more).toBe(true);
    const page2 = await s.payouts.list({ limit: 2, starting_after: page1.data[1]!.id });
    expect(page2.data.map((x) => x.id)).toEqual(newestFirst.slice(2, 4));
    expect(page2.has_more).toBe(true);
    const page3 = await s.payouts.list({ limit: 2, starting_after: page2.data[1]!.id });
    expect(page3.data.map((x) => x.id)).toEqual(newestFirst.slice(4));
    expect(page3.has_more).toBe(false);
    const back = await s.payouts.list({ limit: 2, ending_before: newestFirst[4]! });
    expect(back.data.map((x) => x.id)).toEqual(newestFirst.slice(2, 4));
    expect(
      await s.payouts
        .list({ limit: 2 })
        .autoPagingToArray({ limit: 100 })
        .then((xs) => xs.map((x) => x.id)),
    ).toEqual(newestFirst);
    const e = await s.payouts.list({ limit: 101 }).catch((x: unknown) => x);
    expect((e as Stripe.errors.StripeError).param).toBe('limit');
  });

  test('created filters (gte/gt/lte/lt and exact)', async () => {
    const acct = await createExpressAccount(t, { outcome: 'verified', interval: 'manual' });
    const s = t.stripeFor(acct.id);
    t.emu.core.postLedger({ account: acct.id, amount: 10_000, currency: 'usd', type: 'adjustment', immediate: true });
    const p1 = await s.payouts.create({ amount: 100, currency: 'usd' });
    await t.advance(100);
    const p2 = await s.payouts.create({ amount: 200, currency: 'usd' });
    expect(p2.created - p1.created).toBeGreaterThanOrEqual(100);
    const ids = async (created: Stripe.RangeQueryParam | number) => (await s.payouts.list({ created })).data.map((x) => x.id);
    expect(await ids({ gte: p2.created })).toEqual([p2.id]);
    expect(await ids({ gt: p1.created })).toEqual([p2.id]);
    expect(await ids({ lt: p2.created })).toEqual([p1.id]);
    expect(await ids({ lte: p2.created, gte: p1.created })).toEqual([p2.id, p1.id]);
    expect(await ids(p1.created)).toEqual([p1.id]);
  });
});

describe('expand', () => {
  test('expand a field, and data.<field> on lists', async () => {
    const acct = await createExpressAccount(t, { outcome: 'verified', interval: 'manual' });
    const s = t.stripeFor(acct.id);
    t.emu.core.postLedger({ account: acct.id, amount: 5_000, currency: 'usd', type: 'adjustment', immediate: true });
    const po = await s.payouts.create({ amount: 1_000, currency: 'usd' }, {});
    expect(typeof po.balance_transaction).toBe('string');
    const expanded = await s.payouts.retrieve(po.id, { expand: ['balance_transaction'] });
    const txn = expanded.balance_transaction as Stripe.BalanceTransaction;
    expect(txn.object).toBe('balance_transaction');
    expect(txn.amount).toBe(-1000);
    expect(txn.type).toBe('payout');
    expect(txn.source).toBe(po.id);
    const list = await s.payouts.list({ expand: ['data.balance_transaction'] });
    expect((list.data[0]!.balance_transaction as Stripe.BalanceTransaction).id).toBe(txn.id);
  });
});

describe('core API for resource modules', () => {
  let core: EmulatorCore;
  let stripe: Stripe;
  let slowStarted: () => void = () => {};
  beforeAll(async () => {
    core = createEmulator({ port: 0 });
    const widgets = core.collection<{ id: string; object: 'widget'; created: number; gadget: string | null; pmt?: unknown }>('widget');
    const gadgets = core.collection<{ id: string; object: 'gadget'; created: number; part: string }>('gadget');
    const parts = core.collection<{ id: string; object: 'part'; created: number; name: string }>('part');
    core.route(
      'POST',
      '/v1/widgets',
      { params: { name: p.string, items: p.array({ x: p.integer }), payment_method_types: PAYMENT_METHOD_TYPES_REMOVED } },
      (req) => {
        const part = parts.insert(req.account, { id: core.newId('part'), object: 'part', created: core.now(), name: 'bolt' });
        const g = gadgets.insert(req.account, { id: core.newId('gad'), object: 'gadget', created: core.now(), part: part.id });
        return { ...widgets.insert(req.account, { id: core.newId('wid'), object: 'widget', created: core.now(), gadget: g.id }), echo: req.params };
      },
    );
    core.route('GET', '/v1/widgets/:id', {}, (req) => widgets.require(req.pathParams.id ?? '', req.account));
    core.route('POST', '/v1/slow_widgets', { params: { n: p.integer } }, async (req) => {
      slowStarted();
      await new Promise((r) => setTimeout(r, 300));
      return { id: core.newId('wid'), object: 'widget', n: req.params.n };
    });
    await core.listen();
    stripe = stripeAt(core.url);
  });
  afterAll(async () => {
    await core.stop();
  });

  test('array-of-object params are coerced; nested expand follows ids through the store', async () => {
    const created = (await stripe.rawRequest('POST', '/v1/widgets', { name: 'w', items: [{ x: 1 }, { x: 2 }] })) as unknown as { id: string; echo: unknown };
    expect(created.echo).toEqual({ name: 'w', items: [{ x: 1 }, { x: 2 }] });
    const got = (await stripe.rawRequest('GET', `/v1/widgets/${created.id}?expand[0]=gadget.part`)) as unknown as {
      gadget: { object: string; part: { name: string } };
    };
    expect(got.gadget.object).toBe('gadget');
    expect(got.gadget.part.name).toBe('bolt');
  });

  test('a second request with the same key while the first is in flight → 409 idempotency_key_in_use', async () => {
    const send = () =>
      fetch(`${core.url}/v1/slow_widgets`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/x-www-form-urlencoded', 'idempotency-key': 'slow-1' },
        body: 'n=1',
      });
    const started = new Promise<void>((resolve) => {
      slowStarted = resolve;
    });
    const first = send();
    await started; // the first request is inside its handler
    const second = await send();
    expect(second.status).toBe(409);
    expect(((await second.json()) as { error: { code: string } }).error.code).toBe('idempotency_key_in_use');
    const done = await first;
    expect(done.status).toBe(200);
    const firstBody = await done.text();
    const third = await send();
    expect(third.headers.get('idempotent-replayed')).toBe('true');
    expect(await third.text()).toBe(firstBody);
  });

  test('payment_method_types is rejected with payment_method_types_no_longer_supported', async () => {
    const e = await stripe.rawRequest('POST', '/v1/widgets', { payment_method_types: ['card'] }).catch((x: unknown) => x);
    expect((e as Stripe.errors.StripeError).statusCode).toBe(400);
    expect((e as Stripe.errors.StripeError).code).toBe('payment_method_types_no_longer_supported');
    expect((e as Stripe.errors.StripeError).param).toBe('payment_method_types');
  });
});
