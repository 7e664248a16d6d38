// Every SQL statement about payouts, payout requests and the payout-pause mirror.
import { sql, type Kysely, type Transaction } from 'kysely';
import type Stripe from 'stripe';
import { pageOf, type Cursor, type Page } from '../db/paging.ts';
import type { Database, PayoutRequest, PayoutRow } from '../db/schema.ts';
import type { Schedule } from './rules.ts';

/** Our copy of "paused, and what to go back to" (Stripe's account metadata is the truth). */
export async function mirrorPauseState(db: Kysely<Database>, sellerId: string, paused: boolean, previous: Schedule | null): Promise<void> {
  const previousJson = previous === null ? null : JSON.stringify(previous);
  await db
    .insertInto('seller_payout_settings')
    .values({ seller_id: sellerId, paused, previous_schedule: previousJson, updated_at: new Date() })
    .onConflict((oc) => oc.column('seller_id').doUpdateSet({ paused, previous_schedule: previousJson, updated_at: new Date() }))
    .execute();
}

export async function findPauseState(db: Kysely<Database>, sellerId: string): Promise<{ paused: boolean; previous: Schedule | null } | undefined> {
  const row = await db.selectFrom('seller_payout_settings').select(['paused', 'previous_schedule']).where('seller_id', '=', sellerId).executeTakeFirst();
  return row === undefined ? undefined : { paused: row.paused, previous: (row.previous_schedule as Schedule | null) ?? null };
}

/** The request, unless one with this id exists (a second submit of the same form). True when inserted. */
export async function insertPayoutRequest(
  trx: Transaction<Database>,
  values: { id: string; sellerId: string; account: string; amount: number; currency: string; requestedBy: string },
): Promise<boolean> {
  const inserted = await trx
    .insertInto('payout_requests')
    .values({
      id: values.id,
      seller_id: values.sellerId,
      account: values.account,
      amount: values.amount,
      currency: values.currency,
      requested_by: values.requestedBy,
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}

export async function findPayoutRequest(db: Kysely<Database>, requestId: string): Promise<PayoutRequest | undefined> {
  return db.selectFrom('payout_requests').selectAll().where('id', '=', requestId).executeTakeFirst();
}

/** Only a `requested` request moves on; the returned row says this call moved it. */
export async function markPayoutCreated(trx: Transaction<Database>, requestId: string, payoutId: string): Promise<PayoutRequest | undefined> {
  return trx
    .updateTable('payout_requests')
    .set({ status: 'created', stripe_payout_id: payoutId, updated_at: new Date() })
    .where('id', '=', requestId)
    .where('status', '=', 'requested')
    .returningAll()
    .executeTakeFirst();
}

export async function markPayoutRejected(trx: Transaction<Database>, requestId: string, message: string): Promise<PayoutRequest | undefined> {
  return trx
    .updateTable('payout_requests')
    .set({ status: 'rejected', error_message: message, updated_at: new Date() })
    .where('id', '=', requestId)
    .where('status', '=', 'requested')
    .returningAll()
    .executeTakeFirst();
}

/** Later in a payout's life ranks higher; used only to settle snapshots from the same instant. */
const STATUS_RANK = sql<number>`case excluded.status when 'pending' then 0 when 'in_transit' then 1 when 'paid' then 2 else 3 end`;
const STORED_RANK = sql<number>`case payouts.status when 'pending' then 0 when 'in_transit' then 1 when 'paid' then 2 else 3 end`;

/**
 * Upserts a payout snapshot observed at `observedAt`. An older snapshot never overwrites a newer
 * one; two of the same instant keep the later status (paid after pending; failed after paid, as
 * Stripe can report a payout paid and then failed). Safe to call in any order, any number of times.
 */
export async function recordPayout(db: Kysely<Database>, payout: Stripe.Payout, accountId: string, observedAt: Date): Promise<void> {
  const seller = await db.selectFrom('sellers').select('id').where('stripe_account_id', '=', accountId).executeTakeFirst();
  const values = {
    id: payout.id,
    account: accountId,
    seller_id: seller?.id ?? null,
    amount: payout.amount,
    currency: payout.currency,
    status: payout.status,
    automatic: payout.automatic,
    method: payout.method ?? 'standard',
    arrival_date: payout.arrival_date ? new Date(payout.arrival_date * 1000) : null,
    failure_code: payout.failure_code ?? null,
    failure_message: payout.failure_message ?? null,
    stripe_created: new Date(payout.created * 1000),
    observed_at: observedAt,
    updated_at: new Date(),
  };
  await db
    .insertInto('payouts')
    .values(values)
    .onConflict((oc) =>
      oc
        .column('id')
        .doUpdateSet((eb) => ({
          status: eb.ref('excluded.status'),
          arrival_date: eb.ref('excluded.arrival_date'),
          failure_code: eb.ref('excluded.failure_code'),
          failure_message: eb.ref('excluded.failure_message'),
          seller_id: sql`coalesce(payouts.seller_id, excluded.seller_id)`,
          observed_at: eb.ref('excluded.observed_at'),
          updated_at: eb.ref('excluded.updated_at'),
        }))
        .where((eb) =>
          eb.or([
            eb('payouts.observed_at', '<', eb.ref('excluded.observed_at')),
            eb.and([eb('payouts.observed_at', '=', eb.ref('excluded.observed_at')), eb(STORED_RANK, '<=', STATUS_RANK)]),
          ]),
        ),
    )
    .execute();
}

export async function findPayout(db: Kysely<Database>, payoutId: string): Promise<PayoutRow | undefined> {
  return db.selectFrom('payouts').selectAll().where('id', '=', payoutId).executeTakeFirst();
}

export async function listSellerPayouts(db: Kysely<Database>, sellerId: string, limit = 20): Promise<PayoutRow[]> {
  return db.selectFrom('payouts').selectAll().where('seller_id', '=', sellerId).orderBy('stripe_created', 'desc').orderBy('id', 'desc').limit(limit).execute();
}

/**
 * A keyset page of the seller's payouts, newest first (the payouts_seller_list index). The cursor's
 * position is read from the seller's own payout only: another account's payout id finds nothing.
 */
export async function sellerPayoutsPage(db: Kysely<Database>, sellerId: string, page: { size: number; after?: Cursor | undefined }): Promise<Page<PayoutRow>> {
  let query = db.selectFrom('payouts').selectAll().where('seller_id', '=', sellerId);
  if (page.after !== undefined) {
    query = query.where(
      sql<boolean>`(payouts.stripe_created, payouts.id) < (select c.stripe_created, c.id from payouts c where c.id = ${page.after.id} and c.seller_id = ${sellerId})`,
    );
  }
  const rows = await query
    .orderBy('stripe_created', 'desc')
    .orderBy('id', 'desc')
    .limit(page.size + 1)
    .execute();
  return pageOf(rows, page.size, (p) => ({ at: p.stripe_created, id: p.id }));
}

export async function listPayoutRequests(db: Kysely<Database>, sellerId: string, limit = 20): Promise<PayoutRequest[]> {
  return db.selectFrom('payout_requests').selectAll().where('seller_id', '=', sellerId).orderBy('created_at', 'desc').limit(limit).execute();
}
