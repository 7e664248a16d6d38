// CSV exports of orders, payouts and the audit log: for admins (everything) and for one seller
// (their own orders and payouts). Amounts are minor units, as stored, plus a decimal column a
// spreadsheet reads as money; times are ISO 8601 UTC. Each export is capped so one click cannot
// hold the database for long; the cap is said in the last line when reached.
import type { Kysely } from 'kysely';
import { toCsv, type CsvCell } from '../csv.ts';
import { ORDER_COLUMNS, orderCells, PAYOUT_COLUMNS, payoutCells } from '../csv-columns.ts';
import type { Database } from '../db/schema.ts';

export const EXPORT_MAX_ROWS = 50_000;

function capped(rows: CsvCell[][], width: number): CsvCell[][] {
  if (rows.length <= EXPORT_MAX_ROWS) return rows;
  const note: CsvCell[] = [`(only the newest ${EXPORT_MAX_ROWS} rows; filter by seller to export the rest)`, ...Array<CsvCell>(width - 1).fill('')];
  return [...rows.slice(0, EXPORT_MAX_ROWS), note];
}

export async function ordersCsv(db: Kysely<Database>, scope: { sellerId?: string } = {}): Promise<string> {
  let query = db
    .selectFrom('orders')
    .innerJoin('users as s', 's.id', 'orders.seller_id')
    .select([
      'orders.id',
      'orders.created_at',
      'orders.paid_at',
      'orders.status',
      'orders.title',
      'orders.quantity',
      'orders.currency',
      'orders.amount',
      'orders.application_fee_amount',
      'orders.stripe_fee_amount',
      'orders.amount_refunded',
      'orders.disputed',
      'orders.dispute_status',
      'orders.buyer_email',
      's.display_name as seller_name',
      'orders.seller_id',
      'orders.stripe_payment_intent_id',
      'orders.stripe_charge_id',
    ])
    .orderBy('orders.created_at', 'desc')
    .orderBy('orders.id', 'desc')
    .limit(EXPORT_MAX_ROWS + 1);
  if (scope.sellerId !== undefined) query = query.where('orders.seller_id', '=', scope.sellerId);
  const rows = await query.execute();
  const header = [
    ...ORDER_COLUMNS,
    'application_fee_minor',
    'stripe_fee_minor',
    'refunded_minor',
    'disputed',
    'dispute_status',
    'buyer_email',
    'seller',
    'seller_id',
    'payment_intent',
    'charge',
  ];
  return toCsv(
    header,
    capped(
      rows.map((o) => [
        ...orderCells(o),
        o.application_fee_amount,
        o.stripe_fee_amount,
        o.amount_refunded,
        o.disputed,
        o.dispute_status,
        o.buyer_email,
        o.seller_name,
        o.seller_id,
        o.stripe_payment_intent_id,
        o.stripe_charge_id,
      ]),
      header.length,
    ),
  );
}

export async function payoutsCsv(db: Kysely<Database>, scope: { sellerId?: string } = {}): Promise<string> {
  let query = db
    .selectFrom('payouts')
    .leftJoin('users as s', 's.id', 'payouts.seller_id')
    .select([
      'payouts.id',
      'payouts.stripe_created',
      'payouts.status',
      'payouts.currency',
      'payouts.amount',
      'payouts.arrival_date',
      'payouts.automatic',
      'payouts.method',
      'payouts.failure_code',
      'payouts.failure_message',
      'payouts.account',
      's.display_name as seller_name',
      'payouts.seller_id',
    ])
    .orderBy('payouts.stripe_created', 'desc')
    .orderBy('payouts.id', 'desc')
    .limit(EXPORT_MAX_ROWS + 1);
  if (scope.sellerId !== undefined) query = query.where('payouts.seller_id', '=', scope.sellerId);
  const rows = await query.execute();
  const header = [...PAYOUT_COLUMNS, 'account', 'seller', 'seller_id'];
  return toCsv(
    header,
    capped(
      rows.map((p) => [...payoutCells(p), p.account, p.seller_name, p.seller_id]),
      header.length,
    ),
  );
}

export async function auditCsv(db: Kysely<Database>): Promise<string> {
  const rows = await db
    .selectFrom('admin_audit_log')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(EXPORT_MAX_ROWS + 1)
    .execute();
  const header = ['id', 'at', 'actor_email', 'actor_id', 'action', 'target_type', 'target_id', 'before', 'after'];
  return toCsv(
    header,
    capped(
      rows.map((a) => [
        a.id,
        a.created_at,
        a.actor_email,
        a.actor_id,
        a.action,
        a.target_type,
        a.target_id,
        a.before === null ? '' : JSON.stringify(a.before),
        a.after === null ? '' : JSON.stringify(a.after),
      ]),
      header.length,
    ),
  );
}
