// Issue 13: subscription and invoice events delivered in reverse order, and each delivered twice,
// through the real endpoint (signed), the inbox and the worker, end in the same final state as the
// story that produced them: a subscription paid, renewed, canceled at period end and ended, with
// both invoices paid and their money recorded.
import { describe, expect, it } from 'vitest';
import { buyerSetCancelAtPeriodEnd, subscribeWithPaymentElement } from '../../src/subscriptions/use-cases.ts';
import { useWorld } from '../helpers/fixture.ts';
import { useSeller } from '../helpers/market.ts';
import { intentIdOf, invoiceRows, planFor, subscriptionRow } from './harness.ts';

const h = useWorld({ webhooks: true, admin: true });
const seller = useSeller(h, { manualPayouts: true });

const TYPES = [
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'invoice.created',
  'invoice.finalized',
  'invoice.paid',
  'invoice.payment_succeeded',
  'invoice_payment.paid',
  'invoice.updated',
];

/** Subscribe, pay, renew once, cancel at period end, reach the end: with deliveries held back. */
async function story(): Promise<string> {
  const plan = await planFor(h, seller, { amount: '20.00' });
  const buyer = await h.signIn('buyer');
  const step = await subscribeWithPaymentElement(h.database.db, h.stripe, { buyerId: buyer.userId, planId: plan.id });
  await h.stripe.paymentIntents.confirm(intentIdOf(step.clientSecret!), { payment_method: 'pm_card_visa' });
  const stripeId = (await subscriptionRow(h, step.subscription.id)).stripe_subscription_id!;
  const first = await h.stripe.subscriptions.retrieve(stripeId);
  await h.emu.control('POST', '/_emulator/clock/advance', { to: first.items.data[0]!.current_period_end + 3700 });
  await buyerSetCancelAtPeriodEnd(h.database.db, h.stripe, buyer.userId, step.subscription.id, true);
  const renewed = await h.stripe.subscriptions.retrieve(stripeId);
  await h.emu.control('POST', '/_emulator/clock/advance', { to: renewed.items.data[0]!.current_period_end + 60 });
  return step.subscription.id;
}

async function expectFinalState(id: string): Promise<void> {
  const row = await subscriptionRow(h, id);
  expect(row).toMatchObject({ status: 'canceled', cancel_at_period_end: true });
  expect(row.ended_at).not.toBeNull();
  const invoices = await invoiceRows(h, id);
  expect(invoices.map((i) => [i.billing_reason, i.status, i.amount_paid, i.application_fee_amount, i.seller_net_amount])).toEqual([
    ['subscription_create', 'paid', 2000, 200, 1800],
    ['subscription_cycle', 'paid', 2000, 200, 1800],
  ]);
}

describe('any delivery order ends in the right state', () => {
  it('every subscription and invoice event delivered newest first', async () => {
    await h.emu.control('POST', '/_emulator/delivery', { mode: 'reorder', batch: 10_000, types: TYPES });
    const id = await story();
    const held = await h.emu.control<{ data: unknown[] }>('GET', '/_emulator/deliveries?status=held');
    await h.settle();
    await h.emu.control('POST', '/_emulator/delivery', { mode: 'normal' });
    expect(held.data.length).toBeGreaterThan(10);
    const events = await h.database.db
      .selectFrom('stripe_events')
      .select(['type', 'status', 'created'])
      .where('type', 'in', TYPES)
      .orderBy('received_at')
      .execute();
    // Received newest first (the reverse of their creation)...
    expect(events.length).toBeGreaterThan(10);
    expect(events[0]!.created.getTime()).toBeGreaterThanOrEqual(events.at(-1)!.created.getTime());
    expect(events.every((e) => e.status === 'done')).toBe(true);
    // ...and still the right end.
    await expectFinalState(id);
  });

  it('every event delivered twice', async () => {
    await h.emu.control('POST', '/_emulator/delivery', { mode: 'duplicate', copies: 2, types: TYPES });
    const id = await story();
    await h.settle();
    await h.emu.control('POST', '/_emulator/delivery', { mode: 'normal' });
    await expectFinalState(id);
  });
});
