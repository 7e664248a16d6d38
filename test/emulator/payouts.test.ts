/** Balances and payouts of connected accounts: availability, manual and automatic payouts, events. */
import { describe, expect, test } from 'vitest';
import Stripe from 'stripe';
import { createExpressAccount, useTestEmulator } from './helpers.ts';

const t = useTestEmulator();

const DAY = 86_400;
const usd = (list: Array<{ amount: number; currency: string }>) => list.find((x) => x.currency === 'usd')?.amount;

/** Move the emulator clock to just after the next UTC midnight + `extraDays` days. */
async function toNextMidnight(extraDays = 0): Promise<void> {
  const now = t.emu.core.now();
  const next = Math.floor(now / DAY) * DAY + DAY + extraDays * DAY;
  await t.advance(next - now + 60);
}

describe('balance', () => {
  test('credits are pending until available_on (delay_days), then available; balance.available is emitted', async () => {
    const acct = await createExpressAccount(t, { outcome: 'verified', interval: 'manual' });
    const txn = t.emu.core.postLedger({ account: acct.id, amount: 5_000, currency: 'usd', type: 'payment', source: 'py_test' });
    expect(txn.status).toBe('pending');
    expect(txn.available_on).toBe(Math.floor(txn.created / DAY) * DAY + 2 * DAY);
    const s = t.stripeFor(acct.id);
    let bal = await s.balance.retrieve();
    expect(usd(bal.pending)).toBe(5_000);
    expect(usd(bal.available)).toBe(0);
    await t.advance(txn.available_on - t.emu.core.now() + 1);
    bal = await s.balance.retrieve();
    expect(usd(bal.pending)).toBe(0);
    expect(usd(bal.available)).toBe(5_000);
    const fetched = await s.balanceTransactions.retrieve(txn.id);
    expect(fetched.status).toBe('available');
    const evts = await s.events.list({ type: 'balance.available' });
    expect(evts.data[0]?.account).toBe(acct.id);
    expect(usd((evts.data[0]!.data.object as Stripe.Balance).available)).toBe(5_000);
    // the platform's balance is separate
    expect(usd((await t.stripe.balance.retrieve()).available)).not.toBe(undefined);
  });
});

describe('manual payouts', () => {
  test('beyond the available balance → balance_insufficient', async () => {
    const acct = await createExpressAccount(t, { outcome: 'verified', interval: 'manual' });
    t.emu.core.postLedger({ account: acct.id, amount: 1_000, currency: 'usd', type: 'adjustment', immediate: true });
    t.emu.core.postLedger({ account: acct.id, amount: 9_000, currency: 'usd', type: 'payment' }); // pending, not payable
    const e = await t
      .stripeFor(acct.id)
      .payouts.create({ amount: 1_001, currency: 'usd' })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect((e as Stripe.errors.StripeError).code).toBe('balance_insufficient');
    expect((e as Stripe.errors.StripeError).statusCode).toBe(400);
  });

  test('an account that has not finished onboarding cannot be paid out', async () => {
    const acct = await createExpressAccount(t);
    const e = await t
      .stripeFor(acct.id)
      .payouts.create({ amount: 100, currency: 'usd' })
      .catch((x: unknown) => x);
    expect((e as Stripe.errors.StripeError).code).toBe('payouts_not_allowed');
  });

  test('create → pending with a ledger debit; arrival → paid with payout.created / payout.updated / payout.paid on the account', async () => {
    const acct = await createExpressAccount(t, { outcome: 'verified', interval: 'manual' });
    const s = t.stripeFor(acct.id);
    t.emu.core.postLedger({ account: acct.id, amount: 3_000, currency: 'usd', type: 'adjustment', immediate: true });
    const po = await s.payouts.create({ amount: 2_000, currency: 'usd', method: 'standard' }, { idempotencyKey: 'po-key-1' });
    expect(po).toMatchObject({
      object: 'payout',
      amount: 2_000,
      currency: 'usd',
      status: 'pending',
      automatic: false,
      method: 'standard',
      type: 'bank_account',
    });
    expect(po.id).toMatch(/^po_/);
    expect(po.destination).toBe(acct.external_accounts?.data[0]?.id);
    expect(usd((await s.balance.retrieve()).available)).toBe(1_000);
    const txn = await s.balanceTransactions.retrieve(po.balance_transaction as string);
    expect(txn).toMatchObject({ amount: -2_000, net: -2_000, type: 'payout', source: po.id, status: 'available' });
    await t.advance(po.arrival_date - t.emu.core.now() + 1);
    const paid = await s.payouts.retrieve(po.id);
    expect(paid.status).toBe('paid');
    await t.flush();
    const types = t.receiver
      .events(t.stripe, 'connect')
      .filter((e) => e.type.startsWith('payout.') && (e.data.object as Stripe.Payout).id === po.id)
      .map((e) => e.type);
    expect(types).toEqual(['payout.created', 'payout.updated', 'payout.paid']);
    const created = (await s.events.list({ type: 'payout.created' })).data.find((e) => (e.data.object as Stripe.Payout).id === po.id)!;
    expect(created.account).toBe(acct.id);
    expect(created.request).toEqual({ id: expect.stringMatching(/^req_/), idempotency_key: 'po-key-1' });
    const updated = (await s.events.list({ type: 'payout.updated' })).data[0]!;
    expect(updated.data.previous_attributes).toEqual({ status: 'pending' });
  });
});

describe('automatic payouts', () => {
  test('daily: the whole available balance is paid out at the next midnight', async () => {
    const acct = await createExpressAccount(t, { outcome: 'verified' });
    expect(acct.settings?.payouts?.schedule.interval).toBe('daily');
    const s = t.stripeFor(acct.id);
    t.emu.core.postLedger({ account: acct.id, amount: 4_200, currency: 'usd', type: 'adjustment', immediate: true });
    expect((await s.payouts.list()).data).toHaveLength(0);
    await toNextMidnight();
    const list = await s.payouts.list();
    expect(list.data).toHaveLength(1);
    expect(list.data[0]).toMatchObject({ amount: 4_200, automatic: true, currency: 'usd' });
    expect(usd((await s.balance.retrieve()).available)).toBe(0);
    // nothing left, so no second payout the day after; the first one has arrived
    await toNextMidnight();
    const again = await s.payouts.list();
    expect(again.data).toHaveLength(1);
    expect(again.data[0]!.status).toBe('paid');
  });

  test('pending funds are swept once they become available (delay_days then the daily run)', async () => {
    const acct = await createExpressAccount(t, { outcome: 'verified' });
    const s = t.stripeFor(acct.id);
    t.emu.core.postLedger({ account: acct.id, amount: 1_500, currency: 'usd', type: 'payment' });
    await toNextMidnight();
    expect((await s.payouts.list()).data).toHaveLength(0); // still pending after one day
    await toNextMidnight();
    const list = await s.payouts.list();
    expect(list.data.map((p) => p.amount)).toEqual([1_500]);
  });

  test("interval 'manual' → no automatic payout", async () => {
    const acct = await createExpressAccount(t, { outcome: 'verified', interval: 'manual' });
    const s = t.stripeFor(acct.id);
    t.emu.core.postLedger({ account: acct.id, amount: 4_200, currency: 'usd', type: 'adjustment', immediate: true });
    await toNextMidnight(3);
    expect((await s.payouts.list()).data).toHaveLength(0);
    expect(usd((await s.balance.retrieve()).available)).toBe(4_200);
  });

  test('weekly: paid out only on the weekly_anchor day', async () => {
    const acct = await createExpressAccount(t, { outcome: 'verified' });
    await t.stripe.accounts.update(acct.id, { settings: { payouts: { schedule: { interval: 'weekly', weekly_anchor: 'wednesday' } } } });
    const s = t.stripeFor(acct.id);
    t.emu.core.postLedger({ account: acct.id, amount: 800, currency: 'usd', type: 'adjustment', immediate: true });
    await toNextMidnight(7);
    const list = await s.payouts.list();
    expect(list.data).toHaveLength(1);
    const day = new Date(list.data[0]!.created * 1000).getUTCDay();
    expect(day).toBe(3);
  });

  test('monthly on monthly_payout_days; weekly_payout_days; the schedule keeps its days when only delay_days changes', async () => {
    const acct = await createExpressAccount(t, { outcome: 'verified' });
    const upd = await t.stripe.accounts.update(acct.id, { settings: { payouts: { schedule: { interval: 'monthly', monthly_payout_days: [1, 15] } } } });
    expect(upd.settings?.payouts?.schedule).toEqual({ interval: 'monthly', monthly_payout_days: [1, 15], delay_days: 2 });
    const kept = await t.stripe.accounts.update(acct.id, { settings: { payouts: { schedule: { delay_days: 4 } } } });
    expect(kept.settings?.payouts?.schedule).toEqual({ interval: 'monthly', monthly_payout_days: [1, 15], delay_days: 4 });
    const s = t.stripeFor(acct.id);
    t.emu.core.postLedger({ account: acct.id, amount: 900, currency: 'usd', type: 'adjustment', immediate: true });
    await toNextMidnight(32);
    const days = (await s.payouts.list({ limit: 100 })).data.map((p) => new Date(p.created * 1000).getUTCDate());
    expect(days.length).toBeGreaterThanOrEqual(1);
    expect(days.every((d) => d === 1 || d === 15)).toBe(true);
    const weekly = await t.stripe.accounts.update(acct.id, {
      settings: { payouts: { schedule: { interval: 'weekly', weekly_payout_days: ['tuesday', 'friday'] } } },
    });
    expect(weekly.settings?.payouts?.schedule).toEqual({ interval: 'weekly', weekly_payout_days: ['tuesday', 'friday'], delay_days: 4 });
    const both = await t.stripe.accounts
      .update(acct.id, { settings: { payouts: { schedule: { interval: 'weekly', weekly_anchor: 'monday', weekly_payout_days: ['friday'] } } } })
      .catch((e: unknown) => e);
    expect(both).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
  });

  test("the platform's schedule is manual: its balance is never swept", async () => {
    t.emu.core.postLedger({ account: t.emu.platformAccount, amount: 10_000, currency: 'usd', type: 'adjustment', immediate: true });
    const before = usd((await t.stripe.balance.retrieve()).available) ?? 0;
    const auto = async () => (await t.stripe.payouts.list({ limit: 100 })).data.filter((p) => p.automatic).length;
    const n = await auto();
    await toNextMidnight(1);
    expect(await auto()).toBe(n);
    expect(usd((await t.stripe.balance.retrieve()).available)).toBe(before);
  });
});
