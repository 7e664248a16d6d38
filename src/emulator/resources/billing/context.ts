/**
 * The billing module's shared handles: the core, the payments domain it charges through, and
 * one typed collection per billing resource. Every billing file receives this object and works
 * through plain functions; nothing here holds state of its own (it all lives in the core's store,
 * so it persists with the state file).
 */
import type Stripe from 'stripe';
import type { EmulatorCore } from '../../core/core.ts';
import type { Collection } from '../../core/store.ts';
import type { Payments } from '../payments/service.ts';

export interface Billing {
  core: EmulatorCore;
  pay: Payments;
  customers: Collection<Stripe.Customer>;
  products: Collection<Stripe.Product>;
  prices: Collection<Stripe.Price>;
  subscriptions: Collection<Stripe.Subscription>;
  invoices: Collection<Stripe.Invoice>;
  invoicePayments: Collection<Stripe.InvoicePayment>;
  setupIntents: Collection<Stripe.SetupIntent>;
  portalConfigurations: Collection<Stripe.BillingPortal.Configuration>;
  portalSessions: Collection<Stripe.BillingPortal.Session>;
}

export function billingContext(core: EmulatorCore, pay: Payments): Billing {
  return {
    core,
    pay,
    customers: core.collection<Stripe.Customer>('customer', 'customer'),
    products: core.collection<Stripe.Product>('product', 'product'),
    prices: core.collection<Stripe.Price>('price', 'price'),
    subscriptions: core.collection<Stripe.Subscription>('subscription', 'subscription'),
    invoices: core.collection<Stripe.Invoice>('invoice', 'invoice'),
    invoicePayments: core.collection<Stripe.InvoicePayment>('invoice_payment', 'invoice payment'),
    setupIntents: core.collection<Stripe.SetupIntent>('setup_intent', 'setupintent'),
    portalConfigurations: core.collection<Stripe.BillingPortal.Configuration>('billing_portal.configuration', 'configuration'),
    portalSessions: core.collection<Stripe.BillingPortal.Session>('billing_portal.session', 'session'),
  };
}

/** Events emitted by scheduled work (renewals, retries) carry no request, as Stripe's do. */
export const NO_REQUEST: Stripe.Event.Request = { id: null, idempotency_key: null };
