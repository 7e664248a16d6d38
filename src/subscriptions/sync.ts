// Stripe's word about our subscriptions and invoices, in two steps that never overlap: `read…` asks
// Stripe with no transaction open (the object as it is NOW, whatever the event that woke us said),
// and `apply…` writes it inside the caller's transaction, under the row's lock, only if what we
// hold is not newer (`observed_at` = when the read began). So events delivered in any order, twice,
// or racing our own use cases' answers all end at Stripe's latest state.
//
// A Stripe subscription carrying our subscription id in its metadata that our row has not recorded
// yet is adopted: it is our own call's answer that never got written (a crash), or Checkout's.
import type { Transaction } from 'kysely';
import type Stripe from 'stripe';
import type { Database, InvoiceStatus } from '../db/schema.ts';
import { idOf } from '../stripe/ids.ts';
import { applySnapshot, findByStripeId, lockByStripeId, lockSubscription, upsertInvoice, type InvoiceSnapshot } from './queries.ts';
import { subscriptionIdOfInvoice, subscriptionSnapshot, type SubscriptionSnapshot } from './rules.ts';

export interface SubscriptionFacts {
  snapshot: SubscriptionSnapshot;
  observedAt: Date;
}

export async function readSubscription(stripe: Stripe, stripeSubscriptionId: string): Promise<SubscriptionFacts> {
  const observedAt = new Date();
  const sub = await stripe.subscriptions.retrieve(stripeSubscriptionId);
  return { snapshot: subscriptionSnapshot(sub), observedAt };
}

/** A subscription object we already hold (an API answer), observed when that call began. */
export function factsOf(sub: Stripe.Subscription, observedAt: Date): SubscriptionFacts {
  return { snapshot: subscriptionSnapshot(sub), observedAt };
}

/** Applies the snapshot to our row (found by Stripe's id, or adopted by our id in its metadata). */
export async function applySubscription(trx: Transaction<Database>, facts: SubscriptionFacts): Promise<{ id: string } | undefined> {
  const { snapshot } = facts;
  let row = await lockByStripeId(trx, snapshot.stripeSubscriptionId);
  if (row === undefined && snapshot.ourId !== undefined) {
    const candidate = await lockSubscription(trx, snapshot.ourId);
    // Adopt only into a row that has no other Stripe subscription recorded.
    if (candidate !== undefined && (candidate.stripe_subscription_id === null || candidate.stripe_subscription_id === snapshot.stripeSubscriptionId))
      row = candidate;
  }
  if (row === undefined) return undefined;
  await applySnapshot(trx, row, snapshot, facts.observedAt);
  return { id: row.id };
}

// ---- Invoices ----

export interface InvoiceFacts {
  invoice: InvoiceSnapshot;
  subscription: SubscriptionFacts;
}

/**
 * The invoice now, with its payment's money (gross from the invoice payment; Stripe's fee from the
 * charge's balance transaction; the application fee and the transfer from the charge), and its
 * subscription now (an invoice event may be the first we hear of the subscription's change).
 * Undefined for invoices that bill no subscription.
 */
export async function readInvoice(stripe: Stripe, invoiceId: string): Promise<InvoiceFacts | undefined> {
  const observedAt = new Date();
  const invoice = await stripe.invoices.retrieve(invoiceId, { expand: ['payments.data.payment.payment_intent'] });
  const stripeSubscriptionId = subscriptionIdOfInvoice(invoice);
  if (stripeSubscriptionId === null) return undefined;
  const payments = invoice.payments?.data ?? [];
  const paid = payments.find((p) => p.status === 'paid');
  const current = paid ?? payments.find((p) => p.status === 'open');
  const intent = typeof current?.payment.payment_intent === 'object' ? current.payment.payment_intent : undefined;
  const money = paid !== undefined && intent !== undefined ? await chargeMoney(stripe, idOf(intent.latest_charge)) : undefined;
  const line = invoice.lines.data[0];
  const snapshot: InvoiceSnapshot = {
    id: invoice.id,
    stripe_subscription_id: stripeSubscriptionId,
    status: (invoice.status ?? 'draft') as InvoiceStatus,
    billing_reason: invoice.billing_reason,
    number: invoice.number,
    amount_due: invoice.amount_due,
    amount_paid: invoice.amount_paid,
    currency: invoice.currency,
    hosted_invoice_url: invoice.hosted_invoice_url ?? null,
    invoice_pdf: invoice.invoice_pdf ?? null,
    attempt_count: invoice.attempt_count,
    next_payment_attempt: invoice.next_payment_attempt === null ? null : new Date(invoice.next_payment_attempt * 1000),
    action_required: invoice.status === 'open' && intent?.status === 'requires_action',
    payment_error: invoice.status === 'open' ? (intent?.last_payment_error?.message ?? null) : null,
    period_start: line?.period.start === undefined ? null : new Date(line.period.start * 1000),
    period_end: line?.period.end === undefined ? null : new Date(line.period.end * 1000),
    stripe_payment_intent_id: intent?.id ?? null,
    stripe_charge_id: money?.chargeId ?? null,
    stripe_transfer_id: money?.transferId ?? null,
    stripe_application_fee_id: money?.applicationFeeId ?? null,
    stripe_fee_amount: money?.stripeFee ?? null,
    application_fee_amount: money?.applicationFee ?? null,
    seller_net_amount: money?.sellerNet ?? null,
    stripe_created: new Date(invoice.created * 1000),
    paid_at: invoice.status_transitions.paid_at === null ? null : new Date(invoice.status_transitions.paid_at * 1000),
    observed_at: observedAt,
  };
  return { invoice: snapshot, subscription: await readSubscription(stripe, stripeSubscriptionId) };
}

interface ChargeMoney {
  chargeId: string;
  transferId: string | null;
  applicationFeeId: string | null;
  stripeFee: number | null;
  applicationFee: number;
  sellerNet: number | null;
}

async function chargeMoney(stripe: Stripe, chargeId: string | null): Promise<ChargeMoney | undefined> {
  if (chargeId === null) return undefined;
  const charge = await stripe.charges.retrieve(chargeId, { expand: ['balance_transaction', 'transfer'] });
  const txn = typeof charge.balance_transaction === 'object' ? charge.balance_transaction : null;
  const transfer = typeof charge.transfer === 'object' ? charge.transfer : null;
  // A destination charge: the whole transfer lands on the seller and the application fee is taken
  // from it; Stripe's own fee is the platform's (on the platform's charge transaction).
  const fee = charge.application_fee_amount ?? 0;
  const transferred = transfer?.amount ?? charge.transfer_data?.amount ?? null;
  return {
    chargeId: charge.id,
    transferId: idOf(charge.transfer),
    applicationFeeId: idOf(charge.application_fee),
    stripeFee: txn?.fee ?? null,
    applicationFee: fee,
    sellerNet: transferred === null ? null : transferred - fee,
  };
}

/** The subscription first (it may adopt our row), then the invoice if the subscription is ours. */
export async function applyInvoice(trx: Transaction<Database>, facts: InvoiceFacts): Promise<void> {
  const ours = await applySubscription(trx, facts.subscription);
  const row = ours ?? (await findByStripeId(trx, facts.invoice.stripe_subscription_id));
  if (row === undefined) return;
  await upsertInvoice(trx, { ...facts.invoice, subscription_id: row.id });
}
