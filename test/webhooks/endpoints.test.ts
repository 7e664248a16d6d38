// The two webhook endpoints against the real app, the real database and emulator-signed deliveries:
// what is rejected (400, nothing stored), what is stored (200, once), and what is ignored.
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { drainInbox } from '../../src/webhooks/processor.ts';
import { useWorld } from '../helpers/fixture.ts';
import {
  countingHandlers,
  createExpressAccount,
  createEffectsTable,
  effects,
  eventRows,
  makeEvent,
  postSigned,
  signature,
  waitFor,
} from '../helpers/webhooks.ts';

const w = useWorld({ webhooks: true });
let platformSecret: string;
let connectSecret: string;

beforeAll(async () => {
  platformSecret = w.config.stripe.platformWebhookSecret!;
  connectSecret = w.config.stripe.connectWebhookSecret!;
  await createEffectsTable(w.db);
});
beforeEach(async () => {
  await w.db.deleteFrom('stripe_events').execute();
});

/** A real event from the emulator (the platform creating a connected account emits none; updating one does). */
async function emulatorEvent(): Promise<{ payload: string; event: { id: string; type: string } }> {
  await w.emu.control('POST', '/_emulator/delivery', { mode: 'drop', count: 100 });
  const account = await createExpressAccount(w.emu);
  await w.stripe.accounts.update(account.id, { metadata: { n: String(Date.now()) } });
  await w.emu.control('POST', '/_emulator/delivery', { mode: 'normal' });
  const deliveries = await w.emu.control<{ data: { payload: string; event: string; event_type: string }[] }>('GET', `/_emulator/deliveries?status=dropped`);
  const last = deliveries.data.at(-1)!;
  return { payload: last.payload, event: { id: last.event, type: last.event_type } };
}

describe('rejected deliveries: 400 with a reason, nothing stored', () => {
  it('a forged signature (body changed after signing)', async () => {
    const { payload } = await emulatorEvent();
    const sig = signature(payload, connectSecret);
    const forged = payload.replace('"livemode": false', '"livemode": true');
    expect(forged).not.toBe(payload);
    const response = await postSigned(w.app, '/webhooks/stripe/connect', forged, sig);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: 'Invalid signature' });
    expect(await eventRows(w.db)).toHaveLength(0);
  });

  it('a signature made with a secret that is not ours', async () => {
    const { payload } = await emulatorEvent();
    const response = await postSigned(w.app, '/webhooks/stripe/connect', payload, signature(payload, 'whsec_someone_else'));
    expect(response.statusCode).toBe(400);
    expect(await eventRows(w.db)).toHaveLength(0);
  });

  it('the platform secret on the Connect route (and the Connect secret on the platform route)', async () => {
    const { payload } = await emulatorEvent();
    const onConnect = await postSigned(w.app, '/webhooks/stripe/connect', payload, signature(payload, platformSecret));
    const onPlatform = await postSigned(w.app, '/webhooks/stripe', payload, signature(payload, connectSecret));
    expect(onConnect.statusCode).toBe(400);
    expect(onPlatform.statusCode).toBe(400);
    expect(await eventRows(w.db)).toHaveLength(0);
  });

  it('a correctly signed delivery whose timestamp is 301 seconds old (a replay)', async () => {
    const { payload } = await emulatorEvent();
    const response = await postSigned(w.app, '/webhooks/stripe/connect', payload, signature(payload, connectSecret, Math.floor(Date.now() / 1000) - 301));
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: 'Signature timestamp too old' });
    expect(await eventRows(w.db)).toHaveLength(0);
  });

  it('an empty body, signed or not; a missing signature header; a signed body that is not JSON', async () => {
    const empty = await postSigned(w.app, '/webhooks/stripe', '', signature('', platformSecret));
    expect(empty.statusCode).toBe(400);
    expect(empty.json()).toEqual({ error: 'Empty body' });
    const { payload } = await emulatorEvent();
    const unsigned = await postSigned(w.app, '/webhooks/stripe/connect', payload, undefined);
    expect(unsigned.statusCode).toBe(400);
    expect(unsigned.json()).toEqual({ error: 'Missing Stripe-Signature header' });
    const garbage = 'not json {';
    const notJson = await postSigned(w.app, '/webhooks/stripe', garbage, signature(garbage, platformSecret));
    expect(notJson.statusCode).toBe(400);
    expect(await eventRows(w.db)).toHaveLength(0);
  });

  it('CSRF does not apply (Stripe has no cookie), the signature does: a fresh valid one is accepted', async () => {
    const { payload, event } = await emulatorEvent();
    const response = await postSigned(w.app, '/webhooks/stripe/connect', payload, signature(payload, connectSecret, Math.floor(Date.now() / 1000) - 299));
    expect(response.statusCode).toBe(200);
    expect((await eventRows(w.db)).map((r) => r.id)).toEqual([event.id]);
  });
});

describe('accepted deliveries', () => {
  it('the emulator delivers an account.updated to the Connect endpoint: stored pending with its facts, 200 before processing', async () => {
    const account = await createExpressAccount(w.emu);
    await w.stripe.accounts.update(account.id, { metadata: { step: 'one' } });
    await w.emu.control('POST', '/_emulator/delivery/flush');
    const rows = await eventRows(w.db);
    const updated = rows.find((r) => r.type === 'account.updated');
    expect(updated).toMatchObject({ account: account.id, source: 'connect', status: 'pending', attempts: 0, livemode: false });
    expect((updated!.payload as { data: { object: { id: string } } }).data.object.id).toBe(account.id);
    const deliveries = await w.emu.control<{ data: { event: string; status: string; attempts: { status: number }[] }[] }>(
      'GET',
      `/_emulator/deliveries?event=${updated!.id}`,
    );
    expect(deliveries.data.map((d) => [d.status, d.attempts.map((a) => a.status)])).toEqual([['succeeded', [200]]]);
  });

  it('the same event delivered 10 times at once → one row, and one effect once processed', async () => {
    const { payload, event } = await emulatorEvent();
    const sig = signature(payload, connectSecret);
    const responses = await Promise.all(
      Array.from({ length: 10 }, () =>
        fetch(`${w.baseUrl}/webhooks/stripe/connect`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'stripe-signature': sig },
          body: payload,
        }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
    const bodies = await Promise.all(responses.map((r) => r.json() as Promise<{ duplicate?: boolean }>));
    expect(bodies.filter((b) => b.duplicate !== true)).toHaveLength(1);
    expect((await eventRows(w.db)).map((r) => r.id)).toEqual([event.id]);

    await drainInbox(w.db, w.stripe, { handlers: countingHandlers([event.type]) });
    expect((await effects(w.db)).filter((e) => e.event_id === event.id)).toHaveLength(1);
  });

  it("the emulator's duplicate mode (5 copies of each event) → one row per event", async () => {
    await w.emu.control('POST', '/_emulator/delivery', { mode: 'duplicate', copies: 5, count: 1 });
    const account = await createExpressAccount(w.emu);
    await w.stripe.accounts.update(account.id, { metadata: { dup: 'yes' } });
    await w.emu.control('POST', '/_emulator/delivery/flush');
    const deliveries = await w.emu.control<{ data: { event: string; status: string }[] }>('GET', '/_emulator/deliveries?status=succeeded');
    const rows = await eventRows(w.db);
    const copies = deliveries.data.filter((d) => d.event === rows[0]?.id);
    expect(copies.length).toBe(5);
    expect(rows).toHaveLength(1);
  });

  it('an event whose livemode differs from our key is stored as ignored and never processed', async () => {
    const event = makeEvent('account.updated', { id: 'acct_live', object: 'account' }, { account: 'acct_live', livemode: true });
    const payload = JSON.stringify(event);
    const response = await postSigned(w.app, '/webhooks/stripe/connect', payload, signature(payload, connectSecret));
    expect(response.statusCode).toBe(200);
    const [row] = await eventRows(w.db);
    expect(row).toMatchObject({ id: event.id, status: 'ignored' });
    const outcomes = await drainInbox(w.db, w.stripe, { handlers: countingHandlers(['account.updated']) });
    expect(outcomes.done).toBe(0);
    expect((await effects(w.db)).filter((e) => e.event_id === event.id)).toHaveLength(0);
  });

  it('a type without a handler is marked ignored by the worker', async () => {
    const event = makeEvent('customer.created', { id: 'cus_1', object: 'customer' });
    const payload = JSON.stringify(event);
    expect((await postSigned(w.app, '/webhooks/stripe', payload, signature(payload, platformSecret))).statusCode).toBe(200);
    await drainInbox(w.db, w.stripe);
    const [row] = await eventRows(w.db);
    expect(row).toMatchObject({ status: 'ignored', last_error: 'no handler for customer.created', attempts: 1 });
  });
});

// Keeps the "wait until" helper honest for the other files: it returns as soon as the check holds.
it('waitFor returns once its check holds', async () => {
  let n = 0;
  await waitFor(() => ++n >= 3, 1);
  expect(n).toBe(3);
});
