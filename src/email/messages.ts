// Which messages each change sends. Each function is called inside the transaction of the change
// it reports (see the one-line calls in orders/state.ts, refunds, disputes, payouts and
// sellers/account-state.ts), reads what the message needs, and enqueues it under a key naming its
// cause, so running it again for the same cause — a duplicate event, a retried handler — adds
// nothing. They only read and insert: nothing here may make the change itself fail.
import { createHash } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Database, DisputeRow, Order, RefundRequest } from '../db/schema.ts';
import { findUserById } from '../auth/users.ts';
import type { AccountStateView } from '../sellers/account-state.ts';
import { shipToLines } from '../orders/shipping.ts';
import { enqueueEmail } from './outbox.ts';

type Trx = Transaction<Database>;

/** Order paid: the buyer's receipt, and the seller's "new sale" with where to ship. */
export async function enqueueOrderPaidEmails(trx: Trx, order: Order): Promise<void> {
  const seller = await trx.selectFrom('users').select(['email', 'display_name']).where('id', '=', order.seller_id).executeTakeFirst();
  const common = { orderId: order.id, title: order.title, quantity: order.quantity, amount: order.amount, currency: order.currency };
  await enqueueEmail(trx, {
    template: 'order-receipt',
    to: order.buyer_email,
    dedupeKey: `order:${order.id}:receipt`,
    data: { ...common, sellerName: seller?.display_name ?? 'the seller', paidAt: (order.paid_at ?? new Date()).toISOString() },
  });
  if (seller === undefined) return;
  await enqueueEmail(trx, {
    template: 'new-sale',
    to: seller.email,
    dedupeKey: `order:${order.id}:new-sale`,
    // Where to ship a physical order (recorded before it became paid); digital orders have none.
    data: {
      ...common,
      applicationFee: order.application_fee_amount,
      buyerEmail: order.buyer_email,
      shipTo: order.ship_to === null ? null : { name: order.ship_to.name, lines: shipToLines(order.ship_to) },
    },
  });
}

/** The seller marked an order shipped: the buyer hears it once, with the carrier and tracking number. */
export async function enqueueOrderShippedEmail(trx: Trx, order: Order, shipment: { carrier: string; trackingNumber: string }): Promise<void> {
  await enqueueEmail(trx, {
    template: 'order-shipped',
    to: order.buyer_email,
    dedupeKey: `order:${order.id}:shipped`,
    data: { orderId: order.id, title: order.title, carrier: shipment.carrier, trackingNumber: shipment.trackingNumber },
  });
}

/** A refund Stripe reports as succeeded: tell the buyer, once per refund. */
export async function enqueueRefundIssuedEmail(trx: Trx, refundId: string): Promise<void> {
  const row = await trx
    .selectFrom('refunds')
    .innerJoin('orders', 'orders.id', 'refunds.order_id')
    .select([
      'refunds.id',
      'refunds.status',
      'refunds.amount',
      'orders.id as order_id',
      'orders.title',
      'orders.currency',
      'orders.amount as order_amount',
      'orders.amount_refunded',
      'orders.buyer_email',
    ])
    .where('refunds.id', '=', refundId)
    .executeTakeFirst();
  if (row === undefined || row.status !== 'succeeded') return;
  await enqueueEmail(trx, {
    template: 'refund-issued',
    to: row.buyer_email,
    dedupeKey: `refund:${row.id}:issued`,
    data: {
      orderId: row.order_id,
      title: row.title,
      amount: row.amount,
      currency: row.currency,
      refundedTotal: row.amount_refunded,
      orderAmount: row.order_amount,
    },
  });
}

/** A buyer asked for a refund: the order's seller hears of it once, with the reason and where to answer. */
export async function enqueueRefundRequestedEmail(trx: Trx, order: Order, request: RefundRequest): Promise<void> {
  const seller = await findUserById(trx, order.seller_id);
  if (seller === undefined) return;
  await enqueueEmail(trx, {
    template: 'refund-requested',
    to: seller.email,
    dedupeKey: `refund-request:${request.id}:seller`,
    data: { orderId: order.id, title: order.title, amount: order.amount, currency: order.currency, reason: request.reason },
  });
}

const CLOSED_DISPUTE = ['won', 'lost', 'warning_closed', 'prevented'];

/** A dispute on one of our orders: the seller and every admin hear of it, once each. */
export async function enqueueDisputeOpenedEmails(trx: Trx, dispute: DisputeRow): Promise<void> {
  if (dispute.order_id === null || CLOSED_DISPUTE.includes(dispute.status)) return;
  const order = await trx
    .selectFrom('orders')
    .innerJoin('users', 'users.id', 'orders.seller_id')
    .select(['orders.id', 'orders.title', 'users.id as seller_id', 'users.email as seller_email'])
    .where('orders.id', '=', dispute.order_id)
    .executeTakeFirst();
  if (order === undefined) return;
  const admins = await trx.selectFrom('users').select(['id', 'email']).where('role', '=', 'admin').execute();
  const recipients = [
    { id: order.seller_id, email: order.seller_email, audience: 'seller' as const },
    ...admins.map((a) => ({ ...a, audience: 'admin' as const })),
  ];
  for (const recipient of recipients) {
    await enqueueEmail(trx, {
      template: 'dispute-opened',
      to: recipient.email,
      dedupeKey: `dispute:${dispute.id}:opened:${recipient.id}`,
      data: {
        audience: recipient.audience,
        disputeId: dispute.id,
        orderId: order.id,
        title: order.title,
        amount: dispute.amount,
        currency: dispute.currency,
        reason: dispute.reason.replaceAll('_', ' '),
        evidenceDueBy: dispute.evidence_due_by?.toISOString() ?? null,
      },
    });
  }
}

/** A seller's payout, as stored now, is paid: tell them once. */
export async function enqueuePayoutPaidEmail(trx: Trx, payoutId: string): Promise<void> {
  const row = await trx
    .selectFrom('payouts')
    .innerJoin('users', 'users.id', 'payouts.seller_id')
    .select(['payouts.id', 'payouts.status', 'payouts.amount', 'payouts.currency', 'payouts.arrival_date', 'users.email'])
    .where('payouts.id', '=', payoutId)
    .executeTakeFirst();
  if (row === undefined || row.status !== 'paid') return;
  await enqueueEmail(trx, {
    template: 'payout-paid',
    to: row.email,
    dedupeKey: `payout:${row.id}:paid`,
    data: { payoutId: row.id, amount: row.amount, currency: row.currency, arrivalDate: row.arrival_date?.toISOString() ?? null },
  });
}

/**
 * Stripe needs something from the seller. Once per distinct request: the key carries a digest of
 * what is due and by when, so a new requirement or deadline is news, and the same one repeated by
 * every account.updated event is not.
 */
export async function enqueueAccountActionEmail(trx: Trx, sellerId: string, view: AccountStateView): Promise<void> {
  if (view.state !== 'restricted' || view.nextStep !== 'fix_requirements') return;
  const seller = await trx.selectFrom('users').select('email').where('id', '=', sellerId).executeTakeFirst();
  if (seller === undefined) return;
  const deadline = view.deadline?.toISOString() ?? null;
  const digest = createHash('sha256')
    .update(JSON.stringify([[...view.due].sort(), deadline, view.pastDue, view.disabledReason]))
    .digest('hex')
    .slice(0, 16);
  await enqueueEmail(trx, {
    template: 'onboarding-action-needed',
    to: seller.email,
    dedupeKey: `seller:${sellerId}:action-needed:${digest}`,
    data: { summary: view.summary, due: view.due, deadline, pastDue: view.pastDue },
  });
}
