/** Emulator-private state of a Checkout Session in one of billing's modes, kept with the session. */
import type Stripe from 'stripe';
import type { Billing } from './context.ts';

/** Emulator-private state of a session in a billing mode (kept with the session's internal data). */
export interface BillingCheckoutState {
  mode: 'subscription' | 'setup';
  subscription?: {
    items: Array<{ price: string; quantity: number }>;
    transferData: Stripe.Subscription.TransferData | null;
    applicationFeePercent: number | null;
    onBehalfOf: string | null;
    /** Absolute trial end, or days counted from when the buyer subscribes. */
    trialEnd: number | null;
    trialPeriodDays: number | null;
    trialMissingPaymentMethod: Stripe.Subscription.TrialSettings.EndBehavior.MissingPaymentMethod;
    description: string | null;
    metadata: Record<string, string>;
  };
  setup?: { description: string | null; metadata: Record<string, string>; onBehalfOf: string | null };
  /** Create a customer for the buyer when the session has none. */
  createCustomer: boolean;
  /** The subscription created on the first attempt, reused after a decline or a failed 3DS. */
  subscriptionId?: string;
}

export function checkoutStateOf(b: Billing, sessionId: string): BillingCheckoutState | undefined {
  const v = b.pay.sessions.internal(sessionId).billing;
  return v && typeof v === 'object' ? (v as BillingCheckoutState) : undefined;
}

export function setCheckoutState(b: Billing, sessionId: string, patch: Partial<BillingCheckoutState>): void {
  const current = checkoutStateOf(b, sessionId);
  b.pay.sessions.setInternal(sessionId, { billing: { ...current, ...patch } });
}
