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
