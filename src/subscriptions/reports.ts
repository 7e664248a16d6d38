// Read models of subscriptions for people: the seller's view (subscribers per plan, monthly
// recurring revenue, each invoice's money, cancellations this month, subscribers at risk) and the
// buyer's list. Pure reads; the words come from ./rules.ts.
import type { Kysely } from 'kysely';
import { listAudit } from '../admin/audit.ts';
import type { Database, InvoiceRow, SubscriptionStatus } from '../db/schema.ts';
import { found } from '../errors.ts';
import { listInvoiceRefunds } from './invoice-refund-queries.ts';
import { listSellerPlans } from './plan-queries.ts';
import { findSubscription, invoicesOf, listBuyerSubscriptions, listInvoices, listSellerSubscriptions } from './queries.ts';
import { monthlyAmount, REVENUE_STATUSES, statusBadge, statusWords } from './rules.ts';

/** The money of one invoice's payment as people read it (null: not paid, or not known yet). */
export function invoiceMoney(invoice: InvoiceRow) {
  const paid = invoice.status === 'paid' || invoice.amount_paid > 0;
  return {
    gross: paid ? invoice.amount_paid : null,
    stripeFee: invoice.stripe_fee_amount,
    applicationFee: invoice.application_fee_amount === null ? null : invoice.application_fee_amount - invoice.fee_refunded,
    sellerNet: invoice.seller_net_amount === null ? null : invoice.seller_net_amount - (invoice.transfer_reversed - invoice.fee_refunded),
    refunded: invoice.amount_refunded,
  };
}

const INVOICE_WORDS: Record<InvoiceRow['status'], string> = {
  draft: 'Being prepared',
  open: 'Due',
  paid: 'Paid',
  uncollectible: 'Uncollectible',
  void: 'Void',
};

export function invoiceView(invoice: InvoiceRow) {
  return {
    ...invoice,
    money: invoiceMoney(invoice),
    statusLabel: invoice.action_required && invoice.status === 'open' ? 'Action needed' : INVOICE_WORDS[invoice.status],
  };
}

export async function sellerSubscriptionsView(db: Kysely<Database>, sellerId: string, now = new Date()) {
  const plans = await listSellerPlans(db, sellerId);
  const subs = await listSellerSubscriptions(db, sellerId);
  const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const mrr = new Map<string, number>();
  const perPlan = plans.map((plan) => {
    const ofPlan = subs.filter((s) => s.plan_id === plan.id);
    const count = (statuses: SubscriptionStatus[]) => ofPlan.filter((s) => statuses.includes(s.status)).length;
    return {
      ...plan,
      subscribers: count(['trialing', 'active', 'past_due', 'unpaid', 'paused']),
      trialing: count(['trialing']),
      pastDue: count(['past_due', 'unpaid']),
    };
  });
  for (const s of subs) {
    if (!REVENUE_STATUSES.includes(s.status)) continue;
    mrr.set(s.currency, (mrr.get(s.currency) ?? 0) + monthlyAmount(s.amount, s.interval));
  }
  const canceledThisMonth = subs.filter((s) => s.ended_at !== null && s.ended_at >= monthStart && s.status === 'canceled');
  const cancelingAtPeriodEnd = subs.filter((s) => s.cancel_at_period_end && s.status !== 'canceled');
  const atRisk = subs.filter((s) => s.status === 'past_due' || s.status === 'unpaid');
  const invoices = (await listInvoices(db, { sellerId })).map((i) => ({ ...invoiceView(i), plan_name: i.plan_name }));
  const view = (s: (typeof subs)[number]) => ({
    ...s,
    statusLabel: statusWords(s.status, s.cancel_at_period_end),
    badgeClass: statusBadge(s.status),
    planName: plans.find((p) => p.id === s.plan_id)?.name ?? '',
  });
  return {
    plans: perPlan,
    mrr: [...mrr].map(([currency, amount]) => ({ currency, amount })),
    subscriptions: subs.map(view),
    canceledThisMonth: canceledThisMonth.map(view),
    cancelingAtPeriodEnd: cancelingAtPeriodEnd.map(view),
    atRisk: atRisk.map(view),
    invoices,
  };
}

/** The buyer's subscriptions, each with its renewal, its invoices and what needs doing. */
export async function buyerSubscriptionsView(db: Kysely<Database>, buyerId: string) {
  const rows = await listBuyerSubscriptions(db, buyerId);
  return Promise.all(
    rows.map(async (s) => {
      const invoices = s.stripe_subscription_id === null ? [] : (await invoicesOf(db, s.stripe_subscription_id)).map(invoiceView);
      const open = invoices.find((i) => i.status === 'open');
      const live = ['trialing', 'active', 'past_due', 'unpaid', 'paused'].includes(s.status);
      return {
        ...s,
        statusLabel: statusWords(s.status, s.cancel_at_period_end),
        badgeClass: statusBadge(s.status),
        invoices,
        live,
        renews: live && !s.cancel_at_period_end && s.status !== 'unpaid' ? s.current_period_end : null,
        endsAt: live && s.cancel_at_period_end ? s.current_period_end : null,
        actionNeeded: open !== undefined && open.action_required ? open : null,
        failedPayment: open !== undefined && !open.action_required && (s.status === 'past_due' || s.status === 'unpaid') ? open : null,
        awaitingFirstPayment: s.status === 'incomplete' && s.flow === 'custom',
      };
    }),
  );
}

/** One subscription for the admin: its invoices, their refunds and the audit entries about them. */
export async function adminSubscriptionView(db: Kysely<Database>, id: string) {
  const subscription = found(await findSubscription(db, id));
  const invoices = await listInvoices(db, { subscriptionId: id });
  const ids = invoices.map((i) => i.id);
  const refunds = await listInvoiceRefunds(db, ids);
  const audit = await listAudit(db, { targetIds: [id, ...ids], limit: 50 });
  return { subscription, invoices, refunds, audit };
}
