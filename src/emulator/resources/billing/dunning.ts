/**
 * The renewal and retry schedule (a stand-in for Stripe's Smart Retries) and the settings a
 * Stripe account keeps in its Dashboard (Billing › Revenue recovery), changeable through
 * `POST /_emulator/billing/settings`.
 *
 * - A renewal invoice is created at the period end (`invoice.created`) and finalized and charged
 *   off-session one hour later, like Stripe ("not attempted until 1 hour after the
 *   invoice.created webhook", Invoice.attempted; docs.stripe.com/invoicing/integration/workflow-transitions).
 * - A failed attempt is retried on a fixed schedule that stands in for Smart Retries' default of
 *   "8 tries within 2 weeks" (docs.stripe.com/payments/off-session-payments/smart-retries): the
 *   first attempt, then retries 1, 3, 5, 7, 9, 11 and 14 days after it. An attempt that needs
 *   the customer's authentication (3DS) is not retried automatically (the customer has to act on
 *   the hosted invoice page), but still counts against the same 14-day window.
 * - When the last try fails (or the window ends unpaid), the subscription is canceled, marked
 *   `unpaid` or left `past_due` (`subscription_after_retries`, default `cancel`, Stripe's default
 *   choice), and the invoice is left open (`past_due`, default) or marked uncollectible
 *   (`invoice_after_retries`).
 * - A first invoice left unpaid for 23 hours expires the subscription (`incomplete_expired`) and
 *   voids the invoice (Subscription.status doc, stripe-node 23.1.0).
 * - `customer.subscription.trial_will_end` fires 3 days before a trial ends (at once when the
 *   trial is shorter); `invoice.upcoming` fires `upcoming_days` (default 7) before a renewal.
 */
import type { Billing } from './context.ts';

export const DAY = 86_400;
export const HOUR = 3_600;

export const RENEWAL_FINALIZE_DELAY = HOUR;
export const RETRY_DAYS = [1, 3, 5, 7, 9, 11, 14] as const;
export const RETRY_WINDOW = 14 * DAY;
export const INCOMPLETE_EXPIRY = 23 * HOUR;
export const TRIAL_WILL_END_NOTICE = 3 * DAY;

export interface BillingSettings {
  subscription_after_retries: 'cancel' | 'unpaid' | 'past_due';
  invoice_after_retries: 'past_due' | 'uncollectible';
  /** Days before a renewal that `invoice.upcoming` is sent (0: never). */
  upcoming_days: number;
}

export const DEFAULT_SETTINGS: BillingSettings = { subscription_after_retries: 'cancel', invoice_after_retries: 'past_due', upcoming_days: 7 };

const META_KEY = 'billing_settings';

export function settingsOf(b: Billing): BillingSettings {
  const stored = b.core.store.meta[META_KEY] as Partial<BillingSettings> | undefined;
  return { ...DEFAULT_SETTINGS, ...(stored ?? {}) };
}

export function saveSettings(b: Billing, patch: Partial<BillingSettings>): BillingSettings {
  const next = { ...settingsOf(b), ...patch };
  b.core.store.meta[META_KEY] = next;
  b.core.store.onChange();
  return next;
}

/** When the next automatic try happens after `failedTries` failed tries since `firstAttemptAt` (null: none left). */
export function nextRetryAt(firstAttemptAt: number, failedTries: number): number | null {
  const days = RETRY_DAYS[failedTries - 1];
  return days === undefined ? null : firstAttemptAt + days * DAY;
}
