/**
 * Billing periods on the emulator clock. A subscription's periods are counted from its
 * `billing_cycle_anchor`: the k-th boundary is the anchor plus k intervals. Months keep the
 * anchor's day of month, clamped to the month's last day (an anchor on Jan 31 renews on Feb 28
 * or 29, then Mar 31), and its time of day, as Stripe does.
 */
import type Stripe from 'stripe';

export type Interval = Stripe.Price.Recurring.Interval;

const DAY = 86_400;

function addMonthsUtc(t: number, months: number): number {
  const d = new Date(t * 1000);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + months;
  const targetYear = y + Math.floor(m / 12);
  const targetMonth = ((m % 12) + 12) % 12;
  const lastDay = new Date(Date.UTC(targetYear, targetMonth + 1, 0)).getUTCDate();
  const day = Math.min(d.getUTCDate(), lastDay);
  return Math.floor(Date.UTC(targetYear, targetMonth, day, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()) / 1000);
}

/** `anchor` plus `k` × (`count` `interval`s). */
export function boundary(anchor: number, interval: Interval, count: number, k: number): number {
  switch (interval) {
    case 'day':
      return anchor + k * count * DAY;
    case 'week':
      return anchor + k * count * 7 * DAY;
    case 'month':
      return addMonthsUtc(anchor, k * count);
    case 'year':
      return addMonthsUtc(anchor, k * count * 12);
    default:
      throw new Error(`unknown interval ${String(interval)}`);
  }
}

/** The first period boundary strictly after `t`. */
export function nextBoundary(anchor: number, interval: Interval, count: number, t: number): number {
  if (t < anchor) return anchor;
  // Estimate, then walk: months vary in length, so never trust the estimate alone.
  const approx = interval === 'day' ? count * DAY : interval === 'week' ? count * 7 * DAY : interval === 'month' ? count * 28 * DAY : count * 365 * DAY;
  let k = Math.max(1, Math.floor((t - anchor) / approx) - 1);
  while (boundary(anchor, interval, count, k) <= t) k += 1;
  while (k > 1 && boundary(anchor, interval, count, k - 1) > t) k -= 1;
  return boundary(anchor, interval, count, k);
}

/** `'month'` × 1 → "month"; × 3 → "3 months" (invoice line descriptions). */
export function describeInterval(interval: Interval, count: number): string {
  return count === 1 ? interval : `${count} ${interval}s`;
}
