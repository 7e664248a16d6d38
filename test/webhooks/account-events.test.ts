// The account family end to end: the emulator's signed events reach our Connect endpoint, the worker
// applies them to the seller through the sellers module's state function, and order does not matter.
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { ensureConnectedAccount } from '../../src/sellers/use-cases.ts';
import { accountHandlers } from '../../src/webhooks/handlers/accounts.ts';
import { drainInbox } from '../../src/webhooks/processor.ts';
import { createTestUser } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';
import { makeEvent, postSigned, signature } from '../helpers/webhooks.ts';

const w = useWorld({ webhooks: true });

async function newSeller(): Promise<{ sellerId: string; accountId: string }> {
  const user = await createTestUser(w.db, 'seller');
  const { accountId } = await ensureConnectedAccount(w.db, w.stripe, { sellerId: user.id, country: 'US', email: user.email });
  await w.emu.control('POST', '/_emulator/delivery/flush');
  return { sellerId: user.id, accountId };
}

const sellerState = (sellerId: string) =>
  w.db
    .selectFrom('sellers')
    .select(['account_state', 'charges_enabled', 'payouts_enabled', 'state_observed_at'])
    .where('id', '=', sellerId)
    .executeTakeFirstOrThrow();

const onboard = (accountId: string, outcome: string) => w.emu.control('POST', `/_emulator/accounts/${accountId}/onboarding`, { outcome });

describe('account family', () => {
  it('onboarding events delivered normally take the seller to enabled (account.updated and capability.updated)', async () => {
    const { sellerId, accountId } = await newSeller();
    await w.emu.advanceClock(2);
    await onboard(accountId, 'verified');
    await w.emu.control('POST', '/_emulator/delivery/flush');
    const rows = await w.db.selectFrom('stripe_events').select(['type', 'status']).where('account', '=', accountId).execute();
    expect(rows.map((r) => r.type)).toEqual(expect.arrayContaining(['account.updated', 'capability.updated']));
    await drainInbox(w.db, w.stripe);
    expect(await sellerState(sellerId)).toMatchObject({ account_state: 'enabled', charges_enabled: true, payouts_enabled: true });
    const after = await w.db.selectFrom('stripe_events').select(['type', 'status']).where('account', '=', accountId).execute();
    for (const row of after) expect(row.status).toBe(['account.updated', 'capability.updated'].includes(row.type) ? 'done' : 'ignored');
  });

  it('account.updated deliveries in reverse order → the newest state wins', async () => {
    const { sellerId, accountId } = await newSeller();
    // Hold every account.updated and release them newest-first (the emulator's reorder mode).
    await w.emu.control('POST', '/_emulator/delivery', { mode: 'reorder', batch: 1000, types: ['account.updated'] });
    await w.emu.advanceClock(5);
    await onboard(accountId, 'requirements_due');
    await w.emu.advanceClock(5);
    await onboard(accountId, 'pending_verification');
    await w.emu.advanceClock(5);
    await onboard(accountId, 'verified');
    await w.emu.control('POST', '/_emulator/delivery/flush');
    await w.emu.control('POST', '/_emulator/delivery', { mode: 'normal' });

    const rows = await w.db
      .selectFrom('stripe_events')
      .select(['id', 'created', 'received_at'])
      .where('account', '=', accountId)
      .where('type', '=', 'account.updated')
      .orderBy('received_at')
      .execute();
    expect(rows.length).toBeGreaterThanOrEqual(3);
    // They really arrived newest first.
    const created = rows.map((r) => r.created.getTime());
    expect(created).toEqual([...created].sort((a, b) => b - a));

    // One at a time, in arrival order, and only the account.updated handler: its own guard decides.
    await drainInbox(w.db, w.stripe, { handlers: { 'account.updated': accountHandlers['account.updated'] }, concurrency: 1 });
    const state = await sellerState(sellerId);
    expect(state).toMatchObject({ account_state: 'enabled', charges_enabled: true });
    expect(state.state_observed_at!.getTime()).toBe(Math.max(...created));
  });

  it('two account.updated events of the same second, in order: the tie is settled by re-reading the account', async () => {
    const { sellerId, accountId } = await newSeller();
    await w.emu.advanceClock(5);
    const older = (await onboard(accountId, 'requirements_due')) as Stripe.Account;
    const newer = (await onboard(accountId, 'verified')) as Stripe.Account;
    const second = Math.floor(Date.now() / 1000) + 3600; // a second after anything stored so far
    const secret = w.config.stripe.connectWebhookSecret!;
    for (const account of [older, newer]) {
      const payload = JSON.stringify(makeEvent('account.updated', account as unknown as Record<string, unknown>, { account: accountId, created: second }));
      expect((await postSigned(w.app, '/webhooks/stripe/connect', payload, signature(payload, secret))).statusCode).toBe(200);
    }
    await drainInbox(w.db, w.stripe, { handlers: { 'account.updated': accountHandlers['account.updated'] }, concurrency: 1 });
    expect(await sellerState(sellerId)).toMatchObject({ account_state: 'enabled' });
  });

  it('account.application.deauthorized: the seller can no longer take charges or payouts', async () => {
    const { sellerId, accountId } = await newSeller();
    await onboard(accountId, 'verified');
    await w.emu.control('POST', '/_emulator/delivery/flush');
    await drainInbox(w.db, w.stripe);
    expect(await sellerState(sellerId)).toMatchObject({ charges_enabled: true });

    const event = makeEvent(
      'account.application.deauthorized',
      { id: 'ca_platform', object: 'application', name: 'Marketplace' },
      { account: accountId, created: Math.floor(Date.now() / 1000) + 7200 },
    );
    const payload = JSON.stringify(event);
    expect((await postSigned(w.app, '/webhooks/stripe/connect', payload, signature(payload, w.config.stripe.connectWebhookSecret!))).statusCode).toBe(200);
    await drainInbox(w.db, w.stripe);
    expect(await sellerState(sellerId)).toMatchObject({ charges_enabled: false, payouts_enabled: false });
  });

  it('events for accounts that are not our sellers are processed as no-ops', async () => {
    const event = makeEvent('account.updated', { id: 'acct_stranger', object: 'account', charges_enabled: true }, { account: 'acct_stranger' });
    const payload = JSON.stringify(event);
    expect((await postSigned(w.app, '/webhooks/stripe/connect', payload, signature(payload, w.config.stripe.connectWebhookSecret!))).statusCode).toBe(200);
    await drainInbox(w.db, w.stripe);
    const row = await w.db.selectFrom('stripe_events').select('status').where('id', '=', event.id).executeTakeFirstOrThrow();
    expect(row.status).toBe('done');
  });
});
