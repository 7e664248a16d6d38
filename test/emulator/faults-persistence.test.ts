/** Fault injection (the SDK's own retries) and on-disk state (offline mode). */
import { describe, expect, test } from 'vitest';
import { mkdtempSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Stripe from 'stripe';
import { startEmulator } from '../../src/emulator/index.ts';
import { createExpressAccount, startTestEmulator, stripeAt, useTestEmulator } from './helpers.ts';

interface RequestLog {
  data: Array<{ id: string; method: string; path: string; idempotency_key: string | null; status: number; fault?: string; replayed?: boolean }>;
}

describe('fault injection', () => {
  const t = useTestEmulator();

  test('the SDK (maxNetworkRetries 2) recovers from one injected 500 and sends the same Idempotency-Key each time', async () => {
    await t.control('/_emulator/faults', { method: 'POST', path: '/v1/accounts', count: 1, kind: '500' });
    const stripe = t.client({ maxNetworkRetries: 2 });
    const acct = await stripe.accounts.create({ type: 'express', email: 'retry@example.com' });
    expect(acct.id).toMatch(/^acct_/);
    const log = await t.control<RequestLog>('/_emulator/requests?path=/v1/accounts');
    const attempts = log.data.filter((r) => r.method === 'POST').slice(-2);
    expect(attempts.map((r) => r.status)).toEqual([500, 200]);
    expect(attempts[0]!.fault).toBe('500');
    expect(attempts[0]!.idempotency_key).toMatch(/^stripe-node-retry-/);
    expect(attempts[1]!.idempotency_key).toBe(attempts[0]!.idempotency_key);
    // exactly one account was created
    const all = await t.stripe.accounts.list({ limit: 100 });
    expect(all.data.filter((a) => a.email === 'retry@example.com')).toHaveLength(1);
  });

  test('without retries the injected 500 surfaces as StripeAPIError, and only `count` requests fail', async () => {
    await t.control('/_emulator/faults', { path: '/v1/balance', count: 1, kind: '500' });
    await expect(t.stripe.balance.retrieve()).rejects.toBeInstanceOf(Stripe.errors.StripeAPIError);
    await expect(t.stripe.balance.retrieve()).resolves.toMatchObject({ object: 'balance' });
  });

  test('429 surfaces as StripeRateLimitError (not retried by the SDK)', async () => {
    await t.control('/_emulator/faults', { path: '/v1/balance', count: 1, kind: '429' });
    const e = await t
      .client({ maxNetworkRetries: 2 })
      .balance.retrieve()
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    expect((e as Stripe.errors.StripeError).statusCode).toBe(429);
    expect((e as Stripe.errors.StripeError).code).toBe('rate_limit');
    const log = await t.control<RequestLog>('/_emulator/requests?path=/v1/balance');
    expect(log.data.at(-1)!.fault).toBe('429');
  });

  test('a timeout and a dropped connection are retried by the SDK with the same key', async () => {
    await t.control('/_emulator/faults', { method: 'POST', path: '/v1/accounts', count: 1, kind: 'timeout', holdMs: 10_000 });
    const stripe = t.client({ maxNetworkRetries: 2, timeout: 2_000 });
    const acct = await stripe.accounts.create({ type: 'express', email: 'timeout@example.com' });
    expect(acct.email).toBe('timeout@example.com');
    await t.control('/_emulator/faults', { method: 'POST', path: '/v1/accounts', count: 1, kind: 'drop' });
    const acct2 = await stripe.accounts.create({ type: 'express', email: 'drop@example.com' });
    expect(acct2.email).toBe('drop@example.com');
    const log = (await t.control<RequestLog>('/_emulator/requests?path=/v1/accounts')).data.filter((r) => r.method === 'POST').slice(-4);
    expect(log.map((r) => r.fault ?? r.status)).toEqual(['timeout', 200, 'drop', 200]);
    expect(log[0]!.idempotency_key).toBe(log[1]!.idempotency_key);
    expect(log[2]!.idempotency_key).toBe(log[3]!.idempotency_key);
    const dropped = t.client({ maxNetworkRetries: 0 });
    await t.control('/_emulator/faults', { path: '/v1/balance', count: 2, kind: 'drop' });
    await expect(dropped.balance.retrieve()).rejects.toBeInstanceOf(Stripe.errors.StripeConnectionError);
    await t.control('/_emulator/faults', undefined, 'DELETE');
  });

  test('a retried POST whose first attempt succeeded is answered from the idempotency store', async () => {
    const stripe = t.client({ maxNetworkRetries: 0 });
    const first = await stripe.accounts.create({ type: 'express', email: 'replay@example.com' }, { idempotencyKey: 'replay-1' });
    const second = await stripe.accounts.create({ type: 'express', email: 'replay@example.com' }, { idempotencyKey: 'replay-1' });
    expect(second.id).toBe(first.id);
    const log = await t.control<RequestLog>('/_emulator/requests?path=/v1/accounts');
    expect(log.data.at(-1)!.replayed).toBe(true);
  });
});

describe('persistence (stateFile)', () => {
  test('state is saved on stop and reloaded: objects, balances, idempotency keys and the clock', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emu-state-'));
    const stateFile = join(dir, 'state.json');
    try {
      const a = await startEmulator({ port: 0, stateFile, tickIntervalMs: 0 });
      const s1 = stripeAt(a.url);
      // Manual payouts: a clock advance across UTC midnight must not sweep the balance into a payout.
      const acct = await s1.accounts.create(
        { type: 'express', email: 'persist@example.com', settings: { payouts: { schedule: { interval: 'manual' } } } },
        { idempotencyKey: 'persist-1' },
      );
      await fetch(`${a.url}/_emulator/accounts/${acct.id}/onboarding`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ outcome: 'verified' }),
      });
      a.core.postLedger({ account: acct.id, amount: 777, currency: 'usd', type: 'adjustment', immediate: true });
      await fetch(`${a.url}/_emulator/clock/advance`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ seconds: 3600 }),
      });
      const clockBefore = a.core.now();
      await a.stop();
      expect(existsSync(stateFile)).toBe(true);

      const b = await startEmulator({ port: 0, stateFile, tickIntervalMs: 0 });
      try {
        const s2 = stripeAt(b.url);
        const again = await s2.accounts.retrieve(acct.id);
        expect(again.details_submitted).toBe(true);
        expect(again.payouts_enabled).toBe(true);
        expect(again.capabilities).toEqual({ transfers: 'active' });
        expect((await s2.balance.retrieve({}, { stripeAccount: acct.id })).available[0]?.amount).toBe(777);
        const replay = await s2.accounts.create(
          { type: 'express', email: 'persist@example.com', settings: { payouts: { schedule: { interval: 'manual' } } } },
          { idempotencyKey: 'persist-1' },
        );
        expect(replay.id).toBe(acct.id);
        expect(replay.lastResponse.headers['idempotent-replayed']).toBe('true');
        expect(b.core.now()).toBeGreaterThanOrEqual(clockBefore);
        expect(b.core.now() - clockBefore).toBeLessThan(60);
      } finally {
        await b.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('reset clears state but keeps the platform account', async () => {
    const t = await startTestEmulator();
    try {
      const acct = await createExpressAccount(t);
      await t.control('/_emulator/reset', {});
      await expect(t.stripe.accounts.retrieve(acct.id)).rejects.toBeInstanceOf(Stripe.errors.StripePermissionError);
      expect((await t.stripe.accounts.retrieveCurrent()).id).toBe(t.emu.platformAccount);
    } finally {
      await t.stop();
    }
  });
});
