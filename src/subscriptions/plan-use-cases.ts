// What a seller does with plans. Each follows the transaction rule: the plan row is the recorded
// intent (its id and price version give the keys `plan:<id>:product` and `plan:<id>:price:<v>`),
// committed before Stripe is called; Stripe's answers fill blanks afterwards. A crash in between
// leaves a blank that `ensurePlanAtStripe` fills with the same key (the plan page, subscribing and
// the next edit all call it), so Stripe never gets two Products or two Prices for one intent.
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type Stripe from 'stripe';
import type { Database, Plan } from '../db/schema.ts';
import { DomainError, found } from '../errors.ts';
import { isSupportedCurrency } from '../money.ts';
import { classifyStripeError } from '../stripe/errors.ts';
import { sendKeyed } from '../stripe/keyed.ts';
import { ensureSeller, lockSellerForSale } from '../sellers/queries.ts';
import { findOwnPlan, findPlan, insertPlan, lockOwnPlan, recordPrice, recordProduct, setPlanStatus, startNewPrice } from './plan-queries.ts';
import { subscriptionsToMove } from './queries.ts';
import { checkPlanAmount, planLookupKey, priceKey, priceParams, productKey, productParams, validatePlan, type PlanForm } from './rules.ts';
import { applySubscription, factsOf } from './sync.ts';

export type ProrationChoice = 'create_prorations' | 'always_invoice' | 'none';

function stripeRefusal(error: unknown): never {
  const problem = classifyStripeError(error);
  if (problem?.kind === 'refused') throw new DomainError('stripe_refused', { reason: problem.message });
  if (problem?.kind === 'unavailable') throw new DomainError('stripe_unavailable', {});
  throw error;
}

/** Refused unless the seller can sell (sellerCanSell), checked under the seller's lock in the caller's transaction. */
async function checkSellerCanSell(trx: Transaction<Database>, sellerId: string): Promise<void> {
  const seller = await lockSellerForSale(trx, sellerId);
  if (seller?.suspended === true) throw new DomainError('seller_suspended');
  if (seller === undefined || !seller.can_sell) throw new DomainError('seller_cannot_take_payments');
}

/** A new plan: recorded (a, b), then its Product and Price at Stripe (c, d). Only sellers who can sell. */
export async function createPlan(db: Kysely<Database>, stripe: Stripe, sellerId: string, form: PlanForm): Promise<Plan> {
  const checked = validatePlan(form);
  if (!checked.ok) throw new DomainError('plan_invalid', { fields: checked.errors });
  await ensureSeller(db, sellerId);
  const id = randomUUID();
  const plan = await db.transaction().execute(async (trx) => {
    await checkSellerCanSell(trx, sellerId);
    return insertPlan(trx, id, sellerId, checked.value, planLookupKey(id));
  });
  return ensurePlanAtStripe(db, stripe, plan);
}

/** Fills the plan's Product and current Price at Stripe where not recorded yet (same keys every time). */
export async function ensurePlanAtStripe(db: Kysely<Database>, stripe: Stripe, plan: Plan): Promise<Plan> {
  if (plan.stripe_product_id !== null && plan.stripe_price_id !== null) return plan;
  try {
    let productId = plan.stripe_product_id;
    if (productId === null) {
      const product = await sendKeyed(() => stripe.products.create(productParams(plan), { idempotencyKey: productKey(plan.id) }));
      await recordProduct(db, plan.id, product.id);
      productId = product.id;
    }
    if (plan.stripe_price_id === null) {
      const price = await sendKeyed(() => stripe.prices.create(priceParams(plan, productId), { idempotencyKey: priceKey(plan) }));
      await recordPrice(db, plan.id, plan.price_version, price.id);
    }
  } catch (error) {
    stripeRefusal(error);
  }
  return found(await findPlan(db, plan.id));
}

/**
 * A new amount: a new Price that takes the lookup key over (`transfer_lookup_key`). Current
 * subscribers keep their price unless `move` says how to move them (see moveSubscribers). Only
 * sellers who can sell: a suspended seller's plans stay as they are.
 */
export async function changePlanPrice(
  db: Kysely<Database>,
  stripe: Stripe,
  sellerId: string,
  planId: string,
  amountText: string,
  move: ProrationChoice | 'keep',
): Promise<{ plan: Plan; moved: number }> {
  const before = found(await findOwnPlan(db, sellerId, planId));
  if (!isSupportedCurrency(before.currency)) throw new DomainError('amount_invalid', { reason: 'Unsupported currency' });
  const checked = checkPlanAmount(amountText, before.currency);
  if (!checked.ok) throw new DomainError('amount_invalid', { reason: checked.message });
  const plan = await db.transaction().execute(async (trx) => {
    await checkSellerCanSell(trx, sellerId);
    const locked = found(await lockOwnPlan(trx, sellerId, planId));
    // The same amount again (a double submit) is no new version.
    if (locked.amount === checked.amount && locked.stripe_price_id !== null) return locked;
    return startNewPrice(trx, planId, checked.amount);
  });
  const ready = await ensurePlanAtStripe(db, stripe, plan);
  const moved = move === 'keep' ? 0 : await moveSubscribers(db, stripe, ready, move);
  return { plan: ready, moved };
}

/**
 * Moves the plan's live subscriptions to its current Price with the proration the seller chose.
 * The key names the subscription and the price version, so a retry moves each once.
 */
export async function moveSubscribers(db: Kysely<Database>, stripe: Stripe, plan: Plan, proration: ProrationChoice): Promise<number> {
  if (plan.stripe_price_id === null) return 0;
  const priceId = plan.stripe_price_id;
  let moved = 0;
  for (const row of await subscriptionsToMove(db, plan.id, priceId)) {
    const observedAt = new Date();
    const current = await stripe.subscriptions.retrieve(row.stripe_subscription_id!);
    const item = current.items.data[0];
    if (item === undefined || item.price.id === priceId) continue;
    try {
      const updated = await sendKeyed(() =>
        stripe.subscriptions.update(
          row.stripe_subscription_id!,
          {
            items: [{ id: item.id, price: priceId }],
            proration_behavior: proration,
          },
          { idempotencyKey: `subscription:${row.id}:price:${plan.price_version}` },
        ),
      );
      await db.transaction().execute((trx) => applySubscription(trx, factsOf(updated, observedAt)));
      moved += 1;
    } catch (error) {
      stripeRefusal(error);
    }
  }
  return moved;
}

/** Archived: no new subscribers; existing subscriptions keep renewing on their price. */
export async function setPlanArchived(db: Kysely<Database>, stripe: Stripe, sellerId: string, planId: string, archived: boolean): Promise<Plan> {
  const plan = await db.transaction().execute(async (trx) => {
    found(await lockOwnPlan(trx, sellerId, planId));
    return setPlanStatus(trx, planId, archived ? 'archived' : 'active');
  });
  if (plan.stripe_product_id !== null) {
    try {
      // Not money-moving and the same request whatever happened before: safe to send again.
      await stripe.products.update(plan.stripe_product_id, { active: !archived });
    } catch (error) {
      stripeRefusal(error);
    }
  }
  return plan;
}
