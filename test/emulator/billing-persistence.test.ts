/**
 * Billing persists in the state file (issue #11 point 13): an emulator restarted on the file has
 * the customers, subscriptions, invoices, billing settings and an open subscription-mode Checkout
 * Session (with its private state: it can still be paid), and replays idempotent creations.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import type Stripe from 'stripe';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import { stripeAt } from './helpers.ts';
import { press, visit } from './billing-pages.ts';

const dir = mkdtempSync(join(tmpdir(), 'emu-billing-state-'));
const stateFile = join(dir, 'state.json');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function client(emu: RunningEmulator): Stripe {
  return stripeAt(emu.url);
}

test('subscriptions, invoices, settings and an open subscription Checkout Session survive a restart', async () => {
  const first = await startEmulator({ port: 0, stateFile, tickIntervalMs: 0 });
  let s = client(first);
  const customer = await s.customers.create({
    email: 'persist@example.com',
    payment_method: 'pm_card_visa',
    invoice_settings: { default_payment_method: 'pm_card_visa' },
  });
  const prod = await s.products.create({ name: 'Tea club' });
  const price = await s.prices.create({ product: prod.id, currency: 'usd', unit_amount: 1500, recurring: { interval: 'month' } });
  const sub = await s.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] }, { idempotencyKey: 'persist-sub' });
  const session = await s.checkout.sessions.create({
    mode: 'subscription',
    customer: customer.id,
    line_items: [{ price: price.id, quantity: 1 }],
    subscription_data: { metadata: { kept: 'yes' } },
    success_url: 'https://shop.example/ok',
  });
  await fetch(`${first.url}/_emulator/billing/settings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ subscription_after_retries: 'unpaid' }),
  });
  await first.stop();

  const second = await startEmulator({ port: 0, stateFile, tickIntervalMs: 0 });
  try {
    s = client(second);
    expect(await s.subscriptions.retrieve(sub.id)).toMatchObject({ status: 'active', customer: customer.id });
    expect(await s.invoices.retrieve(String(sub.latest_invoice))).toMatchObject({ status: 'paid', amount_paid: 1500 });
    const replay = await s.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] }, { idempotencyKey: 'persist-sub' });
    expect(replay.id).toBe(sub.id);
    expect(await (await fetch(`${second.url}/_emulator/billing/settings`)).json()).toMatchObject({ subscription_after_retries: 'unpaid' });
    // The session's URL points at the first emulator's port; the page lives on at the same path here.
    const path = new URL(String(session.url)).pathname;
    const done = await press(await visit(`${second.url}${path}`), 'pay', { card_number: '4242424242424242', email: 'persist@example.com' });
    expect(done.url).toBe('https://shop.example/ok');
    const completed = await s.checkout.sessions.retrieve(session.id);
    expect(await s.subscriptions.retrieve(String(completed.subscription))).toMatchObject({ status: 'active', metadata: { kept: 'yes' } });
  } finally {
    await second.stop();
  }
});
