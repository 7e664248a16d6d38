/**
 * The one place where billing charges cards: a subscription invoice is paid through a
 * PaymentIntent of the payments module, as a destination charge when the subscription has
 * `transfer_data` (transfer to the destination, application fee of the subscription's
 * percentage of the amount due: money.ts), so its balance transactions on both sides are
 * exactly those of a one-off destination charge.
 */
import type Stripe from 'stripe';
import { confirmIntent, createIntent, intentInternal } from '../payments/api.ts';
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
  return createIntent(b.pay, {
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
    // The card that pays a subscription is kept for its renewals (attached, set up off-session).
    setup_future_usage: 'off_session',
    internal: { invoice: invoice.id },
  });
}

/**
 * Confirm the invoice's PaymentIntent with `paymentMethod`. Off-session (renewals, retries), a
 * card that needs authentication leaves the PaymentIntent in `requires_action` for the buyer
 * (hosted invoice page, or `confirmation_secret` with Stripe.js) instead of declining.
 */
export function confirmInvoiceIntent(
  b: Billing,
  account: string,
  piId: string,
  opts: { paymentMethod: string; offSession: boolean; returnUrl?: string },
): AttemptResult {
  const result = confirmIntent(b.pay, account, piId, {
    payment_method: opts.paymentMethod,
    off_session: opts.offSession,
    offSessionAuthentication: 'requires_action',
    ...(opts.returnUrl ? { return_url: opts.returnUrl } : {}),
  });
  if (result.kind === 'declined') return { kind: 'declined', pi: result.pi, code: result.error.code ?? 'card_declined', message: result.error.message };
  if (result.kind === 'requires_action') return { kind: 'requires_action', pi: result.pi };
  return { kind: 'succeeded', pi: result.pi };
}

/** The invoice a PaymentIntent collects, if any. */
export function invoiceOfIntent(b: Billing, piId: string): string | undefined {
  if (!b.pay.pis.get(piId)) return undefined;
  const v = (intentInternal(b.pay, piId) as { invoice?: unknown }).invoice;
  return typeof v === 'string' ? v : undefined;
}
