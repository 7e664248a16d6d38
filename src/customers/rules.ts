// The rules of saved cards, with no database and no Stripe calls: what of a card we keep, how it
// is named on a button, what a failed setup means in plain words, and what we send Stripe.
import type Stripe from 'stripe';
import { idOf } from '../stripe/ids.ts';

/** All we ever keep of a card (issue 12, point 6): no number, no fingerprint, no billing details. */
export interface CardFacts {
  brand: string;
  last4: string;
  exp_month: number;
  exp_year: number;
}

export function cardFacts(pm: Stripe.PaymentMethod): CardFacts | undefined {
  const card = pm.card;
  if (pm.type !== 'card' || card == null || !/^[0-9]{4}$/.test(card.last4)) return undefined;
  return { brand: card.brand, last4: card.last4, exp_month: card.exp_month, exp_year: card.exp_year };
}

const BRANDS: Record<string, string> = {
  visa: 'Visa',
  mastercard: 'Mastercard',
  amex: 'American Express',
  discover: 'Discover',
  diners: 'Diners Club',
  jcb: 'JCB',
  unionpay: 'UnionPay',
  cartes_bancaires: 'Cartes Bancaires',
  eftpos_au: 'eftpos',
  interac: 'Interac',
};

/** "Visa •••• 4242". */
export function cardLabel(card: Pick<CardFacts, 'brand' | 'last4'>): string {
  return `${BRANDS[card.brand] ?? 'Card'} •••• ${card.last4}`;
}

/** "04/2031", and whether that month is over. */
export function cardExpiry(card: Pick<CardFacts, 'exp_month' | 'exp_year'>, now = new Date()): { text: string; expired: boolean } {
  const expired = card.exp_year < now.getUTCFullYear() || (card.exp_year === now.getUTCFullYear() && card.exp_month < now.getUTCMonth() + 1);
  return { text: `${String(card.exp_month).padStart(2, '0')}/${card.exp_year}`, expired };
}

/** The id of the Customer a payment method is attached to now, if any. */
export function customerOf(pm: Stripe.PaymentMethod): string | null {
  return idOf(pm.customer);
}

/** Why a card could not be saved, in plain words (Stripe's message for anything we do not name). */
export function setupFailureMessage(error: { code?: string | null; decline_code?: string | null; message?: string | null } | null | undefined): string {
  switch (error?.decline_code ?? error?.code) {
    case 'authentication_required':
    case 'payment_intent_authentication_failure':
    case 'setup_intent_authentication_failure':
      return 'Your bank could not confirm it was you, so the card was not saved. Try again, or use another card.';
    case 'insufficient_funds':
    case 'generic_decline':
    case 'card_declined':
      return 'Your bank declined this card, so it was not saved. Try another card.';
    case 'expired_card':
      return 'This card has expired. Try another card.';
    case 'incorrect_cvc':
      return 'The security code was not right. Check it and try again.';
    default:
      return error?.message ?? 'The card could not be saved. Try again, or use another card.';
  }
}

/** Why a one-click payment failed, in plain words; nothing was charged. */
export function paymentFailureMessage(error: { code?: string | null; decline_code?: string | null; message?: string | null } | null | undefined): string {
  switch (error?.decline_code ?? error?.code) {
    case 'insufficient_funds':
      return 'Your bank declined the payment: not enough funds. Nothing was charged. Try another card.';
    case 'payment_intent_authentication_failure':
    case 'authentication_required':
      return 'Your bank could not confirm it was you, so nothing was charged. Try again, or use another card.';
    case 'expired_card':
      return 'This card has expired, so nothing was charged. Use another card.';
    case 'generic_decline':
    case 'card_declined':
    case 'do_not_honor':
      return 'Your bank declined the payment with this card. Nothing was charged, and the item is still available. Try another card.';
    default:
      return `Your bank declined the payment${error?.message ? ` (${error.message.replace(/\.$/, '')})` : ''}. Nothing was charged. Try another card.`;
  }
}

/** Key of one "add a card" attempt's SetupIntent or setup-mode Checkout Session. */
export function cardSetupIdempotencyKey(setupId: string): string {
  return `card-setup:${setupId}`;
}

/** The SetupIntent behind "add a card on this site" (Payment Element). */
export function setupIntentParams(customerId: string, setupId: string, buyerId: string): Stripe.SetupIntentCreateParams {
  return {
    customer: customerId,
    usage: 'off_session',
    automatic_payment_methods: { enabled: true },
    metadata: { card_setup_id: setupId, buyer_id: buyerId },
  };
}

/** Stripe-hosted Checkout in setup mode: the card is saved on Stripe's page. */
export function setupSessionParams(
  customerId: string,
  setupId: string,
  buyerId: string,
  publicUrl: string,
  currency: string,
): Stripe.Checkout.SessionCreateParams {
  return {
    mode: 'setup',
    ui_mode: 'hosted_page',
    customer: customerId,
    currency,
    setup_intent_data: { metadata: { card_setup_id: setupId, buyer_id: buyerId }, description: 'Save a card for later purchases' },
    metadata: { card_setup_id: setupId, buyer_id: buyerId },
    success_url: `${publicUrl}/account/payment-methods/setups/${setupId}/done?session_id={CHECKOUT_SESSION_ID}`,
    cancel_url: `${publicUrl}/account/payment-methods?canceled=1`,
  };
}
