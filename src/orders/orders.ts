// Creating an order, and reading orders for the people allowed to see them.
//
// `placeOrder` does in ONE transaction: lock the listing row, check that it is for sale and that
// its seller can take charges now, reserve stock (`stock - n`, never below zero; unlimited skips
// it), price the order (amount, application fee from the fee policy) and insert it. A buyer who
// submits the same buy form twice (same checkout attempt id) gets the first order back: the unique
// attempt id serialises the two inserts, and the loser reads the winner.
import type { Kysely } from 'kysely';
import type { Database, Order, OrderFlow } from '../db/schema.ts';
import { MAXIMUM_AMOUNT, formatMoney } from '../money.ts';
import { applicationFeeFor, feeTermsFor } from './fees.ts';
import { inTransaction } from './state.ts';

export const QUANTITY_MAX = 100;

export type PlaceOrderResult =
  | { ok: true; order: Order; created: boolean }
  | { ok: false; status: 404 | 409 | 422; code: 'not_found' | 'seller_unavailable' | 'sold_out' | 'too_large' | 'attempt_reused'; message: string };

export interface PlaceOrderInput {
  buyerId: string;
  buyerEmail: string;
  listingId: string;
  quantity: number;
  attemptId: string;
  flow: OrderFlow;
}

export async function placeOrder(db: Kysely<Database>, input: PlaceOrderInput): Promise<PlaceOrderResult> {
  const existing = await findByAttempt(db, input.attemptId);
  if (existing !== undefined) return sameAttempt(existing, input);

  try {
    return await inTransaction(db, async (trx) => {
      const listing = await trx.selectFrom('listings')
        .innerJoin('sellers', 'sellers.id', 'listings.seller_id')
        .select(['listings.id', 'listings.seller_id', 'listings.title', 'listings.price_amount', 'listings.currency', 'listings.stock',
          'listings.active', 'listings.billing_interval', 'sellers.stripe_account_id', 'sellers.account_state', 'sellers.charges_enabled'])
        .where('listings.id', '=', input.listingId)
        .forUpdate('listings')
        .executeTakeFirst();
      if (listing === undefined || !listing.active || listing.billing_interval !== 'one_off') {
        return { ok: false, status: 404, code: 'not_found', message: 'This listing is not for sale.' } as const;
      }
      if (listing.stripe_account_id === null || !listing.charges_enabled || listing.account_state !== 'enabled') {
        return {
          ok: false, status: 409, code: 'seller_unavailable',
          message: 'This seller cannot accept payments right now, so this listing cannot be bought. Nothing has been charged.',
        } as const;
      }
      const amount = listing.price_amount * input.quantity;
      if (amount > MAXIMUM_AMOUNT) {
        return {
          ok: false, status: 422, code: 'too_large',
          message: `That is more than one payment can be (at most ${formatMoney(MAXIMUM_AMOUNT, listing.currency)}); buy fewer.`,
        } as const;
      }
      if (listing.stock !== null) {
        if (listing.stock < input.quantity) {
          return {
            ok: false, status: 409, code: 'sold_out',
            message: listing.stock === 0 ? 'Sold out: this listing has no stock left.' : `Sold out: only ${listing.stock} left, fewer than the ${input.quantity} you asked for.`,
          } as const;
        }
        await trx.updateTable('listings')
          .set((eb) => ({ stock: eb('stock', '-', input.quantity), updated_at: new Date() }))
          .where('id', '=', listing.id)
          .execute();
      }
      const terms = await feeTermsFor(trx, listing.seller_id, listing.currency);
      const order = await trx.insertInto('orders').values({
        buyer_id: input.buyerId,
        seller_id: listing.seller_id,
        listing_id: listing.id,
        checkout_attempt_id: input.attemptId,
        flow: input.flow,
        title: listing.title,
        quantity: input.quantity,
        unit_amount: listing.price_amount,
        amount,
        currency: listing.currency,
        application_fee_amount: applicationFeeFor(amount, terms),
        fee_policy_id: terms.policyId,
        fee_basis_points: terms.basisPoints,
        fee_fixed_amount: terms.fixedAmount,
        on_behalf_of: terms.onBehalfOf,
        destination_account: listing.stripe_account_id,
        buyer_email: input.buyerEmail,
        stock_reserved: listing.stock !== null,
      }).returningAll().executeTakeFirstOrThrow();
      return { ok: true, order, created: true } as const;
    });
  } catch (error) {
    // A concurrent submit of the same form won the insert; ours rolled back (stock included).
    if (isUniqueViolation(error)) {
      const winner = await findByAttempt(db, input.attemptId);
      if (winner !== undefined) return sameAttempt(winner, input);
    }
    throw error;
  }
}

function sameAttempt(order: Order, input: PlaceOrderInput): PlaceOrderResult {
  if (order.buyer_id !== input.buyerId || order.listing_id !== input.listingId || order.flow !== input.flow) {
    return { ok: false, status: 409, code: 'attempt_reused', message: 'This checkout form was already used. Go back to the listing and try again.' };
  }
  return { ok: true, order, created: false };
}

async function findByAttempt(db: Kysely<Database>, attemptId: string): Promise<Order | undefined> {
  return db.selectFrom('orders').selectAll().where('checkout_attempt_id', '=', attemptId).executeTakeFirst();
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
}

/** The buyer's own order; someone else's is the same as none (the route answers 404). */
export async function findBuyerOrder(db: Kysely<Database>, buyerId: string, orderId: string): Promise<Order | undefined> {
  return db.selectFrom('orders').selectAll().where('id', '=', orderId).where('buyer_id', '=', buyerId).executeTakeFirst();
}

export async function listBuyerOrders(db: Kysely<Database>, buyerId: string, limit = 100): Promise<Order[]> {
  return db.selectFrom('orders').selectAll().where('buyer_id', '=', buyerId).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
}

/** A seller's orders that got as far as a payment attempt (drafts abandoned before Stripe are noise). */
export async function listSellerOrders(db: Kysely<Database>, sellerId: string, limit = 100): Promise<Order[]> {
  return db.selectFrom('orders').selectAll().where('seller_id', '=', sellerId).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
}

export async function findOrder(db: Kysely<Database>, orderId: string): Promise<Order | undefined> {
  return db.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirst();
}
