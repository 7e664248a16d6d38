// The seller's view of their orders: what each sale is really worth to them after refunds and
// disputes. A destination charge transfers the whole amount to the seller and takes the platform's
// fee back; a refund may reverse part of that transfer (and return part of the fee); by policy a
// dispute takes the disputed amount back from the seller while it is open or lost, and pays it back
// when it is won. Stripe's own fees (processing, dispute) are the platform's, never the seller's.
// Reads only; amounts stay integers of minor units until the template formats them.
import type { Kysely } from 'kysely';
import type { Database, DisputeStatus, Order } from '../db/schema.ts';
import { afterCursor, type Cursor } from '../db/paging.ts';
import { found } from '../errors.ts';
import { fulfilmentView } from './fulfilment.ts';
import { sellerNetOf, wasCharged, type SellerDisputeMoney, type SellerRefundMoney } from './rules.ts';

const COUNTED_REFUNDS = ['pending', 'requires_action', 'succeeded'] as const;

export interface SellerOrderMoney {
  /** Charged, so the platform's fee and the transfer happened (not for pending, failed or canceled orders). */
  charged: boolean;
  applicationFee: number | null;
  /** What the transfer less the fee first brought the seller. */
  initialNet: number | null;
  refunded: number;
  refundedFromSeller: number;
  feeReturned: number;
  disputed: number;
  /** The disputes' state in words, e.g. "Under review", "Lost". */
  disputeState: string | null;
  disputeTaken: number;
  disputeReturned: number;
  /** The seller's net after all of the above (orders/rules.ts sellerNetOf). */
  net: number | null;
  /** A dispute is still open: part of the net may come back. */
  provisional: boolean;
}

interface Facts {
  refunds: SellerRefundMoney[];
  feeReturned: number;
  disputes: (SellerDisputeMoney & { status: DisputeStatus })[];
}

const DISPUTE_WORDS: Record<DisputeStatus, string> = {
  warning_needs_response: 'Inquiry: response needed',
  warning_under_review: 'Inquiry under review',
  warning_closed: 'Inquiry closed',
  needs_response: 'Response needed',
  under_review: 'Under review',
  appeal_needs_response: 'Appeal: response needed',
  appeal_under_review: 'Appeal under review',
  won: 'Won',
  lost: 'Lost',
  prevented: 'Prevented',
};
const CLOSED: readonly DisputeStatus[] = ['warning_closed', 'won', 'lost', 'prevented'];

export function disputeWords(status: DisputeStatus): string {
  return DISPUTE_WORDS[status] ?? status;
}

/** Pure: the seller's money on one order, in the figures the pages and the export show. */
export function sellerOrderMoney(order: Order, facts: Facts): SellerOrderMoney {
  const charged = wasCharged(order.status);
  const net = sellerNetOf(order, facts);
  const last = facts.disputes.at(-1);
  return {
    charged,
    applicationFee: charged ? order.application_fee_amount : null,
    initialNet: charged ? net.initial : null,
    refunded: facts.refunds.reduce((n, r) => n + r.amount, 0),
    refundedFromSeller: facts.refunds.reduce((n, r) => n + r.fromSeller, 0),
    feeReturned: facts.feeReturned,
    disputed: facts.disputes.reduce((n, d) => n + d.amount, 0),
    disputeState: last === undefined ? null : disputeWords(last.status),
    disputeTaken: facts.disputes.reduce((n, d) => n + d.recovered, 0),
    disputeReturned: facts.disputes.reduce((n, d) => n + d.repaid, 0),
    net: charged ? net.final : null,
    provisional: facts.disputes.some((d) => !CLOSED.includes(d.status)),
  };
}

async function factsFor(db: Kysely<Database>, orderIds: string[]): Promise<Map<string, Facts>> {
  const facts = new Map<string, Facts>(orderIds.map((id) => [id, { refunds: [], feeReturned: 0, disputes: [] }]));
  if (orderIds.length === 0) return facts;
  const refunds = await db
    .selectFrom('refunds')
    .select(['order_id', 'amount', 'transfer_reversal_amount'])
    .where('order_id', 'in', orderIds)
    .where('status', 'in', COUNTED_REFUNDS)
    .execute();
  for (const r of refunds) facts.get(r.order_id)!.refunds.push({ amount: r.amount, fromSeller: r.transfer_reversal_amount ?? 0 });
  const money = await db.selectFrom('order_money').select(['order_id', 'fee_refunded']).where('order_id', 'in', orderIds).execute();
  for (const m of money) facts.get(m.order_id)!.feeReturned = m.fee_refunded;
  const disputes = await db
    .selectFrom('disputes')
    .select(['order_id', 'amount', 'status', 'recovered_amount', 'repaid_amount'])
    .where('order_id', 'in', orderIds)
    .orderBy('stripe_created')
    .execute();
  for (const d of disputes) {
    if (d.order_id !== null)
      facts.get(d.order_id)!.disputes.push({ amount: d.amount, status: d.status, recovered: d.recovered_amount, repaid: d.repaid_amount });
  }
  return facts;
}

/**
 * The seller's orders, newest first, each with its money: `size` of them after `after` (a keyset
 * page over the (seller_id, created_at desc, id desc) index, so the CSV export can walk them all).
 */
export async function sellerOrdersWithMoney(
  db: Kysely<Database>,
  sellerId: string,
  page: { size: number; after?: Cursor | undefined },
): Promise<(Order & { money: SellerOrderMoney })[]> {
  let query = db.selectFrom('orders').selectAll().where('seller_id', '=', sellerId);
  if (page.after !== undefined) query = query.where(afterCursor(page.after, 'orders', 'created_at'));
  const orders = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(page.size).execute();
  const facts = await factsFor(
    db,
    orders.map((o) => o.id),
  );
  return orders.map((order) => ({ ...order, money: sellerOrderMoney(order, facts.get(order.id)!) }));
}

/** The seller's orders page: the newest `limit`, each with its money. */
export async function sellerOrdersPage(db: Kysely<Database>, sellerId: string, limit = 100): Promise<(Order & { money: SellerOrderMoney })[]> {
  return sellerOrdersWithMoney(db, sellerId, { size: limit });
}

/**
 * One of the seller's orders with its money and a line per refund and per dispute (what each took
 * from or gave back to the seller); someone else's order is not found.
 */
export async function sellerOrderDetail(db: Kysely<Database>, sellerId: string, orderId: string) {
  const order = found(await db.selectFrom('orders').selectAll().where('id', '=', orderId).where('seller_id', '=', sellerId).executeTakeFirst());
  const facts = (await factsFor(db, [order.id])).get(order.id)!;
  const refunds = await db
    .selectFrom('refunds')
    .select(['id', 'amount', 'status', 'transfer_reversal_amount', 'created_at'])
    .where('order_id', '=', order.id)
    .where('status', 'in', COUNTED_REFUNDS)
    .orderBy('created_at')
    .execute();
  const disputes = await db
    .selectFrom('disputes')
    .select(['id', 'amount', 'status', 'reason', 'recovered_amount', 'repaid_amount', 'evidence_due_by', 'stripe_created'])
    .where('order_id', '=', order.id)
    .orderBy('stripe_created')
    .execute();
  return {
    order,
    money: sellerOrderMoney(order, facts),
    refunds: refunds.map((r) => ({ ...r, fromSeller: r.transfer_reversal_amount ?? 0, pending: r.status !== 'succeeded' })),
    disputes: disputes.map((d) => ({
      ...d,
      statusWords: disputeWords(d.status),
      reasonWords: d.reason.replaceAll('_', ' '),
      open: !CLOSED.includes(d.status),
    })),
    fulfilment: await fulfilmentView(db, order),
  };
}
