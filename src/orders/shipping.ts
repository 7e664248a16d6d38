// The rules of shipping, with no database and no Stripe: what a shipping address is (from Stripe's
// objects or our own form), how it reads, and which fulfilment steps an order may take.
//
// Fulfilment is separate from payment: a physical order, once paid, goes
//   awaiting_shipment ──► shipped (carrier, tracking number) ──► delivered
// moved only by its seller. A digital order has no fulfilment at all (fulfilment_status null).
import type Stripe from 'stripe';
import type { FulfilmentStatus, FulfilmentStep, Order, ShipTo } from '../db/schema.ts';
import { countryName } from '../countries.ts';

/** Stripe's shipping details (a Checkout Session's `collected_information.shipping_details`, or a PaymentIntent's `shipping`). */
interface StripeShipping {
  name?: string | null;
  address?: Stripe.Address | null;
}

/** An address Stripe collected, as we keep it; undefined when there is none (or it has no name, street or country). */
export function shipToFromStripe(details: StripeShipping | null | undefined): ShipTo | undefined {
  const address = details?.address;
  if (details?.name == null || address?.line1 == null || address.country == null) return undefined;
  return {
    name: details.name,
    line1: address.line1,
    line2: blankToNull(address.line2),
    city: blankToNull(address.city),
    state: blankToNull(address.state),
    postal_code: blankToNull(address.postal_code),
    country: address.country,
  };
}

function blankToNull(value: string | null | undefined): string | null {
  return value == null || value.trim() === '' ? null : value;
}

/** Our address form (already checked by its schema), as we keep it. */
export function shipToFromForm(form: {
  name: string;
  line1: string;
  line2?: string | undefined;
  city: string;
  state?: string | undefined;
  postal_code: string;
  country: string;
}): ShipTo {
  return {
    name: form.name.trim(),
    line1: form.line1.trim(),
    line2: blankToNull(form.line2?.trim()),
    city: form.city.trim(),
    state: blankToNull(form.state?.trim()),
    postal_code: form.postal_code.trim(),
    country: form.country,
  };
}

/** An address as our form's fields (to show it again for correcting); none for no address. */
export function formValuesOf(shipTo: ShipTo | null): Record<string, string> {
  if (shipTo === null) return {};
  return Object.fromEntries(Object.entries(shipTo).map(([field, value]) => [field, value ?? '']));
}

/** The PaymentIntent's `shipping`, from the order's address (so a retry sends the same request). */
export function stripeShippingOf(shipTo: ShipTo): Stripe.PaymentIntentCreateParams.Shipping {
  return {
    name: shipTo.name,
    address: {
      line1: shipTo.line1,
      ...(shipTo.line2 !== null ? { line2: shipTo.line2 } : {}),
      ...(shipTo.city !== null ? { city: shipTo.city } : {}),
      ...(shipTo.state !== null ? { state: shipTo.state } : {}),
      ...(shipTo.postal_code !== null ? { postal_code: shipTo.postal_code } : {}),
      country: shipTo.country,
    },
  };
}

/** The address as lines under the name, the way a label is written. */
export function shipToLines(shipTo: ShipTo): string[] {
  const town = [shipTo.postal_code, shipTo.city, shipTo.state].filter((part) => part !== null).join(' ');
  return [shipTo.line1, shipTo.line2, town === '' ? null : town, countryName(shipTo.country)].filter((line): line is string => line !== null);
}

/** An order needs an address before it can be paid for: physical and none given yet. */
export function needsShippingAddress(order: Pick<Order, 'kind' | 'ship_to'>): boolean {
  return order.kind === 'physical' && order.ship_to === null;
}

/**
 * Whether the buyer may still give (or correct) the address on our form: a custom-flow physical
 * order waiting for payment whose PaymentIntent has not been asked for. From that request on, the
 * address is what Stripe holds (the intent's `shipping`) and what a retry must send again.
 */
export function canChangeShippingAddress(order: Pick<Order, 'flow' | 'kind' | 'status' | 'stripe_payment_intent_id' | 'payment_intent_requested_at'>): boolean {
  return (
    order.flow === 'custom' &&
    order.kind === 'physical' &&
    order.status === 'pending' &&
    order.stripe_payment_intent_id === null &&
    order.payment_intent_requested_at === null
  );
}

/** Whether two addresses are the same (the same form sent twice). */
export function sameShipTo(a: ShipTo | null, b: ShipTo): boolean {
  return a !== null && (Object.keys(b) as (keyof ShipTo)[]).every((key) => (a[key] ?? null) === (b[key] ?? null));
}

/**
 * Whether `step` may be taken now: `apply` it, `already` taken (a double submit: nothing to do),
 * or refused with the reason. Only a paid (or partly refunded) physical order is fulfilled; one
 * refunded in full is not shipped.
 */
export function fulfilmentDecision(
  order: Pick<Order, 'kind' | 'status' | 'fulfilment_status'>,
  step: FulfilmentStep,
): { kind: 'apply'; to: FulfilmentStatus } | { kind: 'already' } | { kind: 'refused'; reason: 'digital' | 'not_paid' | 'refunded' | 'not_shipped' } {
  if (order.kind !== 'physical' || order.fulfilment_status === null) return { kind: 'refused', reason: 'digital' };
  if (reached(order.fulfilment_status, step)) return { kind: 'already' };
  if (order.status === 'refunded') return { kind: 'refused', reason: 'refunded' };
  if (order.status !== 'paid' && order.status !== 'partially_refunded') return { kind: 'refused', reason: 'not_paid' };
  if (step === 'delivered' && order.fulfilment_status !== 'shipped') return { kind: 'refused', reason: 'not_shipped' };
  return { kind: 'apply', to: step };
}

const ORDER: readonly FulfilmentStatus[] = ['awaiting_shipment', 'shipped', 'delivered'];

function reached(status: FulfilmentStatus, step: FulfilmentStep): boolean {
  return ORDER.indexOf(status) >= ORDER.indexOf(step);
}

/** Words for the buyer's and seller's pages. */
export const FULFILMENT_WORDS: Record<FulfilmentStatus, string> = {
  awaiting_shipment: 'Waiting to be shipped',
  shipped: 'Shipped',
  delivered: 'Delivered',
};
