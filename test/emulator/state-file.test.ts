/** The state file is kept current while the emulator runs (not only on stop), and reloads as it was. */
import { mkdtempSync, readFileSync, existsSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type Stripe from 'stripe';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import { stripeAt } from './helpers.ts';

let dir: string;
let stateFile: string;
let emu: RunningEmulator;
let stripe: Stripe;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'emu-state-file-'));
  stateFile = join(dir, 'state.json');
  emu = await startEmulator({ port: 0, stateFile, tickIntervalMs: 0 });
  stripe = stripeAt(emu.url);
});
afterAll(async () => {
  await emu.stop();
  rmSync(dir, { recursive: true, force: true });
});

const fileMentions = (text: string): boolean => existsSync(stateFile) && readFileSync(stateFile, 'utf8').includes(text);

test('changes reach the file shortly after they happen, while the emulator keeps running, and no temp file is left', async () => {
  const first = await stripe.paymentIntents.create(
    { amount: 1_000, currency: 'usd', metadata: { marker: 'first-change' } },
    { idempotencyKey: 'state-file-1' },
  );
  await expect.poll(() => fileMentions(first.id), { timeout: 10_000, interval: 50 }).toBe(true);
  const second = await stripe.paymentIntents.create({ amount: 2_000, currency: 'usd' });
  await expect.poll(() => fileMentions(second.id), { timeout: 10_000, interval: 50 }).toBe(true);
  await expect.poll(() => readdirSync(dir).filter((f) => f.includes('.tmp-')), { timeout: 10_000, interval: 50 }).toEqual([]);

  const saved = JSON.parse(readFileSync(stateFile, 'utf8')) as {
    version: number;
    store: { records: Array<{ id: string }> };
    idempotency: Array<[string, unknown]>;
  };
  expect(saved.version).toBe(1);
  expect(saved.store.records.map((r) => r.id)).toEqual(expect.arrayContaining([first.id, second.id]));
  expect(saved.idempotency.map(([scope]) => scope)).toContain(`${emu.platformAccount}|state-file-1`);
});

test('a state saved in the background reloads: objects and idempotent replays', async () => {
  const pi = await stripe.paymentIntents.create({ amount: 3_000, currency: 'usd' }, { idempotencyKey: 'state-file-2' });
  await expect.poll(() => fileMentions(pi.id), { timeout: 10_000, interval: 50 }).toBe(true);
  // A second emulator on the same file sees what the first one saved without being stopped.
  const reader = await startEmulator({ port: 0, stateFile, tickIntervalMs: 0 });
  try {
    const other = stripeAt(reader.url);
    expect((await other.paymentIntents.retrieve(pi.id)).amount).toBe(3_000);
    const replay = await other.paymentIntents.create({ amount: 3_000, currency: 'usd' }, { idempotencyKey: 'state-file-2' });
    expect(replay.id).toBe(pi.id);
    expect(replay.lastResponse.headers['idempotent-replayed']).toBe('true');
  } finally {
    await reader.stop();
  }
});
