// The columns every CSV export of orders or of payouts begins with, the admin's (src/admin/exports.ts)
// and a seller's (src/sellers/money-exports.ts): the same names, in the same order, for the same
// facts. Amounts are minor units, as stored, then a decimal column a spreadsheet reads as money.
import type { CsvCell } from './csv.ts';
import type { Order, PayoutRow } from './db/schema.ts';
import { toDecimalString } from './money.ts';

export const ORDER_COLUMNS = ['order_id', 'created_at', 'paid_at', 'status', 'title', 'quantity', 'currency', 'amount_minor', 'amount'];

export function orderCells(o: Pick<Order, 'id' | 'created_at' | 'paid_at' | 'status' | 'title' | 'quantity' | 'currency' | 'amount'>): CsvCell[] {
  return [o.id, o.created_at, o.paid_at, o.status, o.title, o.quantity, o.currency, o.amount, toDecimalString(o.amount, o.currency)];
}

export const PAYOUT_COLUMNS = [
  'payout_id',
  'created_at',
  'status',
  'currency',
  'amount_minor',
  'amount',
  'arrival_date',
  'automatic',
  'method',
  'failure_code',
  'failure_message',
];

export function payoutCells(
  p: Pick<PayoutRow, 'id' | 'stripe_created' | 'status' | 'currency' | 'amount' | 'arrival_date' | 'automatic' | 'method' | 'failure_code' | 'failure_message'>,
): CsvCell[] {
  return [
    p.id,
    p.stripe_created,
    p.status,
    p.currency,
    p.amount,
    toDecimalString(p.amount, p.currency),
    p.arrival_date,
    p.automatic,
    p.method,
    p.failure_code,
    p.failure_message,
  ];
}
