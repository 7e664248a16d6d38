/**
 * Saving cards on customers: `POST /v1/payment_methods/:id/attach` and `…/detach`, plus the
 * attach that SetupIntents, Checkout setup mode and `setup_future_usage` perform.
 *
 * Rules (docs.stripe.com/api/payment_methods/attach and /testing): a `pm_card_*` test id is
 * cloned into a new PaymentMethod and the clone is attached; a card that declines every charge
 * (0002, 9995) cannot be attached (402 `card_declined`), while 0341 (`pm_card_chargeCustomerFail`)
 * attaches and fails later, when charged; a method attached to another customer, or one that was
 * detached, cannot be attached again. Detaching is permanent: the method can no longer be used
 * for payments. A detached method stops being the customer's and its subscriptions' default.
 */
import type Stripe from 'stripe';
import { p, str } from '../../core/params.ts';
import { invalidRequest, cardError } from '../../core/errors.ts';
import type { Billing } from './context.ts';
import { requireCustomer } from './customers.ts';
import { cardForTestPaymentMethod } from '../payments/cards.ts';
import { previousAttributes } from './diff.ts';

export const DETACHED_MESSAGE =
  'This PaymentMethod was previously used without being attached to a Customer or was detached from a Customer, and may not be used again.';

/** Is this PaymentMethod permanently unusable (detached)? */
export function isDetached(b: Billing, pmId: string): boolean {
  return b.pay.pms.get(pmId) !== undefined && b.pay.pms.internal(pmId).detached === true;
}

/** Whether this card can be saved on a customer (declining cards are refused at attach). */
function checkAttachable(b: Billing, pm: Stripe.PaymentMethod): void {
  const card = b.pay.cardOf(pm.id);
  if (card.decline) {
    throw cardError(card.decline.message, { code: 'card_declined', decline_code: card.decline.decline_code, param: '', extra: { payment_method: pm } });
  }
}

/**
 * Attach `pmId` (a stored pm_ or a `pm_card_*` test id) to `customerId`. Emits
 * `payment_method.attached`. Attaching a method already on this customer returns it unchanged.
 */
export function attachPaymentMethod(b: Billing, account: string, pmId: string, customerId: string, param = 'payment_method'): Stripe.PaymentMethod {
  requireCustomer(b, customerId, account, 'customer');
  const pm = cardForTestPaymentMethod(pmId) ? b.pay.resolvePaymentMethod(account, pmId, param) : b.pay.pms.get(pmId, account);
  if (!pm) throw invalidRequest(`No such PaymentMethod: '${pmId}'`, { code: 'resource_missing', param });
  if (pm.customer === customerId) return pm;
  if (pm.customer)
    throw invalidRequest('The payment method you provided has already been attached to a customer.', { code: 'payment_method_unexpected_state', param });
  if (isDetached(b, pm.id)) throw invalidRequest(DETACHED_MESSAGE, { code: 'payment_method_unexpected_state', param });
  checkAttachable(b, pm);
  pm.customer = customerId;
  const saved = b.pay.pms.save(pm);
  b.core.emitEvent({ type: 'payment_method.attached', object: saved, account });
  return saved;
}

/** Detach for good. Clears it as the customer's and its subscriptions' default. */
export function detachPaymentMethod(b: Billing, account: string, pmId: string): Stripe.PaymentMethod {
  const pm = b.pay.pms.require(pmId, account);
  const customerId = typeof pm.customer === 'string' ? pm.customer : null;
  if (!customerId)
    throw invalidRequest('The payment method you provided is not attached to a customer so detachment is impossible.', {
      code: 'payment_method_unexpected_state',
      param: 'payment_method',
    });
  pm.customer = null;
  const saved = b.pay.pms.save(pm);
  b.pay.pms.setInternal(pm.id, { detached: true });
  b.core.emitEvent({ type: 'payment_method.detached', object: saved, account, previousAttributes: { customer: customerId } });
  const customer = b.customers.get(customerId, account);
  if (customer && customer.invoice_settings.default_payment_method === pm.id) {
    const before = structuredClone(customer);
    customer.invoice_settings.default_payment_method = null;
    const c = b.customers.save(customer);
    b.core.emitEvent({ type: 'customer.updated', object: c, account, previousAttributes: previousAttributes(before, c) });
  }
  for (const sub of b.subscriptions.list(account, (s) => s.customer === customerId && s.default_payment_method === pm.id)) {
    const before = structuredClone(sub);
    sub.default_payment_method = null;
    const s = b.subscriptions.save(sub);
    b.core.emitEvent({ type: 'customer.subscription.updated', object: s, account, previousAttributes: previousAttributes(before, s) });
  }
  return saved;
}

export function registerPaymentMethodAttachment(b: Billing): void {
  b.core.route('POST', '/v1/payment_methods/:id/attach', { required: ['customer'], params: { customer: p.string, customer_account: p.string } }, (req) =>
    attachPaymentMethod(b, req.account, req.pathParams.id ?? '', str(req.params, 'customer') ?? '', 'payment_method'),
  );
  b.core.route('POST', '/v1/payment_methods/:id/detach', {}, (req) => detachPaymentMethod(b, req.account, req.pathParams.id ?? ''));
}
