/**
 * Registration entry for the money resources (PaymentMethods, PaymentIntents, Charges, Checkout
 * Sessions, Refunds, Transfers & reversals, Application fees & refunds, Disputes), their hosted
 * pages (Checkout, 3DS challenge, receipts) and the Stripe.js stand-in. See ../../CORE_API.md and
 * ./README.md. Other modules use the returned `Payments` with the functions in ./api.ts.
 */
import type { EmulatorCore } from '../../core/core.ts';
import { invalidRequest } from '../../core/errors.ts';
import { TEST_CARDS, TEST_PAYMENT_METHODS } from './cards.ts';
import { createPayments, type Payments } from './state.ts';
import { settleRefunds } from './refunds.ts';
import { openDispute } from './disputes.ts';
import { expireDueCheckoutSessions } from './checkout-payment.ts';
import { registerPaymentMethodRoutes } from './routes/payment-methods.ts';
import { registerIntentRoutes } from './routes/intents.ts';
import { registerChargeRoutes } from './routes/charges.ts';
import { registerRefundRoutes } from './routes/refunds.ts';
import { registerTransferAndFeeRoutes } from './routes/transfers.ts';
import { registerDisputeRoutes } from './routes/disputes.ts';
import { registerCheckoutRoutes } from './routes/checkout.ts';
import { registerCheckoutPage } from './checkout-page.ts';
import { registerPaymentPages } from './pages.ts';

export function registerPayments(core: EmulatorCore): Payments {
  const pay = createPayments(core);
  registerPaymentMethodRoutes(core, pay);
  registerIntentRoutes(core, pay);
  registerChargeRoutes(core, pay);
  registerRefundRoutes(core, pay);
  registerTransferAndFeeRoutes(core, pay);
  registerDisputeRoutes(core, pay);
  registerCheckoutRoutes(core, pay);
  registerCheckoutPage(core, pay);
  registerPaymentPages(core, pay);
  core.onTick('checkout-session-expiry', (now) => expireDueCheckoutSessions(pay, now));
  // Test-card refunds settle on the next clock tick after they were created (7726 / 5126).
  core.onTick('payments-refund-settlement', () => settleRefunds(pay));

  // Control API (tests): list the test cards; open a dispute on any succeeded charge.
  core.control('GET', '/_emulator/payments/test_cards', () => ({ cards: Object.values(TEST_CARDS), payment_methods: TEST_PAYMENT_METHODS }));
  core.control('POST', '/_emulator/payments/charges/:id/dispute', ({ pathParams, body }) => {
    const id = pathParams.id ?? '';
    const charge = pay.charges.get(id);
    if (!charge || charge.status !== 'succeeded' || !charge.captured) throw invalidRequest(`No succeeded, captured charge '${id}'.`, { param: 'id' });
    if (charge.disputed) throw invalidRequest(`Charge ${id} is already disputed.`, { param: 'id' });
    const reason = String(body.reason ?? 'fraudulent');
    if (reason !== 'fraudulent' && reason !== 'product_not_received' && reason !== 'inquiry') {
      throw invalidRequest('reason must be fraudulent, product_not_received or inquiry', { param: 'reason' });
    }
    return openDispute(pay, pay.charges.ownerOf(id) ?? core.platformAccount, id, reason);
  });
  return pay;
}
