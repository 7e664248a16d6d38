/**
 * Saving cards on customers: `POST /v1/payment_methods/:id/attach` and `…/detach` (payments owns
 * the PaymentMethod rules: `pm_card_*` ids cloned, declining cards refused, detaching final; see
 * payments/payment-methods.ts), plus what detaching means for billing: the method stops being the
 * customer's and its subscriptions' default (`customer.updated`, `customer.subscription.updated`).
 */
import type Stripe from 'stripe';
import { p, str } from '../../core/params.ts';
import { attachPaymentMethod as attach, detachPaymentMethod as detach } from '../payments/api.ts';
import type { Billing } from './context.ts';
import { requireCustomer } from './customers.ts';
import { previousAttributes } from './diff.ts';

/** Attach `pmId` (a stored pm_ or a `pm_card_*` test id) to the customer, which must exist. */
export function attachPaymentMethod(b: Billing, account: string, pmId: string, customerId: string, param = 'customer'): Stripe.PaymentMethod {
  requireCustomer(b, customerId, account, param);
  return attach(b.pay, account, pmId, customerId);
}

/** Detach for good; clears it as the customer's and its subscriptions' default. */
export function detachPaymentMethod(b: Billing, account: string, pmId: string): Stripe.PaymentMethod {
  const before = b.pay.pms.require(pmId, account, 'payment_method');
  const saved = detach(b.pay, account, pmId);
  const customerId = typeof before.customer === 'string' ? before.customer : (before.customer?.id ?? null);
  if (!customerId) return saved;
  const customer = b.customers.get(customerId, account);
  if (customer && customer.invoice_settings.default_payment_method === pmId) {
    const next = structuredClone(customer);
    next.invoice_settings.default_payment_method = null;
    const c = b.customers.save(next);
    b.core.emitEvent({ type: 'customer.updated', object: c, account, previousAttributes: previousAttributes(customer, c) });
  }
  for (const sub of b.subscriptions.list(account, (s) => s.customer === customerId && s.default_payment_method === pmId)) {
    const next = { ...structuredClone(sub), default_payment_method: null };
    const s = b.subscriptions.save(next);
    b.core.emitEvent({ type: 'customer.subscription.updated', object: s, account, previousAttributes: previousAttributes(sub, s) });
  }
  return saved;
}

export function registerPaymentMethodAttachment(b: Billing): void {
  b.core.route('POST', '/v1/payment_methods/:id/attach', { required: ['customer'], params: { customer: p.string, customer_account: p.string } }, (req) =>
    attachPaymentMethod(b, req.account, req.pathParams.id ?? '', str(req.params, 'customer') ?? ''),
  );
  b.core.route('POST', '/v1/payment_methods/:id/detach', {}, (req) => detachPaymentMethod(b, req.account, req.pathParams.id ?? ''));
}
