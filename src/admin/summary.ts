// The admin home's whole-table totals (money volume per currency, sellers per account state),
// computed by the worker every minute into admin_summaries: a page view reads one row, whatever the
// size of the orders table. The page says when the totals were computed. A database that has
// never had them computed (no worker has run yet) gets them on its first view.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';

const NAME = 'admin_home';
/** Arbitrary but fixed: one refresher at a time across processes. */
const REFRESH_LOCK_KEY = 5_000_017;

export interface AdminTotals {
  /** Minor units per currency, over paid, partially refunded and refunded orders. */
  volume: { currency: string; gross: number; fees: number; refunded: number; feeRefunded: number }[];
  sellersByState: { state: string; count: number }[];
}

export interface StoredAdminTotals {
  totals: AdminTotals;
  computedAt: Date;
}

async function computeAdminTotals(db: Kysely<Database>): Promise<AdminTotals> {
  const volume = await db
    .selectFrom('orders')
    .select([
      'currency',
      sql<number>`sum(amount)::bigint`.as('gross'),
      sql<number>`sum(application_fee_amount)::bigint`.as('fees'),
      sql<number>`sum(amount_refunded)::bigint`.as('refunded'),
    ])
    .where('status', 'in', ['paid', 'partially_refunded', 'refunded'])
    .groupBy('currency')
    .orderBy('currency')
    .execute();
  const feeRefunds = await db
    .selectFrom('order_money')
    .innerJoin('orders', 'orders.id', 'order_money.order_id')
    .select(['orders.currency', sql<number>`sum(order_money.fee_refunded)::bigint`.as('fee_refunded')])
    .groupBy('orders.currency')
    .execute();
  const feeRefundedBy = new Map(feeRefunds.map((r) => [r.currency, Number(r.fee_refunded)]));
  // Every seller user counts, including one whose seller row is not made yet (not started).
  const states = await db
    .selectFrom('users')
    .leftJoin('sellers', 'sellers.id', 'users.id')
    .where('users.role', '=', 'seller')
    .select([sql<string>`coalesce(sellers.account_state, 'not_started')`.as('account_state'), sql<number>`count(*)::int`.as('count')])
    .groupBy(sql`1`)
    .orderBy(sql`1`)
    .execute();
  return {
    volume: volume.map((v) => ({
      currency: v.currency,
      gross: Number(v.gross),
      fees: Number(v.fees),
      refunded: Number(v.refunded),
      feeRefunded: feeRefundedBy.get(v.currency) ?? 0,
    })),
    sellersByState: states.map((s) => ({ state: s.account_state, count: s.count })),
  };
}

/** Recomputes and stores the totals, unless another process is doing it right now (then false). */
export async function refreshAdminTotals(db: Kysely<Database>): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const locked = await sql<{ locked: boolean }>`select pg_try_advisory_xact_lock(${REFRESH_LOCK_KEY}) as locked`.execute(trx);
    if (locked.rows[0]?.locked !== true) return false;
    const totals = await computeAdminTotals(trx);
    await trx
      .insertInto('admin_summaries')
      .values({ name: NAME, value: JSON.stringify(totals), computed_at: sql<Date>`now()` })
      .onConflict((oc) => oc.column('name').doUpdateSet({ value: JSON.stringify(totals), computed_at: sql<Date>`now()` }))
      .execute();
    return true;
  });
}

export async function readAdminTotals(db: Kysely<Database>): Promise<StoredAdminTotals> {
  const read = () => db.selectFrom('admin_summaries').select(['value', 'computed_at']).where('name', '=', NAME).executeTakeFirst();
  let row = await read();
  if (row === undefined) {
    await refreshAdminTotals(db);
    row = await read();
  }
  if (row === undefined) return { totals: await computeAdminTotals(db), computedAt: new Date() };
  return { totals: row.value as AdminTotals, computedAt: row.computed_at };
}
