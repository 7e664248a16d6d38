// The rules of payout schedules, with no database and no Stripe: what a connected account's schedule
// is, and how a pause is remembered. Pausing sets the schedule to `manual` AND stores the schedule
// it had in the account's own metadata (`payouts_paused_from`) in the same Stripe call, so Stripe
// holds "paused, and what to go back to" atomically.
import type Stripe from 'stripe';
import type { PayoutRow, PayoutStatus } from '../db/schema.ts';

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

export function scheduleParams(schedule: Schedule): Stripe.AccountUpdateParams.Settings.Payouts.Schedule {
  return {
    interval: schedule.interval,
    ...(schedule.interval === 'weekly' ? { weekly_anchor: schedule.weekly_anchor ?? 'monday' } : {}),
    ...(schedule.interval === 'monthly' ? { monthly_anchor: schedule.monthly_anchor ?? 1 } : {}),
  };
}

export function pausedFrom(account: Stripe.Account): Schedule | undefined {
  const raw = account.metadata?.[PAUSED_FROM_KEY];
  if (raw === undefined || raw === '') return undefined;
  try {
    const parsed = JSON.parse(raw) as Schedule;
    return (INTERVALS as readonly string[]).includes(parsed.interval) && parsed.interval !== 'manual' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** When the paused-from schedule is manual (never automatic), resuming goes to Stripe's default, daily. */
export function scheduleToRemember(current: Schedule): Schedule {
  return current.interval === 'manual' ? { interval: 'daily' } : current;
}

export const payoutIdempotencyKey = (requestId: string) => `payout:${requestId}`;

/** A payout id as Stripe writes it (a page cursor from a URL must name one). */
export const PAYOUT_ID = /^po_[A-Za-z0-9]{1,64}$/;

export interface BalanceRow {
  currency: string;
  available: number;
  pending: number;
}

/** A connected account's balance, one row per currency with what is available and what is pending. */
export function balanceRows(balance: Pick<Stripe.Balance, 'available' | 'pending'>): BalanceRow[] {
  const rows = new Map<string, BalanceRow>();
  const rowOf = (currency: string) => rows.get(currency) ?? rows.set(currency, { currency, available: 0, pending: 0 }).get(currency)!;
  for (const a of balance.available) rowOf(a.currency).available += a.amount;
  for (const p of balance.pending) rowOf(p.currency).pending += p.amount;
  return [...rows.values()];
}

const PAYOUT_WORDS: Record<PayoutStatus, { label: string; badge: string }> = {
  pending: { label: 'Pending', badge: 'badge-warn' },
  in_transit: { label: 'On its way to your bank', badge: 'badge-warn' },
  paid: { label: 'Paid', badge: 'badge-ok' },
  failed: { label: 'Failed', badge: 'badge-bad' },
  canceled: { label: 'Canceled', badge: '' },
};

export interface PayoutStatusView {
  label: string;
  badge: string;
  /** Why it failed or was canceled, when Stripe said. */
  failure: string | null;
  /** How to read its arrival date: "Arrived", "Expected", or null for one that will not arrive. */
  arrival: 'Arrived' | 'Expected' | null;
}

/** A stored payout as a seller reads it. */
export function payoutStatusView(payout: Pick<PayoutRow, 'status' | 'failure_code' | 'failure_message' | 'arrival_date'>): PayoutStatusView {
  const words = PAYOUT_WORDS[payout.status] ?? { label: payout.status, badge: '' };
  const stopped = payout.status === 'failed' || payout.status === 'canceled';
  const failure = stopped ? (payout.failure_message ?? (payout.failure_code === null ? null : payout.failure_code.replaceAll('_', ' '))) : null;
  const arrival = payout.arrival_date === null || stopped ? null : payout.status === 'paid' ? 'Arrived' : 'Expected';
  return { ...words, failure, arrival };
}
