// What each admin page shows, read in one place per page; the routes only render it. Pure reads:
// nothing here writes, and the one Stripe read (a seller's balance) has no transaction around it.
import type { Kysely } from 'kysely';
import type Stripe from 'stripe';
import { findUserSummary } from '../auth/users.ts';
import type { Database } from '../db/schema.ts';
import { found } from '../errors.ts';
import { findDispute, listOrderDisputes } from '../disputes/queries.ts';
import { findOrder, findOrderMoney } from '../orders/queries.ts';
import { listPayoutRequests, listSellerPayouts } from '../payouts/queries.ts';
import { payoutOverview, type PayoutOverview } from '../payouts/use-cases.ts';
import { listOrderRefunds, refundableLeft } from '../refunds/queries.ts';
import { chargebackOf } from '../refunds/rules.ts';
import { refundDefaults } from '../refunds/use-cases.ts';
import { ensureSeller, findSellerWithUser, isSellerUser } from '../sellers/queries.ts';
import { classifyStripeError } from '../stripe/errors.ts';
import { listPolicies } from './fee-policies.ts';
import { orderBreakdown, relatedEvents } from './money-views.ts';

/** An order with everything the admin decides a refund on. */
export async function orderPage(db: Kysely<Database>, orderId: string) {
  const order = found(await findOrder(db, orderId));
  const [refunds, money, disputes, seller, buyer, left, defaults] = await Promise.all([
    listOrderRefunds(db, order.id),
    findOrderMoney(db, order.id),
    listOrderDisputes(db, order.id),
    findUserSummary(db, order.seller_id),
    findUserSummary(db, order.buyer_id),
    refundableLeft(db, order),
    refundDefaults(db),
  ]);
  const events = await relatedEvents(db, order, [...refunds.map((r) => r.stripe_refund_id ?? ''), ...disputes.map((d) => d.id)]);
  // Offer only a refund Stripe would make: a charged-back payment cannot be refunded.
  const chargeback = chargebackOf(disputes);
  return {
    order,
    refunds,
    disputes,
    seller,
    buyer,
    left,
    defaults,
    events,
    breakdown: orderBreakdown(order, refunds, money, disputes),
    refundable: (order.status === 'paid' || order.status === 'partially_refunded') && left > 0 && chargeback === undefined,
    chargeback,
  };
}

/** A dispute with who it is between: its order's buyer and seller. */
export async function disputePage(db: Kysely<Database>, disputeId: string) {
  const dispute = found(await findDispute(db, disputeId));
  const order = dispute.order_id === null ? undefined : await findOrder(db, dispute.order_id);
  const [seller, buyer] =
    order === undefined ? [undefined, undefined] : await Promise.all([findUserSummary(db, order.seller_id), findUserSummary(db, order.buyer_id)]);
  return { dispute, order: order ?? null, seller: seller ?? null, buyer: buyer ?? null };
}

/**
 * A seller with their balance and schedule read from Stripe now; if Stripe cannot be read, the page
 * still shows what we have, with Stripe's refusal or a plain "could not be reached".
 */
export async function sellerPage(db: Kysely<Database>, stripe: Stripe, sellerId: string) {
  // A seller who never opened their dashboard has no seller row yet; it is made on first use, and
  // an admin opening the seller's page is a use (the list shows every seller user).
  if ((await findSellerWithUser(db, sellerId)) === undefined && (await isSellerUser(db, sellerId))) await ensureSeller(db, sellerId);
  const seller = found(await findSellerWithUser(db, sellerId));
  let overview: PayoutOverview | undefined;
  let stripeError: string | undefined;
  if (seller.stripe_account_id !== null) {
    try {
      overview = await payoutOverview(stripe, seller.stripe_account_id);
    } catch (error) {
      const problem = classifyStripeError(error);
      if (problem === undefined) throw error;
      stripeError = problem.kind === 'refused' ? problem.message : 'Stripe could not be reached; the balance and schedule are not shown.';
    }
  }
  const [payouts, requests, policies] = await Promise.all([listSellerPayouts(db, sellerId), listPayoutRequests(db, sellerId), listPolicies(db, sellerId)]);
  return { seller, overview, stripeError, payouts, requests, policies };
}
