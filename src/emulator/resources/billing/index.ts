/**
 * Registration entry for Stripe Billing in the emulator: Customers, saved PaymentMethods,
 * SetupIntents, Products, Prices, Subscriptions, Invoices and InvoicePayments, renewals and
 * dunning on the emulator clock, the customer portal, Checkout's `subscription` and `setup`
 * modes, and their hosted pages. See
 * ../../README.md (Billing) and ../../CORE_API.md.
 */
import type { EmulatorCore } from '../../core/core.ts';
import { invalidRequest } from '../../core/errors.ts';
import type { Payments } from '../payments/api.ts';
import { billingContext } from './context.ts';
import { isDeleted, registerCustomers } from './customers.ts';
import { reconcileIntent } from './collection.ts';
import { productName } from './invoices.ts';
import { registerPaymentMethodAttachment } from './payment-methods.ts';
import { registerSetupIntents } from './setup-intents.ts';
import { registerProducts, requireProduct, createProductFromData } from './products.ts';
import { registerPrices } from './prices.ts';
import { registerSubscriptionRoutes } from './subscription-routes.ts';
import { registerInvoiceRoutes } from './invoice-routes.ts';
import { registerInvoicePage } from './invoice-page.ts';
import { registerSetupPages } from './setup-pages.ts';
import { registerPortalConfigurations } from './portal-configurations.ts';
import { registerPortalSessions } from './portal-sessions.ts';
import { registerPortalPage } from './portal-page.ts';
import { registerBillingCheckoutModes } from './checkout-sessions.ts';
import { registerBillingCheckoutPages } from './checkout-flows.ts';
import { endSubscription } from './subscription-status.ts';
import { runBillingClock } from './renewals.ts';
import { saveSettings, settingsOf, type BillingSettings } from './dunning.ts';

export function registerBilling(core: EmulatorCore, pay: Payments): void {
  const b = billingContext(core, pay);
  registerCustomers(b, {
    cancelSubscriptionsOf: (account, customerId) => {
      for (const s of b.subscriptions.list(account, (x) => x.customer === customerId && x.status !== 'canceled' && x.status !== 'incomplete_expired')) {
        endSubscription(b, account, s.id, { reason: 'cancellation_requested' });
      }
    },
  });
  registerPaymentMethodAttachment(b);
  registerSetupIntents(b);
  registerProducts(b);
  registerPrices(b, {
    requireProduct: (id, account, param) => requireProduct(b, id, account, param),
    createProductFromData: (account, data) => createProductFromData(b, account, data),
  });
  registerSubscriptionRoutes(b);
  registerInvoiceRoutes(b);
  registerInvoicePage(b);
  registerSetupPages(b);
  registerPortalConfigurations(b);
  registerPortalSessions(b);
  registerPortalPage(b);
  registerBillingCheckoutModes(b);
  registerBillingCheckoutPages(b);
  core.onTick('billing', (now) => runBillingClock(b, now));

  // What payments needs from billing: its customers and prices; what billing needs from payments:
  // the outcome of an invoice's PaymentIntent confirmed elsewhere (Stripe.js, the 3DS page, the API).
  pay.customerLookup = (account, id) => b.customers.get(id, account) !== undefined && !isDeleted(b, id);
  pay.priceLookup = (account, id) => {
    const price = b.prices.get(id, account);
    return price ? { price, productName: productName(b, price) } : undefined;
  };
  pay.hooks.intentSucceeded.push((pi) => reconcileIntent(b, pi.id, 'succeeded'));
  pay.hooks.intentPaymentFailed.push((pi) => reconcileIntent(b, pi.id, 'failed'));

  core.control('GET', '/_emulator/billing/settings', () => settingsOf(b));
  core.control('POST', '/_emulator/billing/settings', ({ body }) => {
    const patch: Partial<BillingSettings> = {};
    const sub = body.subscription_after_retries;
    if (sub !== undefined) {
      if (sub !== 'cancel' && sub !== 'unpaid' && sub !== 'past_due')
        throw invalidRequest('subscription_after_retries must be cancel, unpaid or past_due', { param: 'subscription_after_retries' });
      patch.subscription_after_retries = sub;
    }
    const inv = body.invoice_after_retries;
    if (inv !== undefined) {
      if (inv !== 'past_due' && inv !== 'uncollectible')
        throw invalidRequest('invoice_after_retries must be past_due or uncollectible', { param: 'invoice_after_retries' });
      patch.invoice_after_retries = inv;
    }
    if (body.upcoming_days !== undefined) {
      const d = Number(body.upcoming_days);
      if (!Number.isInteger(d) || d < 0 || d > 45) throw invalidRequest('upcoming_days must be an integer from 0 to 45', { param: 'upcoming_days' });
      patch.upcoming_days = d;
    }
    return saveSettings(b, patch);
  });
}
