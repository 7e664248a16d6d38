// Every SQL statement about plans and sellers' portal configurations. A function that locks rows
// takes a Transaction.
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database, Plan, PlanStatus } from '../db/schema.ts';
import { sellerCanSell } from '../sellers/queries.ts';
import type { PlanInput } from './rules.ts';

export async function insertPlan(trx: Transaction<Database>, id: string, sellerId: string, input: PlanInput, lookupKey: string): Promise<Plan> {
  return trx
    .insertInto('plans')
    .values({
      id,
      seller_id: sellerId,
      name: input.name,
      description: input.description,
      amount: input.amount,
      currency: input.currency,
      interval: input.interval,
      trial_days: input.trialDays,
      lookup_key: lookupKey,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findPlan(db: Kysely<Database>, planId: string): Promise<Plan | undefined> {
  return db.selectFrom('plans').selectAll().where('id', '=', planId).executeTakeFirst();
}

export async function findOwnPlan(db: Kysely<Database>, sellerId: string, planId: string): Promise<Plan | undefined> {
  return db.selectFrom('plans').selectAll().where('id', '=', planId).where('seller_id', '=', sellerId).executeTakeFirst();
}

export async function lockOwnPlan(trx: Transaction<Database>, sellerId: string, planId: string): Promise<Plan | undefined> {
  return trx.selectFrom('plans').selectAll().where('id', '=', planId).where('seller_id', '=', sellerId).forUpdate().executeTakeFirst();
}

export async function listSellerPlans(db: Kysely<Database>, sellerId: string): Promise<Plan[]> {
  return db.selectFrom('plans').selectAll().where('seller_id', '=', sellerId).orderBy('created_at').orderBy('id').execute();
}

/** Active plans of sellers who can sell now (sellerCanSell: account enabled, not suspended), for buyers. */
export async function listPublicPlans(db: Kysely<Database>, sellerId?: string, planId?: string) {
  let query = db
    .selectFrom('plans')
    .innerJoin('sellers', 'sellers.id', 'plans.seller_id')
    .innerJoin('users', 'users.id', 'plans.seller_id')
    .selectAll('plans')
    .select('users.display_name as seller_name')
    .where('plans.status', '=', 'active')
    .where('plans.stripe_price_id', 'is not', null)
    .where((eb) => sellerCanSell(eb))
    .orderBy('plans.created_at')
    .orderBy('plans.id');
  if (sellerId !== undefined) query = query.where('plans.seller_id', '=', sellerId);
  if (planId !== undefined) query = query.where('plans.id', '=', planId);
  return query.execute();
}

export async function recordProduct(db: Kysely<Database>, planId: string, productId: string): Promise<void> {
  await db
    .updateTable('plans')
    .set({ stripe_product_id: productId, updated_at: new Date() })
    .where('id', '=', planId)
    .where('stripe_product_id', 'is', null)
    .execute();
}

/** Records the Price of `version` only if it is still the plan's current version and unrecorded. */
export async function recordPrice(db: Kysely<Database>, planId: string, version: number, priceId: string): Promise<void> {
  await db
    .updateTable('plans')
    .set({ stripe_price_id: priceId, updated_at: new Date() })
    .where('id', '=', planId)
    .where('price_version', '=', version)
    .where('stripe_price_id', 'is', null)
    .execute();
}

export async function startNewPrice(trx: Transaction<Database>, planId: string, amount: number): Promise<Plan> {
  return trx
    .updateTable('plans')
    .set((eb) => ({ amount, price_version: eb('price_version', '+', 1), stripe_price_id: null, updated_at: new Date() }))
    .where('id', '=', planId)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function setPlanStatus(trx: Transaction<Database>, planId: string, status: PlanStatus): Promise<Plan> {
  return trx.updateTable('plans').set({ status, updated_at: new Date() }).where('id', '=', planId).returningAll().executeTakeFirstOrThrow();
}

/** The seller's plans that the portal may switch between: active, at Stripe, newest ten. */
export async function portalPlans(db: Kysely<Database>, sellerId: string) {
  return db
    .selectFrom('plans')
    .select(['id', 'stripe_product_id', 'stripe_price_id'])
    .where('seller_id', '=', sellerId)
    .where('status', '=', 'active')
    .where('stripe_product_id', 'is not', null)
    .where('stripe_price_id', 'is not', null)
    .orderBy('created_at', 'desc')
    .limit(10)
    .execute();
}

export async function findPortalConfiguration(db: Kysely<Database>, sellerId: string) {
  return db.selectFrom('seller_portal_configurations').selectAll().where('seller_id', '=', sellerId).executeTakeFirst();
}

export async function savePortalConfiguration(db: Kysely<Database>, sellerId: string, configurationId: string, fingerprint: string): Promise<void> {
  await db
    .insertInto('seller_portal_configurations')
    .values({ seller_id: sellerId, stripe_configuration_id: configurationId, fingerprint })
    .onConflict((oc) => oc.column('seller_id').doUpdateSet({ stripe_configuration_id: configurationId, fingerprint, updated_at: sql`now()` }))
    .execute();
}

/** Every seller with at least one plan. */
export async function sellersWithPlans(db: Kysely<Database>): Promise<string[]> {
  const rows = await db.selectFrom('plans').select('seller_id').distinct().execute();
  return rows.map((row) => row.seller_id);
}
