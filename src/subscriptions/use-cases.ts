// What buyers do with subscriptions. Each exported function is one action and owns its
// transactions; Stripe is only called with none open:
//   (a) a short transaction records the subscription row (the intent) with the plan's price and the
//       fee policy's percentage; its id gives the key `subscription:<id>:create` (custom flow) or
//       `subscription:<id>:checkout` (hosted). At most one live row per buyer and plan (a partial
//       unique index): concurrent submits all reach the winner's row, hence one key, hence one
//       subscription at Stripe;
//   (b) commit;
//   (c) Stripe with that key;
//   (d) the answer is applied like any event (./sync.ts: newest snapshot wins, adoption by the id in
//       the metadata), so whichever of the answer and the webhooks comes first, the other is a no-op.
// A crash between (c) and (d) is repaired by the same button (same row, same key, same object) or
// by the subscription's events, which carry our id in their metadata.
import type { Kysely } from 'kysely';
import type Stripe from 'stripe';
import type { Database, SubscriptionFlow, SubscriptionRow } from '../db/schema.ts';
import { DomainError, found } from '../errors.ts';
import { feeTermsFor } from '../orders/queries.ts';
import { classifyStripeError } from '../stripe/errors.ts';
import { idOf } from '../stripe/ids.ts';
import { lockSellerForSale } from '../sellers/queries.ts';
import { sendKeyed } from '../stripe/keyed.ts';
import { customerForBuyer } from './buyer-customer.ts';
import { findPlan } from './plan-queries.ts';
import { ensurePlanAtStripe } from './plan-use-cases.ts';
import { ensurePortalConfiguration } from './portal.ts';
import {
  findBuyerSubscription,
  findLiveSubscription,
  findSubscription,
  insertSubscription,
  recordCheckout,
  trialingSubscriptionIdsOf,
  recordCustomer,
  recordStripeSubscription,
} from './queries.ts';
import { checkoutSubscriptionParams, subscriptionCheckoutKey, subscriptionCreateKey, subscriptionCreateParams } from './rules.ts';
import { applySubscription, factsOf, readSubscription } from './sync.ts';

export interface SubscribeInput {
  buyerId: string;
  planId: string;
  flow: SubscriptionFlow;
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
}

function stripeFailure(error: unknown): never {
  const problem = classifyStripeError(error);
  if (problem?.kind === 'refused') throw new DomainError('stripe_refused', { reason: problem.message });
  if (problem?.kind === 'unavailable') throw new DomainError('stripe_outcome_unknown');
  throw error;
}

/** (a, b): the buyer's one live subscription row for the plan — the existing one, or a new one. */
export async function recordSubscriptionIntent(db: Kysely<Database>, stripe: Stripe, input: SubscribeInput): Promise<SubscriptionRow> {
  const existing = await findLiveSubscription(db, input.buyerId, input.planId);
  if (existing !== undefined) return sameIntent(existing, input);
  let plan = found(await findPlan(db, input.planId));
  if (plan.status !== 'active') throw new DomainError('plan_not_available');
  plan = await ensurePlanAtStripe(db, stripe, plan);
  try {
    return await db.transaction().execute(async (trx) => {
      // Under the seller's lock: a suspension (or a disabled account) stops new subscriptions as it stops orders.
      const seller = await lockSellerForSale(trx, plan.seller_id);
      if (seller === undefined || seller.stripe_account_id === null || !seller.can_sell) throw new DomainError('plan_not_available');
      const terms = await feeTermsFor(trx, plan.seller_id, plan.currency);
      return insertSubscription(trx, {
        buyer_id: input.buyerId,
        seller_id: plan.seller_id,
        plan_id: plan.id,
        flow: input.flow,
        amount: plan.amount,
        currency: plan.currency,
        interval: plan.interval,
        destination_account: seller.stripe_account_id,
        fee_policy_id: terms.policyId,
        fee_basis_points: terms.basisPoints,
        stripe_price_id: plan.stripe_price_id,
      });
    });
  } catch (error) {
    // A concurrent submit won the insert: theirs is ours.
    if (isUniqueViolation(error)) {
      const winner = await findLiveSubscription(db, input.buyerId, input.planId);
      if (winner !== undefined) return sameIntent(winner, input);
    }
    throw error;
  }
}

function sameIntent(row: SubscriptionRow, input: SubscribeInput): SubscriptionRow {
  const startable = row.status === 'pending' || row.status === 'incomplete';
  if (!startable || row.flow !== input.flow) throw new DomainError('already_subscribed', { subscriptionId: row.id });
  return row;
}

async function withCustomer(db: Kysely<Database>, stripe: Stripe, row: SubscriptionRow): Promise<SubscriptionRow> {
  if (row.stripe_customer_id !== null) return row;
  return recordCustomer(db, row.id, await customerForBuyer(db, stripe, row.buyer_id));
}

export interface PaymentStep {
  subscription: SubscriptionRow;
  /** What the Payment Element confirms: the first invoice's payment, or (a trial) the card's setup. */
  clientSecret: string | null;
  kind: 'payment' | 'setup' | 'none';
}

/** The custom flow: `subscriptions.create` with `default_incomplete`, and the first invoice's secret. */
export async function subscribeWithPaymentElement(db: Kysely<Database>, stripe: Stripe, input: Omit<SubscribeInput, 'flow'>): Promise<PaymentStep> {
  const row = await withCustomer(db, stripe, await recordSubscriptionIntent(db, stripe, { ...input, flow: 'custom' }));
  return paymentStepOf(db, stripe, row);
}

/** The custom flow's pay page (again): the same subscription and its current secret. */
export async function openSubscriptionPayment(db: Kysely<Database>, stripe: Stripe, buyerId: string, subscriptionId: string): Promise<PaymentStep> {
  const row = found(await findBuyerSubscription(db, buyerId, subscriptionId));
  // A trial's card may still be wanted (its SetupIntent not yet confirmed): paymentStepOf tells.
  if (row.flow !== 'custom' || !['pending', 'incomplete', 'trialing'].includes(row.status)) return { subscription: row, clientSecret: null, kind: 'none' };
  return paymentStepOf(db, stripe, await withCustomer(db, stripe, row));
}

const EXPAND = ['latest_invoice.confirmation_secret', 'pending_setup_intent'];

async function paymentStepOf(db: Kysely<Database>, stripe: Stripe, row: SubscriptionRow): Promise<PaymentStep> {
  const plan = found(await findPlan(db, row.plan_id));
  const observedAt = new Date();
  let sub: Stripe.Subscription;
  try {
    sub =
      row.stripe_subscription_id !== null
        ? await stripe.subscriptions.retrieve(row.stripe_subscription_id, { expand: EXPAND })
        : await sendKeyed(() => stripe.subscriptions.create(subscriptionCreateParams(row, plan), { idempotencyKey: subscriptionCreateKey(row.id) }));
  } catch (error) {
    stripeFailure(error);
  }
  await db.transaction().execute(async (trx) => {
    await recordStripeSubscription(trx, row.id, sub.id);
    await applySubscription(trx, factsOf(sub, observedAt));
  });
  const saved = found(await findSubscription(db, row.id));
  const invoice = typeof sub.latest_invoice === 'object' ? sub.latest_invoice : null;
  const setup = typeof sub.pending_setup_intent === 'object' ? sub.pending_setup_intent : null;
  if (sub.status === 'incomplete' && invoice?.confirmation_secret?.client_secret)
    return { subscription: saved, clientSecret: invoice.confirmation_secret.client_secret, kind: 'payment' };
  if (setup?.client_secret && setup.status !== 'succeeded') return { subscription: saved, clientSecret: setup.client_secret, kind: 'setup' };
  return { subscription: saved, clientSecret: null, kind: 'none' };
}

/** Hosted Checkout in subscription mode: the row (a, b), its session (c, d); the URL to send the buyer to. */
export async function subscribeWithCheckout(
  db: Kysely<Database>,
  stripe: Stripe,
  input: Omit<SubscribeInput, 'flow'> & { publicUrl: string },
): Promise<{ subscription: SubscriptionRow; redirectUrl: string }> {
  const row = await withCustomer(db, stripe, await recordSubscriptionIntent(db, stripe, { ...input, flow: 'hosted' }));
  if (row.stripe_checkout_url !== null) return { subscription: row, redirectUrl: row.stripe_checkout_url };
  const plan = found(await findPlan(db, row.plan_id));
  let session: Stripe.Checkout.Session;
  try {
    session = await sendKeyed(() =>
      stripe.checkout.sessions.create(checkoutSubscriptionParams(row, plan, input.publicUrl), { idempotencyKey: subscriptionCheckoutKey(row.id) }),
    );
  } catch (error) {
    stripeFailure(error);
  }
  if (session.url === null) throw new Error(`Checkout Session ${session.id} has no url`);
  const saved = await recordCheckout(db, row.id, { id: session.id, url: session.url });
  return { subscription: saved, redirectUrl: saved.stripe_checkout_url ?? session.url };
}

/** The page Stripe sends the buyer back to: asks Stripe, never trusts the redirect. */
export async function completeSubscription(db: Kysely<Database>, stripe: Stripe, buyerId: string, subscriptionId: string): Promise<SubscriptionRow> {
  const row = found(await findBuyerSubscription(db, buyerId, subscriptionId));
  let stripeId = row.stripe_subscription_id;
  if (stripeId === null && row.stripe_checkout_session_id !== null) {
    const session = await stripe.checkout.sessions.retrieve(row.stripe_checkout_session_id);
    stripeId = idOf(session.subscription);
  }
  if (stripeId === null) return row;
  await adoptTrialCard(stripe, stripeId);
  const facts = await readSubscription(stripe, stripeId);
  await db.transaction().execute((trx) => applySubscription(trx, facts));
  return found(await findSubscription(db, row.id));
}

/**
 * A trial's card, saved through the subscription's pending SetupIntent, becomes the subscription's
 * default payment method, so the first renewal charges it. (Setting the same method again is
 * harmless, so no key is needed.)
 */
async function adoptTrialCard(stripe: Stripe, stripeId: string): Promise<void> {
  const sub = await stripe.subscriptions.retrieve(stripeId, { expand: ['pending_setup_intent'] });
  const setup = typeof sub.pending_setup_intent === 'object' ? sub.pending_setup_intent : null;
  const card = idOf(setup?.payment_method);
  if (setup?.status !== 'succeeded' || card === null || sub.default_payment_method !== null) return;
  await stripe.subscriptions.update(stripeId, { default_payment_method: card });
}

/**
 * Cancel at the end of the period, or undo that. No idempotency key on purpose: the same request
 * repeated sets the same flag, and a constant key would replay an old answer after an undo.
 */
export async function setCancelAtPeriodEnd(db: Kysely<Database>, stripe: Stripe, row: SubscriptionRow, cancel: boolean): Promise<SubscriptionRow> {
  // Our status may lag behind Stripe's (events on their way): only what is surely over is refused
  // here; Stripe refuses the rest itself.
  if (row.stripe_subscription_id === null || ['pending', 'incomplete_expired', 'canceled'].includes(row.status))
    throw new DomainError('subscription_not_changeable');
  const observedAt = new Date();
  let sub: Stripe.Subscription;
  try {
    sub = await stripe.subscriptions.update(row.stripe_subscription_id, { cancel_at_period_end: cancel });
  } catch (error) {
    stripeFailure(error);
  }
  await db.transaction().execute((trx) => applySubscription(trx, factsOf(sub, observedAt)));
  return found(await findSubscription(db, row.id));
}

export async function buyerSetCancelAtPeriodEnd(
  db: Kysely<Database>,
  stripe: Stripe,
  buyerId: string,
  subscriptionId: string,
  cancel: boolean,
): Promise<SubscriptionRow> {
  return setCancelAtPeriodEnd(db, stripe, found(await findBuyerSubscription(db, buyerId, subscriptionId)), cancel);
}

/**
 * "Manage billing": a portal session for the subscription's Customer with its seller's portal
 * configuration (plan switching only among that seller's plans), returning to our page.
 */
export async function openBillingPortal(db: Kysely<Database>, stripe: Stripe, buyerId: string, subscriptionId: string, returnUrl: string): Promise<string> {
  const row = found(await findBuyerSubscription(db, buyerId, subscriptionId));
  if (row.stripe_customer_id === null || row.stripe_subscription_id === null) throw new DomainError('subscription_not_changeable');
  const configuration = await ensurePortalConfiguration(db, stripe, row.seller_id);
  try {
    const session = await stripe.billingPortal.sessions.create({ customer: row.stripe_customer_id, return_url: returnUrl, configuration });
    return session.url;
  } catch (error) {
    stripeFailure(error);
  }
}

/**
 * The webhook's side of the same: a SetupIntent succeeded for a Customer with trials of ours, so a
 * buyer who saved the card and never came back to our page still has it charged at the trial's end.
 */
export async function adoptTrialCardsOf(db: Kysely<Database>, stripe: Stripe, customerId: string): Promise<void> {
  for (const subscriptionId of await trialingSubscriptionIdsOf(db, customerId)) await adoptTrialCard(stripe, subscriptionId);
}
