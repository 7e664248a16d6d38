// A seller's CSV exports of their own orders (with what each is worth to them) and payouts. Each is
// streamed: the rows are read a keyset page at a time, each page by its own short query, so an
// export of any length holds neither memory nor a connection for long. Amounts are minor units, as
// stored, plus a decimal column a spreadsheet reads as money; times are ISO 8601 UTC. Text cells
// that a spreadsheet would run as formulas are neutralised by src/csv.ts.
import type { Kysely } from 'kysely';
import { csvChunks, type CsvCell } from '../csv.ts';
import { ORDER_COLUMNS, orderCells, PAYOUT_COLUMNS, payoutCells } from '../csv-columns.ts';
import type { Cursor } from '../db/paging.ts';
import type { Database } from '../db/schema.ts';
import { toDecimalString } from '../money.ts';
import { sellerOrdersWithMoney } from '../orders/seller-orders.ts';
import { sellerPayoutsPage } from '../payouts/queries.ts';

/** Rows per query: a page is one short read. */
export const EXPORT_PAGE_SIZE = 500;

const ORDER_HEADER = [
  ...ORDER_COLUMNS,
  'platform_fee_minor',
  'refunded_minor',
  'refunded_from_you_minor',
  'fee_returned_minor',
  'disputed_minor',
  'dispute_status',
  'dispute_taken_minor',
  'dispute_returned_minor',
  'net_minor',
  'net',
  'buyer_email',
];

/** The seller's orders, newest first; fee and net are empty for orders never charged. */
export function sellerOrdersCsv(db: Kysely<Database>, sellerId: string, pageSize = EXPORT_PAGE_SIZE): AsyncGenerator<string> {
  return csvChunks(
    ORDER_HEADER,
    keysetPages(async (after) => {
      const orders = await sellerOrdersWithMoney(db, sellerId, { size: pageSize, after });
      const last = orders.at(-1);
      const rows = orders.map(({ money: m, ...o }): CsvCell[] => [
        ...orderCells(o),
        m.applicationFee,
        m.refunded,
        m.refundedFromSeller,
        m.feeReturned,
        m.disputed,
        m.disputeState,
        m.disputeTaken,
        m.disputeReturned,
        m.net,
        m.net === null ? null : toDecimalString(m.net, o.currency),
        o.buyer_email,
      ]);
      return { rows, next: orders.length === pageSize && last !== undefined ? { at: last.created_at, id: last.id } : null };
    }),
  );
}

/** The seller's payouts as recorded from Stripe's payout events, newest first. */
export function sellerPayoutsCsv(db: Kysely<Database>, sellerId: string, pageSize = EXPORT_PAGE_SIZE): AsyncGenerator<string> {
  return csvChunks(
    PAYOUT_COLUMNS,
    keysetPages(async (after) => {
      const page = await sellerPayoutsPage(db, sellerId, { size: pageSize, after });
      return { rows: page.rows.map(payoutCells), next: page.next };
    }),
  );
}

/** Reads page after page until one says there is no next. */
async function* keysetPages(read: (after: Cursor | undefined) => Promise<{ rows: CsvCell[][]; next: Cursor | null }>): AsyncGenerator<CsvCell[][]> {
  let after: Cursor | undefined;
  for (;;) {
    const page = await read(after);
    yield page.rows;
    if (page.next === null) return;
    after = page.next;
  }
}
