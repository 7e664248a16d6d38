// Read models for the admin pages: an order's money breakdown, its related Stripe events, and the
// admin home's summary (stored totals, see ./summary.ts, and live open disputes). Pure reads; amounts
// stay integers of minor units until the template formats them.
import { sql, type Kysely } from 'kysely';
import type { Database, DisputeRow, Order, RefundRow } from '../db/schema.ts';
import { formatMoney } from '../money.ts';
import { openDisputeDeadlines } from '../disputes/queries.ts';
import { CLOSED as DISPUTE_CLOSED } from '../disputes/rules.ts';
import { disputeWords } from '../orders/seller-orders.ts';
import { sellerDisputeNet, sellerNetOf, wasCharged } from '../orders/rules.ts';
import { readAdminTotals } from './summary.ts';

const COUNTED = new Set(['pending', 'requires_action', 'succeeded']);

export interface BreakdownLine {
  key: string;
  label: string;
  amount: number;
  formatted: string;
  hint?: string;
}

export function orderBreakdown(order: Order, refunds: RefundRow[], money: { fee_refunded: number } | undefined, disputes: DisputeRow[]): BreakdownLine[] {
  const c = order.currency;
  const line = (key: string, label: string, amount: number, hint?: string): BreakdownLine => ({
    key,
    label,
    amount,
    formatted: formatMoney(amount, c),
    ...(hint ? { hint } : {}),
  });
  const counted = refunds.filter((r) => COUNTED.has(r.status));
  const refunded = counted.reduce((n, r) => n + r.amount, 0);
  const fromSeller = counted.reduce((n, r) => n + (r.transfer_reversal_amount ?? 0), 0);
  const feeRefunded = money?.fee_refunded ?? 0;
  const net = sellerNetOf(order, {
    refunds: counted.map((r) => ({ amount: r.amount, fromSeller: r.transfer_reversal_amount ?? 0 })),
    feeReturned: feeRefunded,
    disputes: disputes.map((d) => ({ amount: d.amount, recovered: d.recovered_amount, repaid: d.repaid_amount })),
  });
  const lines = [
    line('gross', 'Gross (paid by the buyer)', order.amount),
    ...(order.stripe_fee_amount !== null ? [line('stripe_fee', "Stripe's fee (paid by the platform)", order.stripe_fee_amount)] : []),
    line(
      'application_fee',
      'Application fee (platform)',
      order.application_fee_amount,
      `${order.fee_basis_points} bp + ${formatMoney(order.fee_fixed_amount, c)}`,
    ),
    line('seller_net', 'Seller net (transfer − fee)', net.initial),
    line('refunded', 'Refunded to the buyer', refunded),
    line('refunded_from_seller', '… of which reversed from the seller', fromSeller),
    line('fee_refunded', '… application fee refunded to the seller', feeRefunded),
    line('refunded_by_platform', '… paid by the platform', refunded - fromSeller),
    line('seller_net_after_refunds', 'Seller net after refunds', net.afterRefunds),
    line('platform_fee_kept', 'Application fee kept', order.application_fee_amount - feeRefunded),
  ];
  let platformFinal = order.application_fee_amount - feeRefunded - (order.stripe_fee_amount ?? 0) - (refunded - fromSeller);
  let open = false;
  for (const d of disputes) {
    lines.push(line('disputed', `Disputed (${disputeWords(d.status)})`, d.amount, d.reason.replaceAll('_', ' ')));
    lines.push(
      line(
        'dispute_recovered',
        d.repaid_amount > 0 ? '… recovered from the seller (then repaid: see below)' : '… recovered from the seller',
        d.recovered_amount,
      ),
    );
    if (d.repaid_amount > 0) lines.push(line('dispute_repaid', '… returned to the seller (won)', d.repaid_amount));
    if (d.status === 'lost') platformFinal -= d.amount + d.dispute_fee - d.recovered_amount + d.repaid_amount;
    if (!DISPUTE_CLOSED.includes(d.status)) open = true;
    if (d.dispute_fee > 0) lines.push(line('dispute_fee', "… Stripe's dispute fee", d.dispute_fee));
    if (d.status === 'lost') {
      lines.push(line('dispute_loss', 'Lost to the dispute (platform, after recovery)', d.amount + d.dispute_fee - d.recovered_amount + d.repaid_amount));
      lines.push(line('dispute_seller_loss', 'Lost to the dispute (seller)', -sellerDisputeNet({ recovered: d.recovered_amount, repaid: d.repaid_amount })));
    }
  }
  if (wasCharged(order.status)) {
    // Everything above in one figure each: what the order finally left the seller and the platform.
    const note = open ? ' (while a dispute is open)' : '';
    lines.push(line('seller_final_net', `Seller net, final${note}`, net.final, 'after refunds and disputes'));
    lines.push(
      line(
        'platform_final_net',
        `Platform net, final${note}`,
        platformFinal,
        order.stripe_fee_amount === null
          ? "fee kept − refunds it paid − disputes lost; Stripe's fee not known yet"
          : "fee kept − Stripe's fee − refunds it paid − disputes lost",
      ),
    );
  }
  return lines;
}

/** Every inbox event about this order's Stripe objects, newest first. */
export async function relatedEvents(db: Kysely<Database>, order: Order, extraIds: string[]) {
  const ids = [
    order.stripe_payment_intent_id,
    order.stripe_charge_id,
    order.stripe_transfer_id,
    order.stripe_application_fee_id,
    order.stripe_checkout_session_id,
    ...extraIds,
  ].filter((id): id is string => id !== null && id !== '');
  const refs = ids.length === 0 ? ['-'] : ids;
  return db
    .selectFrom('stripe_events')
    .select(['id', 'type', 'status', 'created', 'received_at', 'last_error', 'account'])
    .where((eb) =>
      eb.or([
        eb(sql<string>`payload #>> '{data,object,id}'`, 'in', refs),
        eb(sql<string>`payload #>> '{data,object,payment_intent}'`, 'in', refs),
        eb(sql<string>`payload #>> '{data,object,charge}'`, 'in', refs),
        eb(sql<string>`payload #>> '{data,object,metadata,order_id}'`, '=', order.id),
      ]),
    )
    .orderBy('created', 'desc')
    .orderBy('id', 'desc')
    .limit(200)
    .execute();
}

export interface AdminSummary {
  volume: { currency: string; gross: string; fees: string; refunded: string }[];
  /** When the volume and seller counts were computed (the worker refreshes them every minute). */
  totalsAt: Date;
  openDisputes: number;
  nearestDeadline: Date | null;
  nearestDisputeId: string | null;
  sellersByState: { state: string; count: number }[];
}

export async function adminSummary(db: Kysely<Database>): Promise<AdminSummary> {
  const { totals, computedAt } = await readAdminTotals(db);
  // Live: open disputes are few, read through a partial index (disputes_open_due).
  const open = await openDisputeDeadlines(db);
  return {
    volume: totals.volume.map((v) => ({
      currency: v.currency,
      gross: formatMoney(v.gross, v.currency),
      fees: formatMoney(v.fees - v.feeRefunded, v.currency),
      refunded: formatMoney(v.refunded, v.currency),
    })),
    totalsAt: computedAt,
    openDisputes: open.length,
    nearestDeadline: open[0]?.evidence_due_by ?? null,
    nearestDisputeId: open[0]?.id ?? null,
    sellersByState: totals.sellersByState,
  };
}
