/** Events API and signed webhook delivery: routing, signatures, retries, delivery modes. */
import { beforeEach, describe, expect, test } from 'vitest';
import Stripe from 'stripe';
import { createExpressAccount, startReceiver, useTestEmulator, startTestEmulator } from './helpers.ts';

const t = useTestEmulator();
beforeEach(async () => {
  await t.control('/_emulator/delivery', { mode: 'normal' });
  await t.flush();
  await t.control('/_emulator/deliveries', undefined, 'DELETE');
  t.receiver.received.length = 0;
  t.receiver.respond = () => 200;
});

interface DeliveryLog {
  data: Array<{ event: string; endpoint: string; status: string; attempts: Array<{ status: number | null }> }>;
}

describe('events API', () => {
  test('list (newest first), retrieve, type / types / wildcard filters, Stripe-Account scoping', async () => {
    const acct = await createExpressAccount(t);
    await t.stripe.accounts.update(acct.id, { metadata: { n: '1' } });
    await t.stripe.accounts.update(acct.id, { metadata: { n: '2' } });
    const s = t.stripeFor(acct.id);
    const list = await s.events.list({ type: 'account.updated' });
    expect(list.data.map((e) => (e.data.object as Stripe.Account).metadata?.n)).toEqual(['2', '1']);
    const evt = list.data[0]!;
    expect(evt).toMatchObject({ object: 'event', api_version: '2026-10-28.endive', livemode: false, account: acct.id, type: 'account.updated' });
    expect(evt.id).toMatch(/^evt_/);
    expect(evt.data.previous_attributes).toEqual({ metadata: { n: '1' } });
    const again = await s.events.retrieve(evt.id);
    expect(again.id).toBe(evt.id);
    // connected-account events are not visible to the platform without Stripe-Account
    await expect(t.stripe.events.retrieve(evt.id)).rejects.toMatchObject({ statusCode: 404 });
    expect((await t.stripe.events.list({ limit: 100 })).data.map((e) => e.id)).not.toContain(evt.id);
    // types[] and wildcards
    await t.control(`/_emulator/accounts/${acct.id}/onboarding`, { outcome: 'verified' });
    const several = await s.events.list({ types: ['capability.updated', 'account.external_account.created'], limit: 100 });
    expect(new Set(several.data.map((e) => e.type))).toEqual(new Set(['capability.updated', 'account.external_account.created']));
    const wild = await s.events.list({ type: 'account.*', limit: 100 });
    expect(wild.data.every((e) => e.type.startsWith('account.'))).toBe(true);
    expect(wild.data.some((e) => e.type === 'account.external_account.created')).toBe(true);
    const both = await s.events.list({ type: 'account.updated', types: ['account.updated'] }).catch((x: unknown) => x);
    expect(both).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    const createdFilter = await s.events.list({ created: { gt: evt.created + 10_000 } });
    expect(createdFilter.data).toHaveLength(0);
  });
});

describe('delivery', () => {
  test('every delivered event verifies with stripe.webhooks.constructEvent; platform and Connect endpoints get the right events', async () => {
    const acct = await createExpressAccount(t, { outcome: 'verified', interval: 'manual' });
    t.emu.core.postLedger({ account: t.emu.platformAccount, amount: 5_000, currency: 'usd', type: 'adjustment', immediate: true });
    await t.stripe.payouts.create({ amount: 100, currency: 'usd' });
    await t.flush();
    expect(t.receiver.received.length).toBeGreaterThan(3);
    for (const r of t.receiver.received) {
      expect(r.signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
      expect(r.headers['content-type']).toContain('application/json');
    }
    const connect = t.receiver.events(t.stripe, 'connect');
    const platform = t.receiver.events(t.stripe, 'platform');
    expect(connect.length).toBeGreaterThan(0);
    expect(connect.every((e) => e.account === acct.id)).toBe(true);
    expect(platform.map((e) => e.type)).toContain('payout.created');
    expect(platform.every((e) => e.account === undefined)).toBe(true);
    // a wrong secret fails verification: the signature really is per endpoint
    const r = t.receiver.received.find((x) => x.endpoint === 'connect')!;
    expect(() => t.stripe.webhooks.constructEvent(r.body, r.signature, 'whsec_wrong')).toThrow(Stripe.errors.StripeSignatureVerificationError);
    // delivered events are acknowledged (pending_webhooks drops to 0)
    const evt = await t.stripe.events.retrieve(platform[0]!.id);
    expect(evt.pending_webhooks).toBe(0);
  });

  test('a failing endpoint is retried with backoff until it succeeds', async () => {
    let calls = 0;
    t.receiver.respond = () => (++calls <= 2 ? 500 : 200);
    const acct = await createExpressAccount(t);
    await t.stripe.accounts.update(acct.id, { metadata: { retry: 'yes' } });
    // wait for the real retry timers (retryBaseMs 10 in tests), no flush
    const deadline = Date.now() + 15_000;
    let log: DeliveryLog = { data: [] };
    while (Date.now() < deadline) {
      log = await t.control<DeliveryLog>('/_emulator/deliveries?type=account.updated');
      if (log.data.some((d) => d.status === 'succeeded')) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const d = log.data.find((x) => x.status === 'succeeded')!;
    expect(d).toBeDefined();
    expect(d.attempts.map((a) => a.status)).toEqual([500, 500, 200]);
    const bodies = t.receiver.received.filter((x) => x.endpoint === 'connect').map((x) => x.body);
    expect(new Set(bodies).size).toBe(1); // same payload each attempt
    expect(t.receiver.events(t.stripe, 'connect')).toHaveLength(3);
  });

  test('a delivery that times out is retried', async () => {
    const quick = await startTestEmulator({ delivery: { retryBaseMs: 10, maxAttempts: 4, timeoutMs: 1_000 } });
    try {
      quick.receiver.hang = 1;
      const acct = await createExpressAccount(quick);
      await quick.stripe.accounts.update(acct.id, { metadata: { slow: '1' } });
      await quick.flush();
      const log = await quick.control<{ data: Array<{ status: string; attempts: Array<{ status: number | null; error?: string }> }> }>(
        '/_emulator/deliveries?type=account.updated',
      );
      expect(log.data[0]!.status).toBe('succeeded');
      expect(log.data[0]!.attempts[0]!.status).toBeNull();
      expect(log.data[0]!.attempts[0]!.error).toMatch(/timeout|abort/i);
      expect(log.data[0]!.attempts[1]!.status).toBe(200);
    } finally {
      await quick.stop();
    }
  });

  test('an endpoint that never succeeds is marked failed after maxAttempts', async () => {
    t.receiver.respond = () => 503;
    const acct = await createExpressAccount(t);
    await t.stripe.accounts.update(acct.id, { metadata: { fail: 'yes' } });
    await t.flush();
    const log = await t.control<DeliveryLog>('/_emulator/deliveries?type=account.updated&status=failed');
    expect(log.data.at(-1)?.attempts).toHaveLength(5);
    const evt = (await t.stripeFor(acct.id).events.list({ type: 'account.updated', limit: 1 })).data[0]!;
    expect(evt.pending_webhooks).toBe(1);
    const undelivered = await t.stripeFor(acct.id).events.list({ delivery_success: false });
    expect(undelivered.data.map((e) => e.id)).toContain(evt.id);
  });

  test('duplicate mode delivers each event twice (same id)', async () => {
    const acct = await createExpressAccount(t);
    await t.control('/_emulator/delivery', { mode: 'duplicate', count: 1 });
    await t.stripe.accounts.update(acct.id, { metadata: { dup: '1' } });
    await t.stripe.accounts.update(acct.id, { metadata: { dup: '2' } });
    await t.flush();
    const ids = t.receiver.events(t.stripe, 'connect').map((e) => e.id);
    expect(ids).toHaveLength(3); // two copies of the first, then back to normal
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).not.toBe(ids[0]);
  });

  test('drop mode loses deliveries (the event still exists)', async () => {
    const acct = await createExpressAccount(t);
    await t.control('/_emulator/delivery', { mode: 'drop' });
    await t.stripe.accounts.update(acct.id, { metadata: { drop: '1' } });
    await t.flush();
    expect(t.receiver.received).toHaveLength(0);
    const log = await t.control<DeliveryLog>('/_emulator/deliveries?status=dropped');
    expect(log.data.length).toBeGreaterThan(0);
    expect((await t.stripeFor(acct.id).events.list({ type: 'account.updated' })).data).toHaveLength(1);
  });

  test('delay mode holds deliveries until flushed; reorder mode sends newest first', async () => {
    const acct = await createExpressAccount(t);
    await t.control('/_emulator/delivery', { mode: 'delay', delayMs: 60_000 });
    await t.stripe.accounts.update(acct.id, { metadata: { d: '1' } });
    await new Promise((r) => setTimeout(r, 100));
    expect(t.receiver.received).toHaveLength(0);
    await t.flush();
    expect(t.receiver.received).toHaveLength(1);

    t.receiver.received.length = 0;
    await t.control('/_emulator/delivery', { mode: 'reorder', batch: 3 });
    for (const n of ['a', 'b', 'c']) await t.stripe.accounts.update(acct.id, { metadata: { d: n } });
    await t.flush();
    const order = t.receiver.events(t.stripe, 'connect').map((e) => (e.data.object as Stripe.Account).metadata?.d);
    expect(order).toEqual(['c', 'b', 'a']);
  });

  test('endpoints can be reconfigured at runtime and created with webhookEndpoints.create (own secret)', async () => {
    const other = await startReceiver();
    try {
      const we = await t.stripe.webhookEndpoints.create({ url: `${other.url}/connect`, enabled_events: ['account.updated'], connect: true });
      expect(we.secret).toMatch(/^whsec_/);
      expect((await t.stripe.webhookEndpoints.retrieve(we.id)).secret).toBeUndefined();
      const acct = await createExpressAccount(t);
      await t.stripe.accounts.update(acct.id, { metadata: { we: '1' } });
      await t.flush();
      const got = other.received.map((r) => t.stripe.webhooks.constructEvent(r.body, r.signature, we.secret!));
      expect(got.map((e) => e.type)).toEqual(['account.updated']);
      await t.stripe.webhookEndpoints.del(we.id);

      // runtime reconfiguration of the platform endpoint
      await t.control('/_emulator/webhooks', { platform: { url: `${other.url}/platform`, secret: 'whsec_runtime' } });
      t.emu.core.postLedger({ account: t.emu.platformAccount, amount: 500, currency: 'usd', type: 'adjustment', immediate: true });
      await t.stripe.payouts.create({ amount: 100, currency: 'usd' });
      await t.flush();
      const platformOnOther = other.received.filter((r) => r.endpoint === 'platform');
      expect(platformOnOther).toHaveLength(1);
      expect(t.stripe.webhooks.constructEvent(platformOnOther[0]!.body, platformOnOther[0]!.signature, 'whsec_runtime').type).toBe('payout.created');
    } finally {
      await t.control('/_emulator/webhooks', { platform: { url: `${t.receiver.url}/platform`, secret: 'whsec_test_platform_secret' } });
      await other.close();
    }
  });
});
