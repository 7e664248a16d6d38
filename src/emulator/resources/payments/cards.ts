/**
 * Stripe's magic test cards and `pm_card_*` PaymentMethods (docs.stripe.com/testing), as the
 * emulator understands them. Every behaviour the payments module implements keys off this table.
 */

export type DeclineCode = 'generic_decline' | 'insufficient_funds';
export type DisputeKind = 'fraudulent' | 'product_not_received' | 'inquiry';
export type RefundBehaviour = 'pending_then_succeeded' | 'succeeded_then_failed';

export interface TestCard {
  /** The full card number, when there is one you can type. */
  number: string;
  brand: 'visa';
  last4: string;
  funding: 'credit';
  /** `required`: every on-session payment needs 3DS (challenge page). */
  threeDS: 'required' | 'optional';
  decline?: { decline_code: DeclineCode; message: string };
  dispute?: DisputeKind;
  /** Funds go straight to the available balance (0077 / `pm_card_bypassPending`). */
  bypassPending?: boolean;
  refund?: RefundBehaviour;
  label: string;
}

const visa = (number: string, label: string, extra: Partial<TestCard> = {}): TestCard => ({
  number,
  brand: 'visa',
  last4: number.slice(-4),
  funding: 'credit',
  threeDS: 'optional',
  label,
  ...extra,
});

export const DECLINE_MESSAGES: Record<DeclineCode, string> = {
  generic_decline: 'Your card was declined.',
  insufficient_funds: 'Your card has insufficient funds.',
};

/** Cards by number. */
export const TEST_CARDS: Record<string, TestCard> = Object.fromEntries(
  [
    visa('4242424242424242', 'Succeeds'),
    visa('4000002500003155', '3DS required unless set up', { threeDS: 'required' }),
    visa('4000000000003220', '3DS2 required', { threeDS: 'required' }),
    visa('4000002760003184', 'Always authenticate', { threeDS: 'required' }),
    visa('4000000000000002', 'Declined (generic_decline)', { decline: { decline_code: 'generic_decline', message: DECLINE_MESSAGES.generic_decline } }),
    visa('4000000000009995', 'Declined (insufficient_funds)', {
      decline: { decline_code: 'insufficient_funds', message: DECLINE_MESSAGES.insufficient_funds },
    }),
    visa('4000000000000259', 'Dispute: fraudulent', { dispute: 'fraudulent' }),
    visa('4000000000002685', 'Dispute: product not received', { dispute: 'product_not_received' }),
    visa('4000000000001976', 'Dispute: inquiry', { dispute: 'inquiry' }),
    visa('4000000000000077', 'Funds available immediately', { bypassPending: true }),
    visa('4000000000007726', 'Refund pending, then succeeded', { refund: 'pending_then_succeeded' }),
    visa('4000000000005126', 'Refund succeeded, then failed', { refund: 'succeeded_then_failed' }),
  ].map((c) => [c.number, c]),
);

/** `pm_card_*` test PaymentMethod ids → the card behind them. */
export const TEST_PAYMENT_METHODS: Record<string, string> = {
  pm_card_visa: '4242424242424242',
  pm_card_visa_chargeDeclined: '4000000000000002',
  pm_card_visa_chargeDeclinedInsufficientFunds: '4000000000009995',
  pm_card_chargeDeclined: '4000000000000002',
  pm_card_chargeDeclinedInsufficientFunds: '4000000000009995',
  pm_card_threeDSecure2Required: '4000000000003220',
  pm_card_authenticationRequiredOnSetup: '4000002500003155',
  pm_card_authenticationRequired: '4000002760003184',
  pm_card_bypassPending: '4000000000000077',
  pm_card_createDispute: '4000000000000259',
  pm_card_createDisputeProductNotReceived: '4000000000002685',
  pm_card_createDisputeInquiry: '4000000000001976',
  pm_card_pendingRefund: '4000000000007726',
  pm_card_refundFail: '4000000000005126',
};

/** Normalise a typed card number (spaces/dashes removed). */
export function normaliseNumber(input: string): string {
  return input.replace(/[\s-]/g, '');
}

function luhnValid(num: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = num.length - 1; i >= 0; i--) {
    let d = num.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

export type CardLookup = { ok: true; card: TestCard } | { ok: false; code: 'incorrect_number' | 'card_declined'; message: string };

/**
 * A typed card number → its test behaviour. Unknown but valid numbers behave like 4242 (Stripe
 * test mode accepts other valid test numbers); invalid ones are `incorrect_number`. Real-looking
 * card numbers are never stored: we keep brand and last4 only.
 */
export function lookupCardNumber(input: string): CardLookup {
  const num = normaliseNumber(input);
  const known = TEST_CARDS[num];
  if (known) return { ok: true, card: known };
  if (!/^\d{12,19}$/.test(num) || !luhnValid(num)) {
    return { ok: false, code: 'incorrect_number', message: 'Your card number is incorrect.' };
  }
  return { ok: true, card: visa(num, 'Generic test card') };
}

export function cardForTestPaymentMethod(pmId: string): TestCard | undefined {
  const num = TEST_PAYMENT_METHODS[pmId];
  return num ? TEST_CARDS[num] : undefined;
}
