// What a saved card looks like on our pages (payment methods, one-click buttons): never more than
// brand, last 4 and expiry.
import { cardExpiry, cardLabel } from '../customers/rules.ts';

export function cardView(card: { id: string; brand: string; last4: string; exp_month: number; exp_year: number; is_default?: boolean }) {
  const expiry = cardExpiry(card);
  return { id: card.id, label: cardLabel(card), last4: card.last4, expiry: expiry.text, expired: expiry.expired, isDefault: card.is_default === true };
}
