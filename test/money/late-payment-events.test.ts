// Payment events that arrive late — after an outage, or a webhook retried for days — once the order
// has moved on: fully refunded, disputed and lost, canceled. Each is a snapshot Stripe sent earlier
// (taken from the emulator before the order moved on), for every payment event type we handle,
// delivered signed through the real endpoint and worker. The order must stay where it was: same
// status, same refunded total, no new transition. Only a failed refund may move an order backwards,
// and only on purpose (src/orders/rules.ts, the `refund_failed` correction).
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import type { Order } from '../../src/db/schema.ts';
import { completeOrder } from '../../src/orders/use-cases.ts';
import { useWorld } from '../helpers/fixture.ts';
import { payOnCheckoutPage } from '../helpers/hosted-pages.ts';
import { createHostedOrder, createPendingOrder, orderRow, requestRefundAsAdmin, useSeller } from '../helpers/market.ts';
import type { HeldEvent } from '../helpers/stripe-events.ts';
import { craftedEvent } from './reordering.ts';

const w = useWorld({ webhooks: true, admin: true });
const seller = useSeller(w, { manualPayouts: true });

const SESSION_TYPES = [
  'checkout.session.completed',
  'checkout.session.async_payment_succeeded',
  'checkout.session.async_payment_failed',
  'checkout.session.expired',
] as const;
const INTENT_TYPES = ['payment_intent.succeeded', 'payment_intent.payment_failed', 'payment_intent.processing', 'payment_intent.canceled'] as const;

interface Snapshots {
  session?: Stripe.Checkout.Session;
  intent?: Stripe.PaymentIntent;
  charge?: Stripe.Charge;
  at: number;
}

/** Every payment event type, each carrying the earlier snapshot as that type's event would have. */
function lateEvents(s: Snapshots): HeldEvent[] {
  const events: HeldEvent[] = [];
  if (s.session !== undefined) {
    const session = s.session;
    events.push(
      craftedEvent('checkout.session.completed', session, s.at),
      craftedEvent('checkout.session.async_payment_succeeded', session, s.at),
      craftedEvent('checkout.session.async_payment_failed', { ...session, payment_status: 'unpaid' }, s.at),
      craftedEvent('checkout.session.expired', { ...session, status: 'expired', payment_status: 'unpaid', url: null }, s.at),
    );
  }
  if (s.intent !== undefined) {
    const intent = s.intent;
    const declined = { code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.', type: 'card_error' };
    events.push(
      craftedEvent('payment_intent.succeeded', intent, s.at),
      craftedEvent('payment_intent.payment_failed', { ...intent, status: 'requires_payment_method', last_payment_error: declined }, s.at),
      craftedEvent('payment_intent.processing', { ...intent, status: 'processing' }, s.at),
      craftedEvent('payment_intent.canceled', { ...intent, status: 'canceled', cancellation_reason: 'abandoned' }, s.at),
    );
  }
  if (s.charge !== undefined) events.push(craftedEvent('charge.succeeded', s.charge, s.at));
  return events;
}

/** A hosted-Checkout order paid with `card` on the emulator's page, and the snapshots Stripe would have sent then. */
async function paidHostedOrder(amount: number, card = '4242424242424242'): Promise<{ order: Order; snapshots: Snapshots }> {
  const order = await createHostedOrder(w, seller, amount);
  await payOnCheckoutPage(order.stripe_checkout_url!, card);
  await completeOrder(w.db, w.stripe, order.buyer_id, order.id);
  await w.settle();
  const session = await w.stripe.checkout.sessions.retrieve(order.stripe_checkout_session_id!);
  const intent = await w.stripe.paymentIntents.retrieve(String(session.payment_intent));
  const charge = await w.stripe.charges.retrieve(String(intent.latest_charge));
  return { order: await orderRow(w.db, order.id), snapshots: { session, intent, charge, at: Math.floor(Date.now() / 1000) } };
}

async function where(orderId: string) {
  const order = await orderRow(w.db, orderId);
  const transitions = await w.db.selectFrom('order_transitions').select(['to_status']).where('order_id', '=', orderId).execute();
  return { status: order.status, amount_refunded: order.amount_refunded, dispute_status: order.dispute_status, transitions: transitions.length };
}

/** Delivers each late event alone and checks the order did not move. */
async function expectUnmoved(orderId: string, events: HeldEvent[]): Promise<void> {
  const before = await where(orderId);
  for (const event of events) {
    await w.events.deliver([event]);
    expect({ type: event.type, ...(await where(orderId)) }).toEqual({ type: event.type, ...before });
  }
  const rows = await w.db
    .selectFrom('stripe_events')
    .select(['id', 'status'])
    .where(
      'id',
      'in',
      events.map((e) => e.id),
    )
    .execute();
  expect(rows.map((r) => r.status)).toEqual(events.map(() => 'done'));
}

describe('a late payment event of every type', () => {
  it('after a full refund: the order stays refunded', async () => {
    const { order, snapshots } = await paidHostedOrder(8_000);
    expect(order.status).toBe('paid');
    await requestRefundAsAdmin(w, order.id, '80.00');
    await w.settle();
    expect(await where(order.id)).toMatchObject({ status: 'refunded', amount_refunded: 8_000 });
    const events = lateEvents(snapshots);
    expect(events.map((e) => e.type).sort()).toEqual([...SESSION_TYPES, ...INTENT_TYPES, 'charge.succeeded'].sort());
    await expectUnmoved(order.id, events);
  });

  it('after a partial refund: the order stays partially refunded', async () => {
    const { order, snapshots } = await paidHostedOrder(9_000);
    await requestRefundAsAdmin(w, order.id, '10.00');
    await w.settle();
    expect(await where(order.id)).toMatchObject({ status: 'partially_refunded', amount_refunded: 1_000 });
    await expectUnmoved(order.id, lateEvents(snapshots));
  });

  it('after a dispute that was lost: the order stays paid and lost', async () => {
    const { order, snapshots } = await paidHostedOrder(7_500, '4000000000000259');
    const dispute = await w.db.selectFrom('disputes').select('id').where('order_id', '=', order.id).executeTakeFirstOrThrow();
    await w.stripe.disputes.update(dispute.id, { evidence: { uncategorized_text: 'losing_evidence' }, submit: true });
    await w.settle();
    expect(await where(order.id)).toMatchObject({ status: 'paid', dispute_status: 'lost' });
    await expectUnmoved(order.id, lateEvents(snapshots));
  });

  it('after its Checkout Session expired unpaid: the order stays canceled', async () => {
    const order = await createHostedOrder(w, seller, 2_500);
    const open = await w.stripe.checkout.sessions.retrieve(order.stripe_checkout_session_id!);
    await w.stripe.checkout.sessions.expire(open.id);
    await w.settle();
    expect(await where(order.id)).toMatchObject({ status: 'canceled' });
    await expectUnmoved(order.id, lateEvents({ session: { ...open, status: 'complete', payment_status: 'paid' }, at: Math.floor(Date.now() / 1000) }));
  });

  it('after its PaymentIntent was canceled: the order stays canceled', async () => {
    const order = await createPendingOrder(w, seller, 3_300);
    const before = await w.stripe.paymentIntents.retrieve(order.stripe_payment_intent_id!);
    await w.stripe.paymentIntents.cancel(before.id, { cancellation_reason: 'abandoned' });
    await w.settle();
    expect(await where(order.id)).toMatchObject({ status: 'canceled' });
    await expectUnmoved(order.id, lateEvents({ intent: before, at: Math.floor(Date.now() / 1000) }));
  });
});
