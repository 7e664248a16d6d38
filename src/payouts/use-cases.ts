// Sellers' balances, payout schedules and payouts, as the platform admin manages them.
//
// Schedules (change, pause, resume): one `accounts.update`, then a short transaction that mirrors
// the result for our pages and writes the audit entry. Setting a schedule is idempotent by nature
// (the same value twice is one state), and Stripe keeps "paused, and what to go back to" in the
// same call, so Stripe is the record: if we stop after Stripe's answer, pressing the button again
// finds Stripe already there and completes our side (mirror and audit) once.
//
// Manual payouts follow the rule for every Stripe call that moves money:
//   (a) the payout request is committed first, its id the form's nonce, with its audit entry;
//   (b) commit; (c) `payouts.create` with the key `payout:<id>`, nothing open; a double submit
//       sends the same key and Stripe makes one payout;
//   (d) a short transaction moves the request from `requested` to `created` (only one caller can)
//       and records the payout as any payout.* event would.
// Stripe refusing (insufficient balance, payouts disabled) marks the request rejected with Stripe's
// message; no answer leaves it `requested`, and the same form again is the same payout.
import type { Kysely } from 'kysely';
import type Stripe from 'stripe';
import { recordAudit, type Actor } from '../admin/audit.ts';
import type { Cursor, Page } from '../db/paging.ts';
import type { Database, PayoutRequest, PayoutRow } from '../db/schema.ts';
import { DomainError, found } from '../errors.ts';
import { amountFromForm } from '../money-input.ts';
import { findSeller } from '../sellers/queries.ts';
import { classifyStripeError, isStripeFailure } from '../stripe/errors.ts';
import { sendKeyed } from '../stripe/keyed.ts';
import {
  findPauseState,
  findPayout,
  findPayoutRequest,
  insertPayoutRequest,
  markPayoutCreated,
  markPayoutRejected,
  mirrorPauseState,
  recordPayout,
  sellerPayoutsPage,
} from './queries.ts';
import {
  balanceRows,
  PAUSED_FROM_KEY,
  pausedFrom,
  payoutIdempotencyKey,
  scheduleOf,
  scheduleParams,
  scheduleToRemember,
  type BalanceRow,
  type Schedule,
} from './rules.ts';

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

export const SELLER_PAYOUTS_PAGE = 25;

export interface SellerMoney {
  /** The seller's connected account, or null: they have not started setting up payouts. */
  accountId: string | null;
  /** Read from Stripe just now; `unavailable` when Stripe did not answer (the page says so). */
  balance: { state: 'read'; rows: BalanceRow[] } | { state: 'unavailable'; error: unknown } | { state: 'no_account' };
  /** From our table (payout.* webhooks), the seller's own only. */
  payouts: Page<PayoutRow>;
}

/**
 * The seller's Money page: their balance from Stripe, and their payouts as we recorded them. The
 * balance is read with no transaction open; if Stripe fails in any way the page still shows our
 * own records, so a Stripe outage never takes the seller's payout history away.
 */
export async function sellerMoney(db: Kysely<Database>, stripe: Stripe, sellerId: string, after?: Cursor): Promise<SellerMoney> {
  const accountId = (await findSeller(db, sellerId))?.stripe_account_id ?? null;
  const payouts = await sellerPayoutsPage(db, sellerId, { size: SELLER_PAYOUTS_PAGE, after });
  if (accountId === null) return { accountId, balance: { state: 'no_account' }, payouts };
  try {
    const balance = await stripe.balance.retrieve({}, { stripeAccount: accountId });
    return { accountId, balance: { state: 'read', rows: balanceRows(balance) }, payouts };
  } catch (error) {
    if (!isStripeFailure(error)) throw error;
    return { accountId, balance: { state: 'unavailable', error }, payouts };
  }
}

/** The seller's connected account; a seller without one is not found here. */
async function accountOf(db: Kysely<Database>, sellerId: string): Promise<string> {
  const seller = found(await findSeller(db, sellerId));
  if (seller.stripe_account_id === null) throw new DomainError('not_found');
  return seller.stripe_account_id;
}

/** An admin's Stripe call: a refusal or no answer becomes the error the admin reads. */
async function adminCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const problem = classifyStripeError(error);
    if (problem === undefined) throw error;
    throw problem.kind === 'refused' ? new DomainError('stripe_refused', { reason: problem.message }) : new DomainError('stripe_outcome_unknown');
  }
}

/** Sets a new schedule (not a pause: choosing `manual` here forgets any paused-from schedule). */
export async function changeSchedule(db: Kysely<Database>, stripe: Stripe, actor: Actor, sellerId: string, next: Schedule): Promise<Schedule> {
  const accountId = await accountOf(db, sellerId);
  const before = scheduleOf(await stripe.accounts.retrieve(accountId));
  const account = await adminCall(() =>
    stripe.accounts.update(accountId, { settings: { payouts: { schedule: scheduleParams(next) } }, metadata: { [PAUSED_FROM_KEY]: '' } }),
  );
  const after = scheduleOf(account);
  await db.transaction().execute(async (trx) => {
    await mirrorPauseState(trx, sellerId, false, null);
    await recordAudit(trx, actor, { action: 'payouts.schedule', targetType: 'seller', targetId: sellerId, before, after });
  });
  return after;
}

export async function pausePayouts(db: Kysely<Database>, stripe: Stripe, actor: Actor, sellerId: string): Promise<void> {
  const accountId = await accountOf(db, sellerId);
  const current = await stripe.accounts.retrieve(accountId);
  const before = scheduleOf(current);
  const alreadyPausedAt = before.interval === 'manual' ? pausedFrom(current) : undefined;
  if (alreadyPausedAt !== undefined) {
    // Paused at Stripe already: done, unless it was our own pause whose answer we never recorded.
    if ((await findPauseState(db, sellerId))?.paused === true) return;
    await recordPause(db, actor, sellerId, { before: alreadyPausedAt, after: before, remember: alreadyPausedAt });
    return;
  }
  const remember = scheduleToRemember(before);
  const account = await adminCall(() =>
    stripe.accounts.update(accountId, {
      settings: { payouts: { schedule: { interval: 'manual' } } },
      metadata: { [PAUSED_FROM_KEY]: JSON.stringify(remember) },
    }),
  );
  await recordPause(db, actor, sellerId, { before, after: scheduleOf(account), remember });
}

async function recordPause(
  db: Kysely<Database>,
  actor: Actor,
  sellerId: string,
  change: { before: Schedule; after: Schedule; remember: Schedule },
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await mirrorPauseState(trx, sellerId, true, change.remember);
    await recordAudit(trx, actor, {
      action: 'payouts.pause',
      targetType: 'seller',
      targetId: sellerId,
      before: change.before,
      after: { ...change.after, resume_to: change.remember },
    });
  });
}

export async function resumePayouts(db: Kysely<Database>, stripe: Stripe, actor: Actor, sellerId: string): Promise<void> {
  const accountId = await accountOf(db, sellerId);
  const current = await stripe.accounts.retrieve(accountId);
  const before = scheduleOf(current);
  const stored = await findPauseState(db, sellerId);
  // Stripe's metadata is the truth (written in the same call as the pause); our mirror is the
  // fallback, and also what finishes a resume whose answer we never recorded.
  const previous = pausedFrom(current) ?? (stored?.paused === true ? (stored.previous ?? undefined) : undefined);
  if (previous === undefined) throw new DomainError('payouts_not_paused');
  const account = await adminCall(() =>
    stripe.accounts.update(accountId, {
      settings: { payouts: { schedule: scheduleParams(previous) } },
      metadata: { [PAUSED_FROM_KEY]: '' },
    }),
  );
  const after = scheduleOf(account);
  await db.transaction().execute(async (trx) => {
    await mirrorPauseState(trx, sellerId, false, null);
    await recordAudit(trx, actor, { action: 'payouts.resume', targetType: 'seller', targetId: sellerId, before, after });
  });
}

export interface PayoutResult {
  request: PayoutRequest;
  payout: PayoutRow | undefined;
}

export interface PayoutInput {
  /** The form's nonce: it becomes the request's id, so the same form twice is the same payout. */
  requestId: string;
  sellerId: string;
  /** As typed, in `currency` ("45.00"). */
  amount: string;
  currency: string;
}

/** What a manual payout would be, checked like the real one (before the admin confirms it). */
export async function previewPayout(db: Kysely<Database>, input: PayoutInput): Promise<number> {
  await accountOf(db, input.sellerId);
  return amountFromForm(input.amount, input.currency);
}

export async function requestManualPayout(db: Kysely<Database>, stripe: Stripe, actor: Actor, input: PayoutInput): Promise<PayoutResult> {
  const accountId = await accountOf(db, input.sellerId);
  const amount = amountFromForm(input.amount, input.currency);
  await db.transaction().execute(async (trx) => {
    const inserted = await insertPayoutRequest(trx, {
      id: input.requestId,
      sellerId: input.sellerId,
      account: accountId,
      amount,
      currency: input.currency,
      requestedBy: actor.id,
    });
    if (inserted) {
      await recordAudit(trx, actor, {
        action: 'payout.request',
        targetType: 'seller',
        targetId: input.sellerId,
        before: null,
        after: { request_id: input.requestId, amount, currency: input.currency },
      });
    }
  });
  const existing = found(await findPayoutRequest(db, input.requestId));
  if (existing.seller_id !== input.sellerId || existing.amount !== amount || existing.currency !== input.currency) {
    throw new DomainError('payout_form_reused');
  }
  return sendPayoutRequest(db, stripe, actor, input.requestId);
}

/** Sends a `requested` payout to Stripe (again), with its key; the request as it is afterwards. */
export async function sendPayoutRequest(db: Kysely<Database>, stripe: Stripe, actor: Actor, requestId: string): Promise<PayoutResult> {
  const request = found(await findPayoutRequest(db, requestId));
  if (request.status === 'rejected') throw new DomainError('stripe_refused', { reason: request.error_message ?? 'Stripe refused this payout.' });
  if (request.status === 'created') {
    return { request, payout: request.stripe_payout_id === null ? undefined : await findPayout(db, request.stripe_payout_id) };
  }
  let payout: Stripe.Payout;
  try {
    payout = await sendKeyed(() =>
      stripe.payouts.create(
        {
          amount: request.amount,
          currency: request.currency,
          description: 'Manual payout by the marketplace',
          metadata: { payout_request_id: request.id, seller_id: request.seller_id },
        },
        { stripeAccount: request.account, idempotencyKey: payoutIdempotencyKey(request.id) },
      ),
    );
  } catch (error) {
    const problem = classifyStripeError(error);
    if (problem === undefined) throw error;
    if (problem.kind === 'unavailable') throw new DomainError('stripe_outcome_unknown');
    // Stripe's insufficient-funds text speaks to the owner of the account about its Dashboard's
    // payout settings; here the account is the seller's, so say what it means for this payout.
    const reason =
      problem.code === 'balance_insufficient'
        ? "The seller's available balance is too low for this payout. Money from recent sales stays pending for a few days before it can be paid out; the balance above shows what is available now."
        : problem.message;
    await db.transaction().execute(async (trx) => {
      if ((await markPayoutRejected(trx, request.id, reason)) !== undefined) {
        await recordAudit(trx, actor, {
          action: 'payout.rejected',
          targetType: 'seller',
          targetId: request.seller_id,
          before: { request_id: request.id, status: 'requested' },
          after: { status: 'rejected', error: reason, stripe_code: problem.code ?? null },
        });
      }
    });
    throw new DomainError('stripe_refused', { reason });
  }
  return db.transaction().execute(async (trx) => {
    const created = await markPayoutCreated(trx, request.id, payout.id);
    await recordPayout(trx, payout, request.account, new Date(payout.created * 1000));
    if (created !== undefined) {
      await recordAudit(trx, actor, {
        action: 'payout.create',
        targetType: 'seller',
        targetId: request.seller_id,
        before: { request_id: request.id, status: 'requested' },
        after: { status: 'created', payout: payout.id, amount: payout.amount, currency: payout.currency, payout_status: payout.status },
      });
    }
    return { request: created ?? found(await findPayoutRequest(trx, request.id)), payout: await findPayout(trx, payout.id) };
  });
}
