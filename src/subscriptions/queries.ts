// Every SQL statement about subscriptions and their invoices. A function that locks rows takes a
// Transaction. Snapshots of Stripe objects are written only when newer than what is stored
// (`observed_at`), so events and our own answers, in any order, end at the newest.
import { sql, type Insertable, type Kysely, type Transaction } from 'kysely';
import type { Database, InvoiceRow, InvoicesTable, SubscriptionRow, SubscriptionsTable, SubscriptionStatus } from '../db/schema.ts';
import { afterCursor, pageOf, PAGE_SIZE, type Cursor } from '../db/paging.ts';
import type { SubscriptionSnapshot } from './rules.ts';

export async function insertSubscription(trx: Transaction<Database>, values: Insertable<SubscriptionsTable>): Promise<SubscriptionRow> {
  return trx.insertInto('subscriptions').values(values).returningAll().executeTakeFirstOrThrow();
}

/** The buyer's live subscription to the plan (at most one: see the partial unique index). */
export async function findLiveSubscription(db: Kysely<Database>, buyerId: string, planId: string): Promise<SubscriptionRow | undefined> {
  return db
    .selectFrom('subscriptions')
    .selectAll()
    .where('buyer_id', '=', buyerId)
    .where('plan_id', '=', planId)
    .where('status', 'not in', ['incomplete_expired', 'canceled'])
    .executeTakeFirst();
}

export async function findSubscription(db: Kysely<Database>, id: string): Promise<SubscriptionRow | undefined> {
  return db.selectFrom('subscriptions').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findBuyerSubscription(db: Kysely<Database>, buyerId: string, id: string): Promise<SubscriptionRow | undefined> {
  return db.selectFrom('subscriptions').selectAll().where('id', '=', id).where('buyer_id', '=', buyerId).executeTakeFirst();
}

export async function findByStripeId(db: Kysely<Database>, stripeSubscriptionId: string): Promise<SubscriptionRow | undefined> {
  return db.selectFrom('subscriptions').selectAll().where('stripe_subscription_id', '=', stripeSubscriptionId).executeTakeFirst();
}

export async function lockSubscription(trx: Transaction<Database>, id: string): Promise<SubscriptionRow | undefined> {
  return trx.selectFrom('subscriptions').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function lockByStripeId(trx: Transaction<Database>, stripeSubscriptionId: string): Promise<SubscriptionRow | undefined> {
  return trx.selectFrom('subscriptions').selectAll().where('stripe_subscription_id', '=', stripeSubscriptionId).forUpdate().executeTakeFirst();
}

export async function recordCustomer(db: Kysely<Database>, id: string, customerId: string): Promise<SubscriptionRow> {
  return db
    .updateTable('subscriptions')
    .set({ stripe_customer_id: customerId, updated_at: new Date() })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Fills the Stripe subscription id where none is recorded (a webhook may have adopted it first). */
export async function recordStripeSubscription(trx: Transaction<Database>, id: string, stripeSubscriptionId: string): Promise<void> {
  await trx
    .updateTable('subscriptions')
    .set({ stripe_subscription_id: stripeSubscriptionId, updated_at: new Date() })
    .where('id', '=', id)
    .where('stripe_subscription_id', 'is', null)
    .execute();
}

export async function recordCheckout(db: Kysely<Database>, id: string, session: { id: string; url: string }): Promise<SubscriptionRow> {
  await db
    .updateTable('subscriptions')
    .set({ stripe_checkout_session_id: session.id, stripe_checkout_url: session.url, updated_at: new Date() })
    .where('id', '=', id)
    .where('stripe_checkout_session_id', 'is', null)
    .execute();
  return (await findSubscription(db, id))!;
}

/** Our row takes the snapshot unless it holds a newer one. Returns whether it was applied. */
export async function applySnapshot(trx: Transaction<Database>, row: SubscriptionRow, snap: SubscriptionSnapshot, observedAt: Date): Promise<boolean> {
  if (row.observed_at !== null && row.observed_at.getTime() > observedAt.getTime()) return false;
  await trx
    .updateTable('subscriptions')
    .set({
      stripe_subscription_id: snap.stripeSubscriptionId,
      status: snap.status,
      ...(snap.priceId !== null ? { stripe_price_id: snap.priceId } : {}),
      ...(snap.amount !== null ? { amount: snap.amount } : {}),
      ...(snap.customerId !== null ? { stripe_customer_id: snap.customerId } : {}),
      cancel_at_period_end: snap.cancelAtPeriodEnd,
      current_period_start: snap.currentPeriodStart,
      current_period_end: snap.currentPeriodEnd,
      trial_end: snap.trialEnd,
      canceled_at: snap.canceledAt,
      ended_at: snap.endedAt,
      latest_invoice_id: snap.latestInvoiceId,
      observed_at: observedAt,
      updated_at: new Date(),
    })
    .where('id', '=', row.id)
    .execute();
  return true;
}

/** A hosted subscription whose Checkout Session expired unpaid: it never started. */
export async function expireCheckout(trx: Transaction<Database>, sessionId: string): Promise<void> {
  await trx
    .updateTable('subscriptions')
    .set({ status: 'incomplete_expired', updated_at: new Date() })
    .where('stripe_checkout_session_id', '=', sessionId)
    .where('status', '=', 'pending')
    .execute();
}

// ---- Invoices ----

export type InvoiceSnapshot = Omit<Insertable<InvoicesTable>, 'created_at' | 'updated_at' | 'amount_refunded' | 'fee_refunded' | 'transfer_reversed'>;

/** Inserts or replaces the invoice's snapshot unless ours is newer; money facts only fill in. */
export async function upsertInvoice(trx: Transaction<Database>, snap: InvoiceSnapshot): Promise<void> {
  await trx
    .insertInto('invoices')
    .values(snap)
    .onConflict((oc) =>
      oc
        .column('id')
        .doUpdateSet((eb) => ({
          status: eb.ref('excluded.status'),
          subscription_id: sql`coalesce(excluded.subscription_id, invoices.subscription_id)`,
          billing_reason: eb.ref('excluded.billing_reason'),
          number: eb.ref('excluded.number'),
          amount_due: eb.ref('excluded.amount_due'),
          amount_paid: eb.ref('excluded.amount_paid'),
          hosted_invoice_url: sql`coalesce(excluded.hosted_invoice_url, invoices.hosted_invoice_url)`,
          invoice_pdf: sql`coalesce(excluded.invoice_pdf, invoices.invoice_pdf)`,
          attempt_count: eb.ref('excluded.attempt_count'),
          next_payment_attempt: eb.ref('excluded.next_payment_attempt'),
          action_required: eb.ref('excluded.action_required'),
          payment_error: eb.ref('excluded.payment_error'),
          period_start: eb.ref('excluded.period_start'),
          period_end: eb.ref('excluded.period_end'),
          stripe_payment_intent_id: sql`coalesce(excluded.stripe_payment_intent_id, invoices.stripe_payment_intent_id)`,
          stripe_charge_id: sql`coalesce(excluded.stripe_charge_id, invoices.stripe_charge_id)`,
          stripe_transfer_id: sql`coalesce(excluded.stripe_transfer_id, invoices.stripe_transfer_id)`,
          stripe_application_fee_id: sql`coalesce(excluded.stripe_application_fee_id, invoices.stripe_application_fee_id)`,
          stripe_fee_amount: sql`coalesce(excluded.stripe_fee_amount, invoices.stripe_fee_amount)`,
          application_fee_amount: sql`coalesce(excluded.application_fee_amount, invoices.application_fee_amount)`,
          seller_net_amount: sql`coalesce(excluded.seller_net_amount, invoices.seller_net_amount)`,
          paid_at: sql`coalesce(invoices.paid_at, excluded.paid_at)`,
          observed_at: eb.ref('excluded.observed_at'),
          updated_at: sql`now()`,
        }))
        .where('invoices.observed_at', '<=', sql<Date>`excluded.observed_at`),
    )
    .execute();
}

/** Refund totals of an invoice's payment; each only grows (events and our answers in any order). */
export async function recordInvoiceRefunded(
  db: Kysely<Database>,
  invoiceId: string,
  money: { amountRefunded?: number; feeRefunded?: number; transferReversed?: number },
): Promise<void> {
  await db
    .updateTable('invoices')
    .set((eb) => ({
      amount_refunded: sql`greatest(${eb.ref('amount_refunded')}, ${money.amountRefunded ?? 0})`,
      fee_refunded: sql`greatest(${eb.ref('fee_refunded')}, ${money.feeRefunded ?? 0})`,
      transfer_reversed: sql`greatest(${eb.ref('transfer_reversed')}, ${money.transferReversed ?? 0})`,
      updated_at: new Date(),
    }))
    .where('id', '=', invoiceId)
    .execute();
}

export async function findInvoice(db: Kysely<Database>, invoiceId: string): Promise<InvoiceRow | undefined> {
  return db.selectFrom('invoices').selectAll().where('id', '=', invoiceId).executeTakeFirst();
}

export async function findInvoiceByPayment(
  db: Kysely<Database>,
  refs: { chargeId?: string | null; transferId?: string | null; feeId?: string | null },
): Promise<InvoiceRow | undefined> {
  const { chargeId, transferId, feeId } = refs;
  if (!chargeId && !transferId && !feeId) return undefined;
  return db
    .selectFrom('invoices')
    .selectAll()
    .where((eb) =>
      eb.or([
        ...(chargeId ? [eb('stripe_charge_id', '=', chargeId)] : []),
        ...(transferId ? [eb('stripe_transfer_id', '=', transferId)] : []),
        ...(feeId ? [eb('stripe_application_fee_id', '=', feeId)] : []),
      ]),
    )
    .executeTakeFirst();
}

export async function invoicesOf(db: Kysely<Database>, stripeSubscriptionId: string): Promise<InvoiceRow[]> {
  return db
    .selectFrom('invoices')
    .selectAll()
    .where('stripe_subscription_id', '=', stripeSubscriptionId)
    .orderBy('stripe_created', 'desc')
    .orderBy('id', 'desc')
    .execute();
}

// ---- Lists ----

export async function listBuyerSubscriptions(db: Kysely<Database>, buyerId: string) {
  return db
    .selectFrom('subscriptions')
    .innerJoin('plans', 'plans.id', 'subscriptions.plan_id')
    .innerJoin('users', 'users.id', 'subscriptions.seller_id')
    .selectAll('subscriptions')
    .select(['plans.name as plan_name', 'users.display_name as seller_name'])
    .where('subscriptions.buyer_id', '=', buyerId)
    .where('subscriptions.status', '!=', 'pending')
    .orderBy('subscriptions.created_at', 'desc')
    .orderBy('subscriptions.id', 'desc')
    .limit(100)
    .execute();
}

/** Live subscriptions on a plan that are at Stripe, for moving them to the plan's new price. */
export async function subscriptionsToMove(db: Kysely<Database>, planId: string, priceId: string) {
  return db
    .selectFrom('subscriptions')
    .selectAll()
    .where('plan_id', '=', planId)
    .where('status', 'in', ['trialing', 'active', 'past_due', 'unpaid', 'paused'] satisfies SubscriptionStatus[])
    .where('stripe_subscription_id', 'is not', null)
    .where((eb) => eb.or([eb('stripe_price_id', 'is', null), eb('stripe_price_id', '!=', priceId)]))
    .execute();
}

export interface SubscriptionFilter {
  status?: SubscriptionStatus | undefined;
  sellerId?: string | undefined;
  before?: Cursor | undefined;
}

export async function listSubscriptions(db: Kysely<Database>, filter: SubscriptionFilter) {
  let query = db
    .selectFrom('subscriptions')
    .innerJoin('plans', 'plans.id', 'subscriptions.plan_id')
    .innerJoin('users as s', 's.id', 'subscriptions.seller_id')
    .innerJoin('users as b', 'b.id', 'subscriptions.buyer_id')
    .selectAll('subscriptions')
    .select(['plans.name as plan_name', 's.display_name as seller_name', 'b.email as buyer_email'])
    .orderBy('subscriptions.created_at', 'desc')
    .orderBy('subscriptions.id', 'desc')
    .limit(PAGE_SIZE + 1);
  if (filter.status !== undefined) query = query.where('subscriptions.status', '=', filter.status);
  if (filter.sellerId !== undefined) query = query.where('subscriptions.seller_id', '=', filter.sellerId);
  if (filter.before !== undefined) query = query.where(afterCursor(filter.before, 'subscriptions', 'created_at'));
  const rows = await query.execute();
  return pageOf(rows, PAGE_SIZE, (row) => ({ at: row.created_at, id: row.id }));
}

export interface InvoiceFilter {
  status?: InvoiceRow['status'] | undefined;
  sellerId?: string | undefined;
  subscriptionId?: string | undefined;
}

export async function listInvoices(db: Kysely<Database>, filter: InvoiceFilter, limit = 100) {
  let query = db
    .selectFrom('invoices')
    .innerJoin('subscriptions', 'subscriptions.stripe_subscription_id', 'invoices.stripe_subscription_id')
    .innerJoin('plans', 'plans.id', 'subscriptions.plan_id')
    .innerJoin('users as s', 's.id', 'subscriptions.seller_id')
    .selectAll('invoices')
    .select(['plans.name as plan_name', 's.display_name as seller_name', 'subscriptions.id as our_subscription_id', 'subscriptions.seller_id'])
    .orderBy('invoices.stripe_created', 'desc')
    .orderBy('invoices.id', 'desc')
    .limit(limit);
  if (filter.status !== undefined) query = query.where('invoices.status', '=', filter.status);
  if (filter.sellerId !== undefined) query = query.where('subscriptions.seller_id', '=', filter.sellerId);
  if (filter.subscriptionId !== undefined) query = query.where('subscriptions.id', '=', filter.subscriptionId);
  return query.execute();
}

/** A seller's subscriptions past the pending stage, newest first, with each buyer's email and name. */
export async function listSellerSubscriptions(db: Kysely<Database>, sellerId: string) {
  return db
    .selectFrom('subscriptions')
    .innerJoin('users', 'users.id', 'subscriptions.buyer_id')
    .selectAll('subscriptions')
    .select(['users.email as buyer_email', 'users.display_name as buyer_name'])
    .where('subscriptions.seller_id', '=', sellerId)
    .where('subscriptions.status', '!=', 'pending')
    .orderBy('subscriptions.created_at', 'desc')
    .execute();
}

/** The Stripe ids of a Customer's subscriptions in a trial (made at Stripe). */
export async function trialingSubscriptionIdsOf(db: Kysely<Database>, customerId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('subscriptions')
    .select('stripe_subscription_id')
    .where('stripe_customer_id', '=', customerId)
    .where('status', '=', 'trialing')
    .where('stripe_subscription_id', 'is not', null)
    .execute();
  return rows.flatMap((row) => (row.stripe_subscription_id === null ? [] : [row.stripe_subscription_id]));
}
