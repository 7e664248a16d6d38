/**
 * Builders for the SDK-typed Invoice, InvoiceLineItem and InvoicePayment. Pure functions.
 *
 * At this API version an invoice has no `payment_intent`, `charge`, `subscription`,
 * `application_fee_amount` or `transfer_data` (removed in 2025-03-31.basil): its subscription is
 * `parent.subscription_details.subscription`, its payments are InvoicePayment objects
 * (`payments`, returned only when expanded), and the PaymentIntent's client secret is
 * `confirmation_secret` (also expand-only).
 */
import type Stripe from 'stripe';
import { decimalString } from './prices.ts';
import { describeInterval } from './periods.ts';
import { formatMoney } from '../payments/api.ts';

export function subscriptionLine(o: {
  id: string;
  invoice: string | null;
  subscription: string;
  item: Stripe.SubscriptionItem;
  productName: string;
  periodStart: number;
  periodEnd: number;
}): Stripe.InvoiceLineItem {
  const price = o.item.price;
  const quantity = o.item.quantity ?? 1;
  const unit = price.unit_amount ?? 0;
  const rec = price.recurring;
  const per = rec ? ` / ${describeInterval(rec.interval, rec.interval_count)}` : '';
  return subscriptionItemLine({
    id: o.id,
    invoice: o.invoice,
    subscription: o.subscription,
    itemId: o.item.id,
    price,
    quantity,
    amount: unit * quantity,
    description: `${quantity} × ${o.productName} (at ${formatMoney(unit, price.currency)}${per})`,
    proration: false,
    periodStart: o.periodStart,
    periodEnd: o.periodEnd,
  });
}

/** A proration line: credit (negative) for unused time on the old price, charge for the new. */
export function prorationLine(o: {
  id: string;
  invoice: string | null;
  subscription: string;
  itemId: string;
  price: Stripe.Price;
  quantity: number;
  amount: number;
  productName: string;
  periodStart: number;
  periodEnd: number;
}): Stripe.InvoiceLineItem {
  const credit = o.amount < 0;
  const description = credit ? `Unused time on ${o.quantity} × ${o.productName}` : `Remaining time on ${o.quantity} × ${o.productName}`;
  return subscriptionItemLine({ ...o, description, proration: true });
}

/** An invoice line for a subscription item: its period's charge, or (proration) a part of one; prorations are not discountable. */
function subscriptionItemLine(o: {
  id: string;
  invoice: string | null;
  subscription: string;
  itemId: string;
  price: Stripe.Price;
  quantity: number;
  amount: number;
  description: string;
  proration: boolean;
  periodStart: number;
  periodEnd: number;
}): Stripe.InvoiceLineItem {
  return {
    id: o.id,
    object: 'line_item',
    amount: o.amount,
    currency: o.price.currency,
    description: o.description,
    discount_amounts: [],
    discountable: !o.proration,
    discounts: [],
    invoice: o.invoice,
    livemode: false,
    metadata: {},
    parent: {
      invoice_item_details: null,
      subscription_item_details: {
        invoice_item: null,
        proration: o.proration,
        proration_details: { credited_items: null },
        subscription: o.subscription,
        subscription_item: o.itemId,
      },
      type: 'subscription_item_details',
    },
    period: { end: o.periodEnd, start: o.periodStart },
    pretax_credit_amounts: [],
    pricing: {
      price_details: { price: o.price.id, product: typeof o.price.product === 'string' ? o.price.product : o.price.product.id },
      type: 'price_details',
      unit_amount_decimal: decimalString(o.price.unit_amount ?? 0),
    },
    quantity: o.quantity,
    quantity_decimal: decimalString(o.quantity),
    subscription: o.subscription,
    subtotal: o.amount,
    taxes: [],
  };
}

export function buildInvoice(o: {
  id: string;
  created: number;
  customer: Stripe.Customer;
  subscription: Stripe.Subscription;
  billingReason: Stripe.Invoice.BillingReason;
  lines: Stripe.InvoiceLineItem[];
  periodStart: number;
  periodEnd: number;
  accountName: string | null;
}): Stripe.Invoice {
  const total = o.lines.reduce((n, l) => n + l.amount, 0);
  return {
    id: o.id,
    object: 'invoice',
    account_country: 'US',
    account_name: o.accountName,
    account_tax_ids: null,
    amount_due: Math.max(0, total),
    amount_overpaid: 0,
    amount_paid: 0,
    amount_remaining: Math.max(0, total),
    amount_shipping: 0,
    application: null,
    attempt_count: 0,
    attempted: false,
    auto_advance: true,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null, provider: null, status: null },
    automatically_finalizes_at: null,
    billing_reason: o.billingReason,
    collection_method: 'charge_automatically',
    created: o.created,
    currency: o.subscription.currency,
    custom_fields: null,
    customer: o.customer.id,
    customer_account: null,
    customer_address: o.customer.address ?? null,
    customer_email: o.customer.email,
    customer_name: o.customer.name ?? null,
    customer_phone: o.customer.phone ?? null,
    customer_shipping: o.customer.shipping,
    customer_tax_exempt: o.customer.tax_exempt ?? 'none',
    customer_tax_ids: [],
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    due_date: null,
    effective_at: null,
    ending_balance: null,
    footer: null,
    from_invoice: null,
    hosted_invoice_url: null,
    invoice_pdf: null,
    issuer: { type: 'self' },
    last_finalization_error: null,
    latest_revision: null,
    lines: { object: 'list', data: o.lines, has_more: false, url: `/v1/invoices/${o.id}/lines` },
    livemode: false,
    metadata: {},
    next_payment_attempt: null,
    number: null,
    on_behalf_of: o.subscription.on_behalf_of,
    parent: {
      quote_details: null,
      subscription_details: { metadata: { ...o.subscription.metadata }, subscription: o.subscription.id },
      type: 'subscription_details',
    },
    payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
    period_end: o.periodEnd,
    period_start: o.periodStart,
    post_payment_credit_notes_amount: 0,
    pre_payment_credit_notes_amount: 0,
    receipt_number: null,
    rendering: null,
    shipping_cost: null,
    shipping_details: null,
    starting_balance: o.customer.balance,
    statement_descriptor: null,
    status: 'draft',
    status_transitions: { finalized_at: null, marked_uncollectible_at: null, paid_at: null, voided_at: null },
    subtotal: total,
    subtotal_excluding_tax: total,
    test_clock: null,
    total,
    total_discount_amounts: [],
    total_excluding_tax: total,
    total_pretax_credit_amounts: [],
    total_taxes: [],
    webhooks_delivered_at: null,
  };
}

export function buildInvoicePayment(o: {
  id: string;
  invoice: string;
  paymentIntent: string;
  amount: number;
  currency: string;
  created: number;
}): Stripe.InvoicePayment {
  return {
    id: o.id,
    object: 'invoice_payment',
    amount_paid: null,
    amount_requested: o.amount,
    created: o.created,
    currency: o.currency,
    invoice: o.invoice,
    is_default: true,
    livemode: false,
    payment: { payment_intent: o.paymentIntent, type: 'payment_intent' },
    status: 'open',
    status_transitions: { canceled_at: null, paid_at: null },
  };
}
