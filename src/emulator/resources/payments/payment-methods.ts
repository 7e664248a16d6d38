/**
 * PaymentMethods (cards only): created from test cards, `pm_card_*` test ids cloned on use.
 * Saving them on customers (attach, detach) is billing's: ../billing/payment-methods.ts.
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
