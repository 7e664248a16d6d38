/**
 * What other resource modules (billing) may use from payments. Everything takes the `Payments`
 * that `registerPayments(core)` returns; see ../../CORE_API.md §11 for how to use each.
 * Import from this file only, so payments can move its insides without breaking you.
 */
export type { Payments, PaymentHooks, IntentListener, CheckoutCompletingListener, CheckoutModeExtension } from './state.ts';

// PaymentMethods
export {
  attachPaymentMethod,
  cardOf,
  createCardPaymentMethod,
  detachPaymentMethod,
  DETACHED_MESSAGE,
  isDetached,
  markSetUpForOffSession,
  resolvePaymentMethod,
  retrievePaymentMethod,
} from './payment-methods.ts';
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
export { requireTransferDestination, validateAmount, validateConnectParams, validateCurrency } from './validation.ts';

// Hosted pages: the common layout (with the "Stripe emulator" label), the 3D Secure challenge's pages
export { page } from './layout.ts';
export { challengePage, challengeResultPage, chooseCompleteOrFailPage, nothingToAuthenticatePage, unknownChallengePage } from './challenge-pages.ts';
