// What a deleted buyer's personal data is replaced with, and how the messages about them that
// others keep (a seller's "new sale" and "refund requested") are rewritten. No database, no Stripe.
//
// Retention: an order stays for the seller's and the platform's accounts, so its shipping address
// becomes a placeholder rather than null (a physical order with no address would look as if it
// were still waiting for one) and keeps only the country, which the seller's records of where goods
// went (VAT, customs) need and which names nobody.
import type { ShipTo } from '../db/schema.ts';
import type { EmailTemplates } from '../email/templates.ts';
import { shipToLines } from '../orders/shipping.ts';

export const DELETED_NAME = 'Deleted account';
/** Stands for a buyer's own words (a refund request's reason) once they deleted their account. */
export const ERASED_WORDS = 'Removed: the buyer deleted their account.';

/** What a deleted buyer's row says instead of their email and name. */
export function deletedPlaceholder(userId: string): { email: string; displayName: string; nameKey: string } {
  return { email: `deleted-${userId}@deleted.invalid`, displayName: DELETED_NAME, nameKey: `deleted-${userId}` };
}

/** A shipping address with everything but the country removed (the country is the order's own). */
export const ERASED_SHIP_TO: Omit<ShipTo, 'country'> = {
  name: DELETED_NAME,
  line1: 'Address removed: the buyer deleted their account',
  line2: null,
  city: null,
  state: null,
  postal_code: null,
};

/** Templates of messages to sellers that carry what a buyer wrote or where they live. */
export const SELLER_MESSAGES_ABOUT_BUYERS = ['new-sale', 'refund-requested'] as const;
type SellerMessage = (typeof SELLER_MESSAGES_ABOUT_BUYERS)[number];

/**
 * A seller's message about a deleted buyer's order, as it would have been written for the erased
 * order (`shipTo` is the order's address as it is now, the placeholder). Rendering it again from
 * this gives the bodies, rather than searching them for what to replace: the address, the email
 * as HTML escapes it, and any spelling of it all go.
 */
export function erasedSellerMessage(template: SellerMessage, data: unknown, erased: { email: string; shipTo: ShipTo | null }): object {
  if (template === 'refund-requested') return { ...(data as EmailTemplates['refund-requested']), reason: ERASED_WORDS };
  const sale = data as Partial<EmailTemplates['new-sale']>;
  return {
    ...sale,
    buyerEmail: erased.email,
    shipTo: sale.shipTo == null || erased.shipTo === null ? null : { name: erased.shipTo.name, lines: shipToLines(erased.shipTo) },
  };
}

/**
 * Fields of Stripe objects that hold a person's details: names, emails, phones, addresses (on a
 * customer, a charge's and payment method's billing_details, a session's customer_details, an
 * invoice's customer_* copies, shipping). Their values become null wherever they appear.
 */
const PERSONAL_FIELDS = new Set([
  'name',
  'email',
  'phone',
  'address',
  'shipping',
  'shipping_details',
  'receipt_email',
  'customer_email',
  'customer_name',
  'customer_phone',
  'customer_address',
  'customer_shipping',
  'individual_name',
]);

/**
 * A stored Stripe event (or any part of one) with every personal field's value replaced by null,
 * at any depth; a customer's own description (which may name them) too. Ids, amounts, statuses and
 * metadata stay, so the event still says what happened to whose order.
 */
export function withoutPersonalData(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutPersonalData);
  if (value === null || typeof value !== 'object') return value;
  const isCustomer = (value as { object?: unknown }).object === 'customer';
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, PERSONAL_FIELDS.has(key) || (isCustomer && key === 'description') ? null : withoutPersonalData(item)]),
  );
}
