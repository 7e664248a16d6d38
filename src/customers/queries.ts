// Every SQL statement about buyers' Stripe Customers.
import type { Kysely, Transaction } from 'kysely';
import type { BuyerCustomer, Database } from '../db/schema.ts';

/** The buyer (role buyer) with what the Customer is made from; undefined for anyone else. */
export async function findBuyer(db: Kysely<Database>, buyerId: string) {
  return db.selectFrom('users').select(['id', 'email', 'display_name']).where('id', '=', buyerId).where('role', '=', 'buyer').executeTakeFirst();
}

export async function findBuyerCustomer(db: Kysely<Database>, buyerId: string): Promise<BuyerCustomer | undefined> {
  return db.selectFrom('buyer_customers').selectAll().where('buyer_id', '=', buyerId).executeTakeFirst();
}

/** The buyer a Customer belongs to, if it is one of ours. */
export async function findBuyerByCustomer(db: Kysely<Database>, customerId: string): Promise<BuyerCustomer | undefined> {
  return db.selectFrom('buyer_customers').selectAll().where('stripe_customer_id', '=', customerId).executeTakeFirst();
}

/**
 * The intent to create the buyer's Customer, written by the FIRST call only (the primary key
 * decides between racing calls): what it will send is fixed here, so every retry sends Stripe the
 * same request under the same key.
 */
export async function recordCustomerRequest(trx: Transaction<Database>, buyer: { id: string; email: string; name: string }): Promise<BuyerCustomer> {
  await trx
    .insertInto('buyer_customers')
    .values({ buyer_id: buyer.id, requested_email: buyer.email, requested_name: buyer.name })
    .onConflict((oc) => oc.column('buyer_id').doNothing())
    .execute();
  return trx.selectFrom('buyer_customers').selectAll().where('buyer_id', '=', buyer.id).executeTakeFirstOrThrow();
}

/** Stripe's answer, unless one is recorded already; returns the id the buyer now has. */
export async function recordCustomerId(trx: Transaction<Database>, buyerId: string, customerId: string): Promise<string> {
  await trx
    .updateTable('buyer_customers')
    .set({ stripe_customer_id: customerId, updated_at: new Date() })
    .where('buyer_id', '=', buyerId)
    .where('stripe_customer_id', 'is', null)
    .execute();
  const row = await trx.selectFrom('buyer_customers').select('stripe_customer_id').where('buyer_id', '=', buyerId).executeTakeFirstOrThrow();
  return row.stripe_customer_id ?? customerId;
}

/**
 * The buyer's email or name changed: Stripe must hear about it. Call it in the transaction that
 * changes the users row, so the version and the details it names always commit together.
 */
export async function noteBuyerDetailsChanged(trx: Transaction<Database>, buyerId: string): Promise<void> {
  await trx
    .updateTable('buyer_customers')
    .set((eb) => ({ details_version: eb('details_version', '+', 1), updated_at: new Date() }))
    .where('buyer_id', '=', buyerId)
    .execute();
}

/** The details of `version` reached Stripe (never moves backwards: an older confirmation is a no-op). */
export async function recordDetailsSynced(db: Kysely<Database>, buyerId: string, version: number): Promise<void> {
  await db
    .updateTable('buyer_customers')
    .set({ details_synced_version: version, updated_at: new Date() })
    .where('buyer_id', '=', buyerId)
    .where('details_synced_version', '<', version)
    .execute();
}

/** What Stripe must be told: the buyer's current email and name, and the version they are. */
export async function readDetailsToSync(db: Kysely<Database>, buyerId: string) {
  return db
    .selectFrom('buyer_customers')
    .innerJoin('users', 'users.id', 'buyer_customers.buyer_id')
    .select(['buyer_customers.stripe_customer_id', 'buyer_customers.details_version', 'users.email', 'users.display_name'])
    .where('buyer_customers.buyer_id', '=', buyerId)
    .executeTakeFirst();
}

/** Changes the buyer's name, and notes that Stripe must hear about it, in the caller's transaction. */
export async function updateBuyerName(trx: Transaction<Database>, buyerId: string, details: { displayName: string; nameKey: string }): Promise<void> {
  await trx
    .updateTable('users')
    .set({ display_name: details.displayName, name_key: details.nameKey })
    .where('id', '=', buyerId)
    .where('role', '=', 'buyer')
    .execute();
  await noteBuyerDetailsChanged(trx, buyerId);
}
