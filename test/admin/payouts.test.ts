// Admin payouts through the emulator: balance, pause/resume (schedule at Stripe + clock advance),
// manual payouts (insufficient balance → Stripe's words; double submit → one payout), payout
// webhooks into our table, and the audit trail of each action.
import { beforeAll, describe, expect, it } from 'vitest';
import { useWorld } from '../helpers/fixture.ts';
import { createPaidOrder, createSeller, hiddenValue, type TestSeller } from '../helpers/market.ts';

const DAY = 86_400;

describe('admin: seller balance, payout schedule and payouts', () => {
  const h = useWorld({ webhooks: true, admin: true });
  let seller: TestSeller;

  beforeAll(async () => {
    seller = await createSeller(h);
    await createPaidOrder(h, seller, { amount: 10_000 });
  });

  it('shows the connected account balance, state and schedule', async () => {
    const page = await h.admin.get(`/admin/sellers/${seller.user.id}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(seller.accountId);
    // 10 000 transferred, 1 000 (10 % default policy) kept by the platform → $90.00 available.
    expect(page.body).toMatch(/data-testid="available-usd">\$90\.00</);
    expect(page.body).toMatch(/data-testid="schedule-interval" data-interval="daily">Daily</);
    const list = await h.admin.get('/admin/sellers');
    expect(list.body).toContain(`/admin/sellers/${seller.user.id}`);
  });

  it("manual payout larger than the balance shows Stripe's error and records nothing as paid", async () => {
    const page = await h.admin.get(`/admin/sellers/${seller.user.id}`);
    const requestId = hiddenValue(page.body, 'request_id')!;
    const confirm = await h.admin.post(`/admin/sellers/${seller.user.id}/payouts`, { request_id: requestId, amount: '500.00', currency: 'usd' });
    expect(confirm.statusCode).toBe(200);
    expect(confirm.body).toContain('Confirm payout');
    expect((await h.emu.requests('/v1/payouts')).length).toBe(0); // the confirmation step sends nothing
    const done = await h.admin.post(`/admin/sellers/${seller.user.id}/payouts`, { request_id: requestId, amount: '500.00', currency: 'usd', confirm: 'yes' });
    expect(done.statusCode).toBe(422);
    expect(done.body).toContain('available balance is too low');
    const request = await h.database.db.selectFrom('payout_requests').selectAll().where('id', '=', requestId).executeTakeFirstOrThrow();
    expect(request.status).toBe('rejected');
    expect(await h.database.db.selectFrom('payouts').selectAll().execute()).toHaveLength(0);
    const audit = await h.database.db.selectFrom('admin_audit_log').selectAll().where('action', '=', 'payout.rejected').execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]!.after).toMatchObject({ status: 'rejected' });
  });

  it('pause sets the schedule to manual at Stripe and no payout happens; resume restores it and the next day pays out', async () => {
    const paused = await h.admin.post(`/admin/sellers/${seller.user.id}/payouts/pause`);
    expect(paused.statusCode).toBe(303);
    let account = await h.stripe.accounts.retrieve(seller.accountId);
    expect(account.settings?.payouts?.schedule.interval).toBe('manual');
    const page = await h.admin.get(`/admin/sellers/${seller.user.id}`);
    expect(page.body).toContain('data-testid="paused"');

    await h.emu.advanceClock(2 * DAY);
    await h.settle();
    const none = await h.stripe.payouts.list({}, { stripeAccount: seller.accountId });
    expect(none.data).toHaveLength(0);

    const resumed = await h.admin.post(`/admin/sellers/${seller.user.id}/payouts/resume`);
    expect(resumed.statusCode).toBe(303);
    account = await h.stripe.accounts.retrieve(seller.accountId);
    expect(account.settings?.payouts?.schedule.interval).toBe('daily');

    await h.emu.advanceClock(DAY);
    await h.settle();
    const payouts = await h.stripe.payouts.list({}, { stripeAccount: seller.accountId });
    expect(payouts.data).toHaveLength(1);
    expect(payouts.data[0]!.amount).toBe(9_000);
    // payout.created arrived through the Connect endpoint into our table.
    const rows = await h.database.db.selectFrom('payouts').selectAll().execute();
    expect(rows.map((r) => [r.id, r.seller_id, r.amount, r.automatic])).toEqual([[payouts.data[0]!.id, seller.user.id, 9_000, true]]);

    await h.emu.advanceClock(DAY); // arrival: pending → paid
    await h.settle();
    const paid = await h.database.db.selectFrom('payouts').select('status').where('id', '=', payouts.data[0]!.id).executeTakeFirstOrThrow();
    expect(paid.status).toBe('paid');

    const audit = await h.database.db
      .selectFrom('admin_audit_log')
      .selectAll()
      .where('target_id', '=', seller.user.id)
      .where('action', 'in', ['payouts.pause', 'payouts.resume'])
      .orderBy('id')
      .execute();
    expect(audit.map((a) => [a.action, (a.before as { interval: string }).interval, (a.after as { interval: string }).interval])).toEqual([
      ['payouts.pause', 'daily', 'manual'],
      ['payouts.resume', 'manual', 'daily'],
    ]);
  });

  it('a double-submitted manual payout form makes one payout at Stripe', async () => {
    const other = await createSeller(h, { manualPayouts: true });
    await createPaidOrder(h, other, { amount: 5_000 });
    const page = await h.admin.get(`/admin/sellers/${other.user.id}`);
    const requestId = hiddenValue(page.body, 'request_id')!;
    const form = { request_id: requestId, amount: '45.00', currency: 'usd', confirm: 'yes' };
    const [a, b] = await Promise.all([
      h.admin.post(`/admin/sellers/${other.user.id}/payouts`, form),
      h.admin.post(`/admin/sellers/${other.user.id}/payouts`, form),
    ]);
    expect([a.statusCode, b.statusCode]).toEqual([303, 303]);
    const atStripe = await h.stripe.payouts.list({}, { stripeAccount: other.accountId });
    expect(atStripe.data.map((p) => p.amount)).toEqual([4_500]);
    await h.settle();
    const rows = await h.database.db.selectFrom('payouts').selectAll().where('seller_id', '=', other.user.id).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.automatic).toBe(false);
    const audit = await h.database.db.selectFrom('admin_audit_log').select('action').where('target_id', '=', other.user.id).orderBy('id').execute();
    expect(audit.map((x) => x.action)).toEqual(['payout.request', 'payout.create']);
  });

  it('changing the schedule is applied at Stripe and audited', async () => {
    const response = await h.admin.post(`/admin/sellers/${seller.user.id}/payout-schedule`, { interval: 'weekly', weekly_anchor: 'friday' });
    expect(response.statusCode).toBe(303);
    const account = await h.stripe.accounts.retrieve(seller.accountId);
    expect(account.settings?.payouts?.schedule).toMatchObject({ interval: 'weekly', weekly_anchor: 'friday' });
    const audit = await h.database.db.selectFrom('admin_audit_log').selectAll().where('action', '=', 'payouts.schedule').executeTakeFirstOrThrow();
    expect(audit.before).toMatchObject({ interval: 'daily' });
    expect(audit.after).toMatchObject({ interval: 'weekly', weekly_anchor: 'friday' });
  });
  it('payout events delivered newest-first (paid before created) still end in the true state', async () => {
    const third = await createSeller(h);
    await createPaidOrder(h, third, { amount: 2_000 });
    // Hold every delivery, then release them newest-first: paid, updated, then created.
    await h.emu.control('POST', '/_emulator/delivery', { mode: 'reorder', batch: 1000 });
    await h.emu.advanceClock(DAY); // midnight: automatic payout created
    await h.emu.advanceClock(DAY); // arrival: updated + paid
    await h.emu.control('POST', '/_emulator/delivery/flush');
    await h.settle();
    await h.emu.control('POST', '/_emulator/delivery', { mode: 'normal' });
    const atStripe = await h.stripe.payouts.list({}, { stripeAccount: third.accountId });
    expect(atStripe.data.map((p) => p.status)).toEqual(['paid']);
    const rows = await h.database.db.selectFrom('payouts').selectAll().where('seller_id', '=', third.user.id).execute();
    expect(rows.map((r) => [r.id, r.status, r.amount])).toEqual([[atStripe.data[0]!.id, 'paid', 1_800]]);
    const types = await h.database.db
      .selectFrom('stripe_events')
      .select(['type', 'status'])
      .where('account', '=', third.accountId)
      .where('type', 'like', 'payout.%')
      .orderBy('received_at')
      .execute();
    expect(types.map((t) => t.type)).toEqual(['payout.paid', 'payout.updated', 'payout.created']);
    expect(types.every((t) => t.status === 'done')).toBe(true);
  });
});
