/**
 * The one place where billing charges cards: a subscription invoice is paid through a
 * PaymentIntent of the payments module, as a destination charge when the subscription has
 * `transfer_data` (transfer to the destination, application fee of the subscription's
 * percentage of the amount due: money.ts), so its balance transactions on both sides are
 * exactly those of a one-off destination charge.
 */
import type Stripe from 'stripe';
import type { Billing } from './context.ts';
import { invoiceSplit } from './money.ts';
import { idOf } from './subscription-objects.ts';

export type AttemptResult =
  | { kind: 'succeeded'; pi: Stripe.PaymentIntent }
  | { kind: 'requires_action'; pi: Stripe.PaymentIntent }
  | { kind: 'declined'; pi: Stripe.PaymentIntent; code: string; message: string };

/** The PaymentIntent that collects a finalized invoice's `amount_due`. */
export function createInvoiceIntent(
  b: Billing,
  account: string,
  invoice: Stripe.Invoice,
  sub: Stripe.Subscription,
  paymentMethod: string | null,
): Stripe.PaymentIntent {
  const destination = sub.transfer_data ? idOf(sub.transfer_data.destination) : null;
  const split = invoiceSplit(invoice.amount_due, {
    applicationFeePercent: destination ? sub.application_fee_percent : null,
    transferAmountPercent: sub.transfer_data?.amount_percent,
  });
  const pi = b.pay.createIntent({
    account,
    amount: invoice.amount_due,
    currency: invoice.currency,
    customer: idOf(invoice.customer) ?? undefined,
    ...(destination ? { transfer_data: { destination, ...(split.transferAmount !== undefined ? { amount: split.transferAmount } : {}) } } : {}),
    ...(split.applicationFee !== null ? { application_fee_amount: split.applicationFee } : {}),
    on_behalf_of: idOf(sub.on_behalf_of) ?? undefined,
    description:
      invoice.billing_reason === 'subscription_create'
        ? 'Subscription creation'
        : invoice.billing_reason === 'subscription_update'
          ? 'Subscription update'
          : 'Subscription cycle',
    ...(paymentMethod ? { payment_method: paymentMethod } : {}),
  });
  // Stripe saves the card for the renewals that follow (the subscription's own PaymentIntents).
  pi.setup_future_usage = 'off_session';
  b.pay.pis.setInternal(pi.id, { invoice: invoice.id });
  return b.pay.pis.save(pi);
}

/** Confirm the invoice's PaymentIntent with `paymentMethod`. */
export function confirmInvoiceIntent(
  b: Billing,
  account: string,
  piId: string,
  opts: { paymentMethod: string; offSession: boolean; returnUrl?: string },
): AttemptResult {
  const result = b.pay.confirmIntent(account, piId, { payment_method: opts.paymentMethod, ...(opts.returnUrl ? { return_url: opts.returnUrl } : {}) });
  switch (result.kind) {
    case 'succeeded':
    case 'requires_capture':
    case 'processing':
      return { kind: 'succeeded', pi: result.pi };
    case 'requires_action':
      return { kind: 'requires_action', pi: result.pi };
    case 'declined':
      return { kind: 'declined', pi: result.pi, code: result.error.code ?? 'card_declined', message: result.error.message };
  }
}

/** The invoice a PaymentIntent collects, if any. */
export function invoiceOfIntent(b: Billing, piId: string): string | undefined {
  const pi = b.pay.pis.get(piId);
  if (!pi) return undefined;
  const v = b.pay.pis.internal(piId).invoice;
  return typeof v === 'string' ? v : undefined;
}
