// The rules of an order, with no database and no Stripe: its state machine, what Stripe's payment
// objects mean for it, and what we send Stripe to start paying for it.
//
// The state machine. Every status change goes through `transitionOrder` (./queries.ts), which
// applies a move only if `canTransition` allows it, so whoever comes second (webhook or completion
// page) finds the order already moved and does nothing.
//
//   pending ──► paid ──► partially_refunded ──► refunded
//      │          └──────────────────────────────►┘
//      ├──► payment_failed ──► paid   (a late success: Stripe took the money, the truth wins)
//      └──► canceled                  (session expired / intent canceled / Stripe refused to start)
//
// One correction runs backwards: a refund that Stripe reports as failed after it succeeded (the
// money did not reach the buyer) moves refunded → partially_refunded | paid, and
// partially_refunded → paid. Only the refund sync asks for it (`correction: 'refund_failed'`),
// from refund rows that are themselves freshness-guarded, so a late payment event can never
// move a refunded order back to paid.
import type Stripe from 'stripe';
import type { Order, OrderStatus, OrderTransitionSource } from '../db/schema.ts';
import { isUuid } from '../ids.ts';
import { stripeShippingOf } from './shipping.ts';

export const QUANTITY_MAX = 100;

/**
 * Unpaid orders hold stock, so a buyer may have only this many waiting for payment at once (the
 * same form twice is one order, not two): nobody can reserve a seller's whole stock by starting
 * checkouts and walking away. A buyer frees a place by paying or cancelling.
 */
export const PENDING_ORDERS_PER_BUYER = 3;

/** How long a custom-flow (Payment Element) order holds its stock unpaid before it is given up. */
export const CUSTOM_FLOW_HOLD_MS = 30 * 60 * 1000;

/** The most a buyer can choose on a form: the stock left, never more than QUANTITY_MAX (unlimited stock: null). */
export function quantityLimit(stock: number | null): number {
  return stock === null ? QUANTITY_MAX : Math.max(1, Math.min(stock, QUANTITY_MAX));
}

const ALLOWED: Record<OrderStatus, readonly OrderStatus[]> = {
  pending: ['paid', 'payment_failed', 'canceled'],
  payment_failed: ['paid'],
  canceled: [],
  paid: ['partially_refunded', 'refunded'],
  partially_refunded: ['refunded'],
  refunded: [],
};

const REFUND_FAILED_CORRECTIONS: Partial<Record<OrderStatus, readonly OrderStatus[]>> = {
  refunded: ['partially_refunded', 'paid'],
  partially_refunded: ['paid'],
};

export type TransitionCorrection = 'refund_failed';

export function canTransition(from: OrderStatus, to: OrderStatus, correction?: TransitionCorrection): boolean {
  if (ALLOWED[from].includes(to)) return true;
  return correction === 'refund_failed' && (REFUND_FAILED_CORRECTIONS[from]?.includes(to) ?? false);
}

/** Who moved an order: recorded on every transition (the checkout's own cancel is 'checkout'). */
export type TransitionSource = OrderTransitionSource;

export interface TransitionInput {
  to: OrderStatus;
  source: TransitionSource;
  stripeEventId?: string | null;
  reason?: string | null;
  /** A backward move the machine allows only on purpose (see REFUND_FAILED_CORRECTIONS). */
  correction?: TransitionCorrection;
  /** Facts that travel with this transition (failure reason, paid_at, …). */
  patch?: Partial<Pick<Order, 'failure_code' | 'failure_message' | 'paid_at'>>;
}

/** The buyer was charged, so the platform's fee was taken (a failed or canceled order took none). */
export function wasCharged(status: OrderStatus): boolean {
  return status === 'paid' || status === 'partially_refunded' || status === 'refunded';
}

/** Leaving `pending` for one of these gives the reserved stock back. */
export function releasesStock(to: OrderStatus): boolean {
  return to === 'payment_failed' || to === 'canceled';
}

// ---- What Stripe's objects mean for an order ----

/** Our order id in a Stripe object's metadata (or a session's client_reference_id), if it is one of ours. */
export function orderIdOf(object: { metadata?: Stripe.Metadata | null; client_reference_id?: string | null }): string | undefined {
  const id = object.metadata?.order_id ?? object.client_reference_id ?? undefined;
  return isUuid(id) ? id : undefined;
}

/** An amount or currency that does not match the order is never accepted as payment for it. */
export function matchesOrder(order: Pick<Order, 'amount' | 'currency'>, amount: number | null | undefined, currency: string | null | undefined): boolean {
  return amount === order.amount && currency?.toLowerCase() === order.currency;
}

/**
 * What a PaymentIntent, as Stripe says it is now, means for its order:
 * - `succeeded` → paid (final: a succeeded intent never goes back);
 * - back at `requires_payment_method` with a `last_payment_error` (decline, failed 3DS) →
 *   payment_failed, with Stripe's reason;
 * - `canceled` → canceled;
 * - anything else (requires_action, processing, nothing tried yet) → still pending (null).
 */
export function paymentVerdict(intent: Stripe.PaymentIntent): Omit<TransitionInput, 'source' | 'stripeEventId'> | null {
  if (intent.status === 'succeeded') return { to: 'paid', patch: { paid_at: new Date() } };
  if (intent.status === 'canceled') return { to: 'canceled', reason: `payment canceled (${intent.cancellation_reason ?? 'no reason'})` };
  if (intent.status === 'requires_payment_method' && intent.last_payment_error) {
    const error = intent.last_payment_error;
    return { to: 'payment_failed', reason: error.decline_code ?? error.code ?? null, patch: declineOf(error) };
  }
  return null;
}

/** Stripe's messages that are written for developers ("…provide payment_method_data…"), in words for buyers. */
const BUYER_WORDS: Record<string, string> = {
  payment_intent_authentication_failure:
    'Your bank could not confirm this payment: the 3D Secure check was not completed. Nothing was charged. Try again, or use another card.',
};
const GENERIC_FAILURE = 'The payment did not go through. Nothing was charged. Try again, or use another card.';

/**
 * A declined attempt's code and message, as the order keeps them and the buyer reads them. Card
 * declines keep Stripe's own message (written for cardholders: "Your card was declined."); a
 * message that talks about Stripe's objects is replaced.
 */
export function declineOf(error: Stripe.PaymentIntent.LastPaymentError): { failure_code: string | null; failure_message: string } {
  const code = error.decline_code ?? error.code ?? null;
  const known = code === null ? undefined : BUYER_WORDS[code];
  const stripeWords = error.message ?? '';
  const forDevelopers = stripeWords === '' || /PaymentIntent|PaymentMethod|payment_method|_data\b|API/.test(stripeWords);
  return { failure_code: code, failure_message: known ?? (forDevelopers ? GENERIC_FAILURE : stripeWords) };
}

// ---- What we send Stripe ----

/**
 * How long a hosted Checkout Session stays open, holding the order's stock (Stripe allows 30 min to
 * 24 h). Short, so nobody can sit on a seller's stock: Stripe's 30-minute minimum plus the few
 * minutes in which a retry (same key, same expiry) can still be sent, see MIN_REMAINING_SECONDS.
 */
export const CHECKOUT_LIFETIME_SECONDS = 36 * 60;
/** A retry must still leave Stripe's 30-minute minimum, with a margin for clock drift. */
const MIN_REMAINING_SECONDS = 31 * 60;

/** One key per order for whichever payment object starts it: a retry can only ever get the same one. */
export function checkoutIdempotencyKey(orderId: string): string {
  return `order:${orderId}:checkout`;
}

/** Derived from the order alone, so a retry sends Stripe exactly the parameters of the first try. */
export function checkoutExpiresAt(order: Pick<Order, 'created_at'>): number {
  return Math.floor(order.created_at.getTime() / 1000) + CHECKOUT_LIFETIME_SECONDS;
}

/** Too late to open a session for this order: Stripe would refuse an expiry this close. */
export function checkoutTooLate(order: Pick<Order, 'created_at'>, now = new Date()): boolean {
  return checkoutExpiresAt(order) - Math.floor(now.getTime() / 1000) < MIN_REMAINING_SECONDS;
}

function metadataFor(order: Order): Record<string, string> {
  return { order_id: order.id, seller_id: order.seller_id, buyer_id: order.buyer_id, listing_id: order.listing_id };
}

/** A destination charge: the whole amount goes to the seller's account, the platform keeps its fee. */
function destinationCharge(order: Order) {
  return {
    application_fee_amount: order.application_fee_amount,
    transfer_data: { destination: order.destination_account },
    ...(order.on_behalf_of ? { on_behalf_of: order.destination_account } : {}),
    metadata: metadataFor(order),
  };
}

/**
 * Which of a Customer's saved cards Checkout offers again. Every card on a buyer's Customer was
 * saved by the buyer on this site for reuse (the payment methods page, "Save my card", Checkout's
 * own box), and our own pages already offer them all (one-click); but only Checkout's box marks a
 * card `always`, and a SetupIntent leaves it `unspecified`. Filtering on `always` alone would hide
 * cards the buyer sees everywhere else here.
 */
export const CHECKOUT_REDISPLAY_FILTERS: Stripe.Checkout.SessionCreateParams.SavedPaymentMethodOptions.AllowRedisplayFilter[] = [
  'always',
  'limited',
  'unspecified',
];

/**
 * Hosted Checkout, from the order row alone (a retry sends the same request). With the buyer's
 * Customer (`order.stripe_customer_id`) the session pays as that Customer and shows their saved
 * cards; the card is then saved for off-session use either because the buyer ticked our own "Save
 * my card" (setup_future_usage: Checkout need not ask again) or because they tick Checkout's box
 * (payment_method_save). Without one it carries only the buyer's email.
 */
export function checkoutSessionParams(order: Order, publicUrl: string, shippingCountries: readonly string[]): Stripe.Checkout.SessionCreateParams {
  const customer = order.stripe_customer_id;
  const saving = customer !== null && order.save_payment_method;
  return {
    mode: 'payment',
    ui_mode: 'hosted_page',
    line_items: [
      {
        quantity: order.quantity,
        price_data: { currency: order.currency, unit_amount: order.unit_amount, product_data: { name: order.title } },
      },
    ],
    payment_intent_data: { ...destinationCharge(order), description: `Order ${order.id}`, ...(saving ? { setup_future_usage: 'off_session' as const } : {}) },
    metadata: metadataFor(order),
    client_reference_id: order.id,
    // Physical goods: Stripe's page asks where to ship (it arrives as collected_information.shipping_details).
    ...(order.kind === 'physical'
      ? {
          shipping_address_collection: {
            allowed_countries: shippingCountries as Stripe.Checkout.SessionCreateParams.ShippingAddressCollection.AllowedCountry[],
          },
        }
      : {}),
    // Stripe takes one or the other: the Customer carries the buyer's email.
    ...(customer !== null
      ? {
          customer,
          saved_payment_method_options: {
            allow_redisplay_filters: CHECKOUT_REDISPLAY_FILTERS,
            ...(saving ? {} : { payment_method_save: 'enabled' as const }),
          },
        }
      : { customer_email: order.buyer_email }),
    success_url: `${publicUrl}/orders/${order.id}/complete?session_id={CHECKOUT_SESSION_ID}`,
    cancel_url: `${publicUrl}/orders/${order.id}/complete?canceled=1`,
    expires_at: checkoutExpiresAt(order),
  };
}

/**
 * The custom flow's intent. With the buyer's Customer (`customerId`, given when the order asks to
 * save the card) the card is kept for later, off-session use once the payment succeeds.
 */
export function paymentIntentParams(order: Order, customerId?: string): Stripe.PaymentIntentCreateParams {
  return {
    amount: order.amount,
    currency: order.currency,
    automatic_payment_methods: { enabled: true },
    ...destinationCharge(order),
    receipt_email: order.buyer_email,
    description: `Order ${order.id}`,
    // The address the buyer gave on our form before this intent was made (see ./shipping.ts).
    ...(order.ship_to !== null ? { shipping: stripeShippingOf(order.ship_to) } : {}),
    ...(customerId !== undefined && order.save_payment_method ? { customer: customerId, setup_future_usage: 'off_session' as const } : {}),
  };
}

/**
 * One-click: the same destination charge, paid on-session with the buyer's saved card and
 * confirmed at once. If the bank asks for authentication, Stripe sends the buyer to the challenge
 * and then to `returnUrl` (the completion page, which asks Stripe what happened).
 */
export function savedCardIntentParams(order: Order, customerId: string, publicUrl: string): Stripe.PaymentIntentCreateParams {
  if (order.payment_method_id === null) throw new Error(`order ${order.id} names no saved card`);
  return {
    ...paymentIntentParams(order),
    customer: customerId,
    payment_method: order.payment_method_id,
    confirm: true,
    return_url: `${publicUrl}/orders/${order.id}/complete`,
  };
}

// ---- The seller's net on an order ----
// The one place it is computed: the seller's orders list, order page and CSV export, and the
// admin's breakdown all call `sellerNetOf`. A destination charge transfers the whole amount to the
// seller and takes the application fee back, so the seller starts with amount − fee (or the
// transfer Stripe reports). A refund takes back what it reversed of that transfer and returns the
// part of the fee refunded with it; a dispute takes back what the platform recovered from the
// seller (while open or lost, by policy) and returns what it repaid when the dispute was won.
// Stripe's own processing and dispute fees are the platform's, never in here.

export interface SellerRefundMoney {
  amount: number;
  fromSeller: number;
}
export interface SellerDisputeMoney {
  amount: number;
  recovered: number;
  repaid: number;
}

export interface SellerNet {
  /** What the transfer less the fee first brought the seller. */
  initial: number;
  /** After refunds (what they reversed, plus the fee returned), before disputes. */
  afterRefunds: number;
  /** After refunds and disputes: the seller's net on the order. */
  final: number;
}

export function initialSellerNet(order: Pick<Order, 'amount' | 'application_fee_amount' | 'seller_net_amount'>): number {
  return order.seller_net_amount ?? order.amount - order.application_fee_amount;
}

/**
 * What one dispute did to the seller's net: minus what the platform recovered from them (while
 * open or lost, by policy), plus what it repaid when the dispute was won. The admin's dispute page
 * and the order breakdown show this figure; sellerNetOf sums it.
 */
export function sellerDisputeNet(dispute: Pick<SellerDisputeMoney, 'recovered' | 'repaid'>): number {
  return dispute.repaid - dispute.recovered;
}

export function sellerNetOf(
  order: Pick<Order, 'amount' | 'application_fee_amount' | 'seller_net_amount'>,
  facts: { refunds: readonly SellerRefundMoney[]; feeReturned: number; disputes: readonly SellerDisputeMoney[] },
): SellerNet {
  const initial = initialSellerNet(order);
  const afterRefunds = initial - facts.refunds.reduce((n, r) => n + r.fromSeller, 0) + facts.feeReturned;
  const final = afterRefunds + facts.disputes.reduce((n, d) => n + sellerDisputeNet(d), 0);
  return { initial, afterRefunds, final };
}
