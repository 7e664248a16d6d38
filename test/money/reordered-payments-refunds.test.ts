// The payment and refund families, delivered in order, reversed and in seeded shuffles (see
// ./reordering.ts): every order reaches the same final state. The refund scenarios include a refund
// that Stripe reports succeeded and then failed, so a stale `refund.created` processed after
// `refund.failed` must not count the money as refunded again.
import Stripe from 'stripe';
import { describeFamily } from './reordering.ts';
import { useWorld } from '../helpers/fixture.ts';
import { createPaidOrder, createPendingOrder, orderRow, refundRows, requestRefundAsAdmin, useSeller } from '../helpers/market.ts';

const w = useWorld({ webhooks: true, admin: true });
const seller = useSeller(w, { manualPayouts: true });

async function orderMoney(orderId: string) {
  const o = await orderRow(w.db, orderId);
  const money = await w.db.selectFrom('order_money').selectAll().where('order_id', '=', orderId).executeTakeFirst();
  return {
    status: o.status,
    amount_refunded: o.amount_refunded,
    failure_code: o.failure_code,
    charge: o.stripe_charge_id !== null,
    transfer: o.stripe_transfer_id !== null,
    application_fee: o.stripe_application_fee_id !== null,
    stripe_fee: o.stripe_fee_amount,
    seller_net: o.seller_net_amount,
    fee_refunded: Number(money?.fee_refunded ?? 0),
    transfer_reversed: Number(money?.transfer_reversed ?? 0),
  };
}

/** A $100.00 order paid, nothing taken back: the refund families below expect it but for the fields they name. */
const PAID: Awaited<ReturnType<typeof orderMoney>> = {
  status: 'paid',
  amount_refunded: 0,
  failure_code: null,
  charge: true,
  transfer: true,
  application_fee: true,
  stripe_fee: 320,
  seller_net: 9_000,
  fee_refunded: 0,
  transfer_reversed: 0,
};

const isFailure = (e: { type: string; payload: string }) =>
  e.type === 'refund.failed' || (e.type === 'refund.updated' && e.payload.includes('"status": "failed"'));

async function refundsOf(orderId: string) {
  return (await refundRows(w.db, orderId)).map((r) => ({ amount: r.amount, status: r.status, reversal: r.transfer_reversal_amount }));
}

describeFamily(
  'payments (declined, then paid with another card)',
  () => w,
  async () => {
    const order = await createPendingOrder(w, seller, 10_000);
    await w.events.hold();
    const declined = await w.stripe.paymentIntents
      .confirm(order.stripe_payment_intent_id!, { payment_method: 'pm_card_chargeDeclined' })
      .catch((e: unknown) => e);
    if (!(declined instanceof Stripe.errors.StripeCardError)) throw new Error('the decline card did not decline');
    await w.stripe.paymentIntents.confirm(order.stripe_payment_intent_id!, { payment_method: 'pm_card_visa' });
    return { events: await w.events.held(true), state: () => orderMoney(order.id) };
  },
  PAID,
  { mustInclude: ['payment_intent.payment_failed', 'payment_intent.succeeded', 'charge.succeeded', 'application_fee.created', 'transfer.created'] },
);

describeFamily(
  'refunds (a partial refund that succeeds, then fails)',
  () => w,
  async () => {
    const order = await createPaidOrder(w, seller, { amount: 10_000, paymentMethod: 'pm_card_refundFail' });
    await w.events.hold();
    await requestRefundAsAdmin(w, order.id, '40.00');
    await w.emu.advanceClock(5); // the 5126 card's refund fails on the next tick, seconds later
    const events = await w.events.held(true);
    return { events, state: async () => ({ order: await orderMoney(order.id), refunds: await refundsOf(order.id) }) };
  },
  {
    order: { ...PAID, fee_refunded: 400, transfer_reversed: 4_000 },
    refunds: [{ amount: 4_000, status: 'failed', reversal: 4_000 }],
  },
  {
    mustInclude: ['refund.created', 'charge.refunded', 'refund.failed', 'refund.updated', 'transfer.reversed', 'application_fee.refunded'],
    // The outage case: the failure arrives first, and the stale `refund.created` (succeeded) last.
    extraOrders: [
      {
        name: 'the failure first, the stale refund.created last',
        arrange: (events) => [
          ...events.filter(isFailure),
          ...events.filter((e) => !isFailure(e) && e.type !== 'refund.created'),
          ...events.filter((e) => e.type === 'refund.created'),
        ],
      },
    ],
  },
);

describeFamily(
  'refunds (a partial refund, then the rest pending, then succeeded)',
  () => w,
  async () => {
    const order = await createPaidOrder(w, seller, { amount: 10_000, paymentMethod: 'pm_card_pendingRefund' });
    await w.events.hold();
    await requestRefundAsAdmin(w, order.id, '30.00');
    await w.emu.advanceClock(3);
    await requestRefundAsAdmin(w, order.id, '70.00', { refundApplicationFee: false });
    await w.emu.advanceClock(5); // pending refunds of the 7726 card succeed on the next tick
    const events = await w.events.held(true);
    return { events, state: async () => ({ order: await orderMoney(order.id), refunds: (await refundsOf(order.id)).sort((a, b) => a.amount - b.amount) }) };
  },
  {
    order: { ...PAID, status: 'refunded', amount_refunded: 10_000, fee_refunded: 300, transfer_reversed: 10_000 },
    refunds: [
      { amount: 3_000, status: 'succeeded', reversal: 3_000 },
      { amount: 7_000, status: 'succeeded', reversal: 7_000 },
    ],
  },
  { mustInclude: ['refund.created', 'refund.updated', 'charge.refunded', 'transfer.reversed', 'application_fee.refunded'] },
);
