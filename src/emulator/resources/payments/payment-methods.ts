/**
 * PaymentMethods (cards only): created from test cards, `pm_card_*` test ids cloned on use, and
 * attached to or detached from a customer (Customers belong to billing, which checks the
 * customer exists before calling `attachPaymentMethod`).
 */
import type Stripe from 'stripe';
import { invalidRequest } from '../../core/errors.ts';
import { cardForTestPaymentMethod, type TestCard } from './cards.ts';
import { buildPaymentMethod } from './objects.ts';
import type { Payments } from './state.ts';

/** Create a card PaymentMethod from a test card (used for `pm_card_*` and typed numbers). */
export function createCardPaymentMethod(
  pay: Payments,
  account: string,
  card: TestCard,
  opts: { email?: string | null; metadata?: Record<string, string> } = {},
): Stripe.PaymentMethod {
  const pm = buildPaymentMethod({ id: pay.core.newId('pm'), card, created: pay.core.now(), email: opts.email ?? null, metadata: opts.metadata ?? {} });
  return pay.pms.insert(account, pm, { internal: { card } });
}

/** Resolve a `payment_method` parameter: a `pm_card_*` test id (cloned into a new pm_) or a stored pm_. */
export function resolvePaymentMethod(pay: Payments, account: string, id: string, param = 'payment_method'): Stripe.PaymentMethod {
  const test = cardForTestPaymentMethod(id);
  if (test) return createCardPaymentMethod(pay, account, test);
  const pm = pay.pms.get(id, account);
  if (!pm) throw invalidRequest(`No such PaymentMethod: '${id}'`, { code: 'resource_missing', param });
  return pm;
}

/** The test card behind a stored PaymentMethod (decides declines, 3DS, disputes, refunds). */
export function cardOf(pay: Payments, pmId: string): TestCard {
  const card = pay.pms.internal(pmId).card as TestCard | undefined;
  if (!card) throw new Error(`payment method ${pmId} has no card`);
  return card;
}

/** Retrieve, including the `pm_card_*` ids (shown as they would be if cloned). */
export function retrievePaymentMethod(pay: Payments, account: string, id: string): Stripe.PaymentMethod {
  const test = cardForTestPaymentMethod(id);
  if (test) return buildPaymentMethod({ id, card: test, created: pay.core.now() });
  return pay.pms.require(id, account);
}

/**
 * Attach a PaymentMethod (or a `pm_card_*` id, cloned first) to `customer`; emits
 * `payment_method.attached`. The caller has checked that the customer exists.
 */
export function attachPaymentMethod(pay: Payments, account: string, pmId: string, customer: string): Stripe.PaymentMethod {
  const pm = resolvePaymentMethod(pay, account, pmId, 'payment_method');
  if (pm.customer && pm.customer !== customer) {
    throw invalidRequest('The payment method you provided has already been attached to a customer.', {
      code: 'payment_method_unexpected_state',
      param: 'customer',
    });
  }
  if (pm.customer === customer) return pm;
  pm.customer = customer;
  const saved = pay.pms.save(pm);
  pay.core.emitEvent({ type: 'payment_method.attached', object: saved, account });
  return saved;
}

/** Detach a PaymentMethod from its customer; emits `payment_method.detached`. */
export function detachPaymentMethod(pay: Payments, account: string, pmId: string): Stripe.PaymentMethod {
  const pm = pay.pms.require(pmId, account, 'payment_method');
  if (!pm.customer) {
    throw invalidRequest('The payment method you provided is not attached to a customer so detachment is impossible.', {
      code: 'payment_method_unexpected_state',
      param: 'payment_method',
    });
  }
  const previous = pm.customer;
  pm.customer = null;
  const saved = pay.pms.save(pm);
  pay.core.emitEvent({ type: 'payment_method.detached', object: saved, account, previousAttributes: { customer: previous } });
  return saved;
}
