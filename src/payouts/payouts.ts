// Sellers' balances, payout schedules and payouts, as the platform admin manages them.
//
// Pause/resume: pausing sets the connected account's schedule to `manual` AND stores the schedule
// it had in the account's own metadata (`payouts_paused_from`) in the same Stripe call, so Stripe
// holds "paused, and what to go back to" atomically. Our row (seller_payout_settings) mirrors it
// for the admin pages; if our commit failed after Stripe's change, resume still finds the previous
// schedule at Stripe. Every change is written to the audit log in the transaction that records it.
//
// Manual payouts: the payout request row is created first with the form's nonce as its id; the
// Stripe call carries `payout:<id>` as its idempotency key, so a double submit or a retry after a
// crash is one payout. Stripe refusing (insufficient balance, payouts disabled) marks the request
// rejected with Stripe's message; an unknown outcome leaves it `requested` — nothing is recorded
// as paid until Stripe has answered, and payout.* webhooks fill in the payout either way.
import { sql, type Kysely } from 'kysely';
import type Stripe from 'stripe';
import type { Database, PayoutRequest, PayoutRow } from '../db/schema.ts';
import { recordAudit, type Actor } from '../admin/audit.ts';
import { stripeRefusal, UNKNOWN_OUTCOME } from '../admin/stripe-errors.ts';
import { enqueuePayoutPaidEmail } from '../email/messages.ts';
import { requireTransaction } from '../email/outbox.ts';

export const INTERVALS = ['daily', 'weekly', 'monthly', 'manual'] as const;
export type Interval = (typeof INTERVALS)[number];
export const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;
export const PAUSED_FROM_KEY = 'payouts_paused_from';

export interface Schedule {
  interval: Interval;
  weekly_anchor?: string | undefined;
  monthly_anchor?: number | undefined;
  delay_days?: number | undefined;
}

export function scheduleOf(account: Stripe.Account): Schedule {
  const s = account.settings?.payouts?.schedule;
  const interval = (INTERVALS as readonly string[]).includes(s?.interval ?? '') ? (s!.interval as Interval) : 'daily';
  return {
    interval,
    ...(interval === 'weekly' && s?.weekly_anchor ? { weekly_anchor: s.weekly_anchor } : {}),
    ...(interval === 'monthly' && s?.monthly_anchor ? { monthly_anchor: s.monthly_anchor } : {}),
    ...(typeof s?.delay_days === 'number' ? { delay_days: s.delay_days } : {}),
  };
}

function scheduleParams(schedule: Schedule): Stripe.AccountUpdateParams.Settings.Payouts.Schedule {
  return {
    interval: schedule.interval,
    ...(schedule.interval === 'weekly' ? { weekly_anchor: (schedule.weekly_anchor ?? 'monday') as Stripe.AccountUpdateParams.Settings.Payouts.Schedule.WeeklyAnchor } : {}),
    ...(schedule.interval === 'monthly' ? { monthly_anchor: schedule.monthly_anchor ?? 1 } : {}),
  };
}

function pausedFrom(account: Stripe.Account): Schedule | undefined {
  const raw = account.metadata?.[PAUSED_FROM_KEY];
  if (raw === undefined || raw === '') return undefined;
  try {
    const parsed = JSON.parse(raw) as Schedule;
    return (INTERVALS as readonly string[]).includes(parsed.interval) && parsed.interval !== 'manual' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export interface PayoutOverview {
  schedule: Schedule;
  paused: boolean;
  resumeTo: Schedule | undefined;
  available: { amount: number; currency: string }[];
  pending: { amount: number; currency: string }[];
  recent: Stripe.Payout[];
  payoutsEnabled: boolean;
}

/** The connected account's balance, schedule and recent payouts, read from Stripe now. */
export async function payoutOverview(stripe: Stripe, accountId: string): Promise<PayoutOverview> {
  const [account, balance, payouts] = await Promise.all([
    stripe.accounts.retrieve(accountId),
    stripe.balance.retrieve({}, { stripeAccount: accountId }),
    stripe.payouts.list({ limit: 10 }, { stripeAccount: accountId }),
  ]);
  const schedule = scheduleOf(account);
  const resumeTo = pausedFrom(account);
  return {
    schedule,
    paused: schedule.interval === 'manual' && resumeTo !== undefined,
    resumeTo,
    available: balance.available.map((b) => ({ amount: b.amount, currency: b.currency })),
    pending: balance.pending.map((b) => ({ amount: b.amount, currency: b.currency })),
    recent: payouts.data,
    payoutsEnabled: account.payouts_enabled ?? false,
  };
}

async function sellerAccount(db: Kysely<Database>, sellerId: string): Promise<string> {
  const row = await db.selectFrom('sellers').select('stripe_account_id').where('id', '=', sellerId).executeTakeFirst();
  if (row?.stripe_account_id == null) throw new Error(`seller ${sellerId} has no connected account`);
  return row.stripe_account_id;
}

async function mirrorSettings(db: Kysely<Database>, sellerId: string, paused: boolean, previous: Schedule | null): Promise<void> {
  await db.insertInto('seller_payout_settings')
    .values({ seller_id: sellerId, paused, previous_schedule: previous === null ? null : JSON.stringify(previous), updated_at: new Date() })
    .onConflict((oc) => oc.column('seller_id').doUpdateSet({ paused, previous_schedule: previous === null ? null : JSON.stringify(previous), updated_at: new Date() }))
    .execute();
}

export type ScheduleResult = { ok: true; changed: boolean; schedule: Schedule } | { ok: false; message: string };

/** Sets a new schedule (not a pause: choosing `manual` here forgets any paused-from schedule). */
export async function changeSchedule(db: Kysely<Database>, stripe: Stripe, actor: Actor, sellerId: string, next: Schedule): Promise<ScheduleResult> {
  const accountId = await sellerAccount(db, sellerId);
  const before = scheduleOf(await stripe.accounts.retrieve(accountId));
  let account: Stripe.Account;
  try {
    account = await stripe.accounts.update(accountId, { settings: { payouts: { schedule: scheduleParams(next) } }, metadata: { [PAUSED_FROM_KEY]: '' } });
  } catch (error) {
    const refusal = stripeRefusal(error);
    if (refusal === undefined) return { ok: false, message: UNKNOWN_OUTCOME };
    return { ok: false, message: refusal };
  }
  const after = scheduleOf(account);
  await db.transaction().execute(async (trx) => {
    await mirrorSettings(trx, sellerId, false, null);
    await recordAudit(trx, actor, { action: 'payouts.schedule', targetType: 'seller', targetId: sellerId, before, after });
  });
  return { ok: true, changed: JSON.stringify(before) !== JSON.stringify(after), schedule: after };
}

export async function pausePayouts(db: Kysely<Database>, stripe: Stripe, actor: Actor, sellerId: string): Promise<ScheduleResult> {
  const accountId = await sellerAccount(db, sellerId);
  const current = await stripe.accounts.retrieve(accountId);
  const before = scheduleOf(current);
  if (before.interval === 'manual' && pausedFrom(current) !== undefined) return { ok: true, changed: false, schedule: before };
  // Pausing an account that is already manual (never automatic) remembers `manual`… which would
  // make resume a no-op; resume then falls back to Stripe's default, daily.
  const remember: Schedule = before.interval === 'manual' ? { interval: 'daily' } : before;
  let account: Stripe.Account;
  try {
    account = await stripe.accounts.update(accountId, {
      settings: { payouts: { schedule: { interval: 'manual' } } },
      metadata: { [PAUSED_FROM_KEY]: JSON.stringify(remember) },
    });
  } catch (error) {
    return { ok: false, message: stripeRefusal(error) ?? UNKNOWN_OUTCOME };
  }
  const after = scheduleOf(account);
  await db.transaction().execute(async (trx) => {
    await mirrorSettings(trx, sellerId, true, remember);
    await recordAudit(trx, actor, { action: 'payouts.pause', targetType: 'seller', targetId: sellerId, before, after: { ...after, resume_to: remember } });
  });
  return { ok: true, changed: true, schedule: after };
}

export async function resumePayouts(db: Kysely<Database>, stripe: Stripe, actor: Actor, sellerId: string): Promise<ScheduleResult> {
  const accountId = await sellerAccount(db, sellerId);
  const current = await stripe.accounts.retrieve(accountId);
  const before = scheduleOf(current);
  const stored = await db.selectFrom('seller_payout_settings').select(['paused', 'previous_schedule']).where('seller_id', '=', sellerId).executeTakeFirst();
  // Stripe's metadata is the truth (written in the same call as the pause); our mirror is the fallback.
  const previous = pausedFrom(current) ?? (stored?.paused === true ? (stored.previous_schedule as Schedule | null) ?? undefined : undefined);
  if (previous === undefined) return { ok: false, message: 'Payouts are not paused for this seller.' };
  let account: Stripe.Account;
  try {
    account = await stripe.accounts.update(accountId, {
      settings: { payouts: { schedule: scheduleParams(previous) } },
      metadata: { [PAUSED_FROM_KEY]: '' },
    });
  } catch (error) {
    return { ok: false, message: stripeRefusal(error) ?? UNKNOWN_OUTCOME };
  }
  const after = scheduleOf(account);
  await db.transaction().execute(async (trx) => {
    await mirrorSettings(trx, sellerId, false, null);
    await recordAudit(trx, actor, { action: 'payouts.resume', targetType: 'seller', targetId: sellerId, before, after });
  });
  return { ok: true, changed: true, schedule: after };
}

// ---- Manual payouts ----

export type PayoutResult =
  | { ok: true; request: PayoutRequest; payout: PayoutRow | undefined }
  | { ok: false; request: PayoutRequest | undefined; message: string };

export async function requestManualPayout(
  db: Kysely<Database>,
  stripe: Stripe,
  actor: Actor,
  input: { requestId: string; sellerId: string; amount: number; currency: string },
): Promise<PayoutResult> {
  const accountId = await sellerAccount(db, input.sellerId);
  // 1. The request, committed first (with its audit entry). A second submit of the same form finds it.
  await db.transaction().execute(async (trx) => {
    const inserted = await trx.insertInto('payout_requests').values({
      id: input.requestId, seller_id: input.sellerId, account: accountId, amount: input.amount, currency: input.currency, requested_by: actor.id,
    }).onConflict((oc) => oc.column('id').doNothing()).returning('id').executeTakeFirst();
    if (inserted !== undefined) {
      await recordAudit(trx, actor, { action: 'payout.request', targetType: 'seller', targetId: input.sellerId, before: null, after: { request_id: input.requestId, amount: input.amount, currency: input.currency } });
    }
  });
  const existing = await db.selectFrom('payout_requests').selectAll().where('id', '=', input.requestId).executeTakeFirstOrThrow();
  if (existing.seller_id !== input.sellerId || existing.amount !== input.amount || existing.currency !== input.currency) {
    return { ok: false, request: existing, message: 'This payout form was already used for a different payout. Reload the page and start again.' };
  }
  return drivePayoutRequest(db, stripe, actor, input.requestId);
}

/**
 * Sends a `requested` payout to Stripe (again). The row lock makes a concurrent second submit wait
 * and then find the outcome; the idempotency key makes a retry after a crash the same payout.
 */
export async function drivePayoutRequest(db: Kysely<Database>, stripe: Stripe, actor: Actor, requestId: string): Promise<PayoutResult> {
  try {
    return await db.transaction().execute(async (trx): Promise<PayoutResult> => {
      const request = await trx.selectFrom('payout_requests').selectAll().where('id', '=', requestId).forUpdate().executeTakeFirstOrThrow();
      if (request.status === 'rejected') return { ok: false, request, message: request.error_message ?? 'Stripe refused this payout.' };
      if (request.status === 'created') {
        const payout = request.stripe_payout_id === null ? undefined : await trx.selectFrom('payouts').selectAll().where('id', '=', request.stripe_payout_id).executeTakeFirst();
        return { ok: true, request, payout };
      }
      let payout: Stripe.Payout;
      try {
        payout = await stripe.payouts.create({
          amount: request.amount,
          currency: request.currency,
          description: 'Manual payout by the marketplace',
          metadata: { payout_request_id: request.id, seller_id: request.seller_id },
        }, { stripeAccount: request.account, idempotencyKey: `payout:${request.id}` });
      } catch (error) {
        const refusal = stripeRefusal(error);
        if (refusal === undefined) throw error; // unknown outcome: roll back, stay `requested`
        const rejected = await trx.updateTable('payout_requests').set({ status: 'rejected', error_message: refusal, updated_at: new Date() })
          .where('id', '=', request.id).returningAll().executeTakeFirstOrThrow();
        await recordAudit(trx, actor, { action: 'payout.rejected', targetType: 'seller', targetId: request.seller_id, before: { request_id: request.id, status: 'requested' }, after: { status: 'rejected', error: refusal } });
        return { ok: false, request: rejected, message: refusal };
      }
      const created = await trx.updateTable('payout_requests').set({ status: 'created', stripe_payout_id: payout.id, updated_at: new Date() })
        .where('id', '=', request.id).returningAll().executeTakeFirstOrThrow();
      await recordPayout(trx, payout, request.account, new Date(payout.created * 1000));
      await recordAudit(trx, actor, { action: 'payout.create', targetType: 'seller', targetId: request.seller_id, before: { request_id: request.id, status: 'requested' }, after: { status: 'created', payout: payout.id, amount: payout.amount, currency: payout.currency, payout_status: payout.status } });
      const row = await trx.selectFrom('payouts').selectAll().where('id', '=', payout.id).executeTakeFirst();
      return { ok: true, request: created, payout: row };
    });
  } catch (error) {
    if (stripeRefusal(error) !== undefined) throw error;
    const request = await db.selectFrom('payout_requests').selectAll().where('id', '=', requestId).executeTakeFirst();
    return { ok: false, request, message: UNKNOWN_OUTCOME };
  }
}

// ---- Payouts as Stripe reports them (webhooks and API responses) ----

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
  await db.insertInto('payouts').values(values)
    .onConflict((oc) => oc.column('id').doUpdateSet((eb) => ({
      status: eb.ref('excluded.status'),
      arrival_date: eb.ref('excluded.arrival_date'),
      failure_code: eb.ref('excluded.failure_code'),
      failure_message: eb.ref('excluded.failure_message'),
      seller_id: sql`coalesce(payouts.seller_id, excluded.seller_id)`,
      observed_at: eb.ref('excluded.observed_at'),
      updated_at: eb.ref('excluded.updated_at'),
    })).where((eb) => eb.or([
      eb('payouts.observed_at', '<', eb.ref('excluded.observed_at')),
      eb.and([eb('payouts.observed_at', '=', eb.ref('excluded.observed_at')), eb(STORED_RANK, '<=', STATUS_RANK)]),
    ])))
    .execute();
  await enqueuePayoutPaidEmail(requireTransaction(db), payout.id); // when the stored payout is paid
}

export async function listSellerPayouts(db: Kysely<Database>, sellerId: string, limit = 20): Promise<PayoutRow[]> {
  return db.selectFrom('payouts').selectAll().where('seller_id', '=', sellerId).orderBy('stripe_created', 'desc').orderBy('id', 'desc').limit(limit).execute();
}

export async function listPayoutRequests(db: Kysely<Database>, sellerId: string, limit = 20): Promise<PayoutRequest[]> {
  return db.selectFrom('payout_requests').selectAll().where('seller_id', '=', sellerId).orderBy('created_at', 'desc').limit(limit).execute();
}
