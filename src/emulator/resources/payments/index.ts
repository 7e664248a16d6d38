/**
 * Registration entry for the money resources (PaymentMethods, PaymentIntents, Charges, Checkout
 * Sessions, Refunds, Transfers & reversals, Application fees & refunds, Disputes), their hosted
 * pages (Checkout, 3DS challenge, receipts) and the Stripe.js stand-in. See ../../CORE_API.md and
 * ./README.md.
 */
import type { EmulatorCore } from '../../core/core.ts';
import { Payments } from './service.ts';
import { registerPaymentRoutes } from './routes.ts';
import { registerCheckout } from './checkout.ts';
import { registerPaymentPages } from './pages.ts';

export function registerPayments(core: EmulatorCore): void {
  const pay = new Payments(core);
  registerPaymentRoutes(core, pay);
  registerCheckout(core, pay);
  registerPaymentPages(core, pay);
  // Test-card refunds settle on the next clock tick after they were created (7726 / 5126).
  core.onTick('payments-refund-settlement', () => pay.settleRefunds());
}
