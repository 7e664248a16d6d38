// The one way a use case says "no": a DomainError with a code and the facts behind it. Use cases
// never speak HTTP or English; src/http/errors.ts is the one map from a code to a status and the
// words a person reads. Add a code here and the compiler asks for its entry there.
import type { OrderStatus } from './db/schema.ts';

/** Every code a use case can fail with, and the details its message needs. */
export interface ErrorDetails {
  /** Nothing there, or not yours: both answer the same, so ids of others never leak. */
  not_found: Record<string, never>;

  // Buying
  listing_not_for_sale: Record<string, never>;
  seller_cannot_take_payments: Record<string, never>;
  sold_out: { left: number; asked: number };
  order_too_large: { maximum: number; currency: string };
  checkout_form_reused: Record<string, never>;
  order_not_awaiting_payment: Record<string, never>;
  /** A fulfilment step this order cannot take: digital, not paid, refunded in full, or not shipped yet. */
  fulfilment_refused: { reason: 'digital' | 'not_paid' | 'refunded' | 'not_shipped' };
  /** One-click pays at once, so it cannot ask for a shipping address: physical goods go through a form that does. */
  one_click_needs_address: Record<string, never>;
  shipping_country_not_served: { country: string };
  /** The custom flow's PaymentIntent was asked for with the address given: it can no longer change. */
  shipping_address_fixed: Record<string, never>;
  too_many_pending_orders: { limit: number };
  checkout_started_too_late: Record<string, never>;
  /** Stripe refused to start the payment (e.g. the seller's account is gone); the order is canceled. */
  payment_refused: { reason: string };
  /** Stripe did not answer the request that starts the payment: the order waits, and the same request again is safe. */
  payment_start_unanswered: Record<string, never>;
  /** "Cancel and go back" from Checkout: Stripe did not answer the expire, so the order is not canceled yet. */
  order_cancel_unanswered: Record<string, never>;

  // Amounts typed into forms
  amount_invalid: { reason: string };
  amount_not_positive: Record<string, never>;

  // Refunds
  refund_form_reused: Record<string, never>;
  order_not_refundable: { status: OrderStatus };
  order_has_no_payment: Record<string, never>;
  /** The payment was charged back (a dispute, not an inquiry): Stripe refuses to refund it. */
  order_disputed: { status: string };
  refund_exceeds_remaining: { left: number; orderAmount: number; currency: string };
  refund_refused: { reason: string };

  // Buyers' refund requests
  refund_request_open: Record<string, never>;
  refund_request_decided: { status: string };
  /** An approval already recorded the request's refund for Stripe: it can be finished, not declined. */
  refund_request_refund_sent: Record<string, never>;
  decline_needs_reason: Record<string, never>;

  // Payouts
  payout_form_reused: Record<string, never>;
  payouts_not_paused: Record<string, never>;

  // Listings
  listing_invalid: { fields: Record<string, string> };
  /** A catalogue address that is not one we make (a broken page link, an unknown order). */
  catalogue_request_invalid: { message: string };

  // Buyers' details, their Stripe Customer and saved cards
  // Plans and subscriptions
  plan_invalid: { fields: Record<string, string> };
  /** An admin suspended the seller (src/moderation): nothing new can be put on sale. */
  seller_suspended: Record<string, never>;
  /** Archived, or its seller cannot sell now (account not enabled, or suspended). */
  plan_not_available: Record<string, never>;
  /** The buyer already has a live subscription to this plan (another flow, or already started). */
  already_subscribed: { subscriptionId: string };
  subscription_not_changeable: Record<string, never>;
  // Buyers' details and their Stripe Customer
  buyer_details_invalid: { fields: Record<string, string> };
  /** A one-click payment was declined (or refused) by the bank; nothing was charged, the stock is back. */
  card_declined: { message: string };

  // Accounts: passwords, email changes, deletion
  /** The current password typed to confirm an action is not the account's. */
  password_incorrect: Record<string, never>;
  password_weak: { message: string };
  /** A reset or confirmation link that is unknown, used, or expired: the same answer for each. */
  account_link_invalid: Record<string, never>;
  email_taken: Record<string, never>;
  account_deletion_not_allowed: { reason: 'not_buyer' | 'pending_orders' | 'live_subscriptions' };

  // Fee policies
  basis_points_out_of_range: Record<string, never>;
  fixed_fee_needs_currency: Record<string, never>;
  fixed_fee_invalid: { reason: string };
  /** A fixed fee larger than most orders: saved only once the admin confirms it. */
  fixed_fee_unusually_large: { formatted: string };

  // Stripe, for any action
  /** Stripe answered no; nothing happened there. Its own words are shown. */
  stripe_refused: { reason: string };
  /** A write got no answer: it may or may not have happened; the same request again is safe. */
  stripe_outcome_unknown: Record<string, never>;
  /** No answer from Stripe (outage, rate limit): try again later. `action` says what could not be done. */
  stripe_unavailable: { action?: 'set_up_payouts' | 'continue_setup' | 'open_dashboard' };
  /** The Express dashboard opens only once the seller's details are submitted to Stripe. */
  express_dashboard_not_ready: Record<string, never>;
  /** The seller's connected account no longer lets us in (disconnected or deleted). */
  seller_account_gone: Record<string, never>;
}

export type ErrorCode = keyof ErrorDetails;

/** Codes whose details are all optional may be thrown without them. */
type NoDetails = Record<never, never>;
type DetailsArgument<C extends ErrorCode> = NoDetails extends ErrorDetails[C] ? [details?: ErrorDetails[C]] : [details: ErrorDetails[C]];

export class DomainError<C extends ErrorCode = ErrorCode> extends Error {
  readonly code: C;
  readonly details: ErrorDetails[C];

  constructor(code: C, ...details: DetailsArgument<C>) {
    super(code);
    this.name = 'DomainError';
    this.code = code;
    this.details = (details[0] ?? {}) as ErrorDetails[C];
  }
}

export function isDomainError(error: unknown): error is DomainError {
  return error instanceof DomainError;
}

/** For look-ups that must find something: throws `not_found`. */
export function found<T>(value: T | undefined): T {
  if (value === undefined) throw new DomainError('not_found');
  return value;
}
