/**
 * What other resource modules (billing) may use from payments. Everything takes the `Payments`
 * that `registerPayments(core)` returns; see ../../CORE_API.md §11 for how to use each.
 * Import from this file only, so payments can move its insides without breaking you.
 */
export type { Payments, PaymentHooks, IntentListener, CheckoutCompletingListener, CheckoutModeExtension } from './state.ts';

// PaymentMethods
export { attachPaymentMethod, createCardPaymentMethod, detachPaymentMethod, resolvePaymentMethod, retrievePaymentMethod } from './payment-methods.ts';
export { lookupCardNumber, cardForTestPaymentMethod, TEST_CARDS, type TestCard } from './cards.ts';

// PaymentIntents (e.g. an invoice's)
export {
  cancelIntent,
  captureIntent,
  confirmIntent,
  createIntent,
  intentInternal,
  requireIntent,
  type ConfirmResult,
  type CreateIntentInput,
  type PaymentIntentInternal,
} from './intents.ts';

// Refunds
export { createRefund } from './refunds.ts';

// Checkout Sessions
export {
  createCheckoutSession,
  lineItem,
  lineItemsFromParams,
  sessionInternal,
  type CheckoutSessionInput,
  type PaymentIntentData,
  type SessionInternal,
} from './checkout.ts';
export { completeCheckoutSession, expireCheckoutSession, successRedirect } from './checkout-payment.ts';

// Money helpers (the one place for Stripe's fee and money formatting in the emulator)
export { formatMoney, stripeFee, minimumAmount } from './fees.ts';
export { validateAmount, validateCurrency } from './validation.ts';
