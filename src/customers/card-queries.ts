// Every SQL statement about buyers' saved cards and "add a card" attempts. Writes of what Stripe
// said carry the time the Stripe read began (`observedAt`) and apply only over an older one, in
// the UPDATE's own WHERE: a late or replayed event never brings back a removed card.
import { sql, type Kysely, type Transaction } from 'kysely';
import type { CardSetup, CardSetupFlow, Database, SavedCard } from '../db/schema.ts';
import type { CardFacts } from './rules.ts';

/** The buyer's cards at Stripe, default first, then oldest first. */
export async function listBuyerCards(db: Kysely<Database>, buyerId: string): Promise<(SavedCard & { is_default: boolean })[]> {
  return db
    .selectFrom('buyer_payment_methods as pm')
    .leftJoin('buyer_customers as bc', 'bc.buyer_id', 'pm.buyer_id')
    .selectAll('pm')
    .select(sql<boolean>`coalesce(bc.default_payment_method_id = pm.id, false)`.as('is_default'))
    .where('pm.buyer_id', '=', buyerId)
    .where('pm.status', '=', 'attached')
    .orderBy(sql`coalesce(bc.default_payment_method_id = pm.id, false)`, 'desc')
    .orderBy('pm.created_at')
    .orderBy('pm.id')
    .execute();
}

/** The buyer's own attached card; someone else's (or a removed one) is the same as none. */
export async function findBuyerCard(db: Kysely<Database>, buyerId: string, paymentMethodId: string): Promise<SavedCard | undefined> {
  return db
    .selectFrom('buyer_payment_methods')
    .selectAll()
    .where('id', '=', paymentMethodId)
    .where('buyer_id', '=', buyerId)
    .where('status', '=', 'attached')
    .executeTakeFirst();
}

/**
 * What Stripe says about one card, observed at `observedAt`: attached to `buyerId`'s Customer, or
 * not (detached, or attached to someone else's). Applies only over an older observation.
 */
export async function recordCardObservation(
  trx: Transaction<Database>,
  card: { id: string; buyerId: string; customerId: string; facts: CardFacts; attached: boolean },
  observedAt: Date,
): Promise<void> {
  const status = card.attached ? ('attached' as const) : ('detached' as const);
  await trx
    .insertInto('buyer_payment_methods')
    .values({ id: card.id, buyer_id: card.buyerId, stripe_customer_id: card.customerId, status, ...card.facts, observed_at: observedAt })
    .onConflict((oc) =>
      oc
        .column('id')
        .doUpdateSet({ status, ...card.facts, observed_at: observedAt, updated_at: new Date() })
        .where('buyer_payment_methods.observed_at', '<', observedAt)
        // A card only ever belongs to the buyer it was first seen with.
        .where('buyer_payment_methods.buyer_id', '=', card.buyerId),
    )
    .execute();
}

/** A card seen gone (detached) at `observedAt`, whoever it belonged to. */
export async function recordCardGone(trx: Transaction<Database>, paymentMethodId: string, observedAt: Date): Promise<void> {
  await trx
    .updateTable('buyer_payment_methods')
    .set({ status: 'detached', observed_at: observedAt, updated_at: new Date() })
    .where('id', '=', paymentMethodId)
    .where('observed_at', '<', observedAt)
    .execute();
}

/** The buyer's attached cards that a full listing observed at `observedAt` no longer has. */
export async function recordCardsGoneExcept(trx: Transaction<Database>, buyerId: string, present: string[], observedAt: Date): Promise<void> {
  let query = trx
    .updateTable('buyer_payment_methods')
    .set({ status: 'detached', observed_at: observedAt, updated_at: new Date() })
    .where('buyer_id', '=', buyerId)
    .where('status', '=', 'attached')
    .where('observed_at', '<', observedAt);
  if (present.length > 0) query = query.where('id', 'not in', present);
  await query.execute();
}

/** The Customer's default card as observed at `observedAt` (only over an older observation). */
export async function recordDefaultCard(trx: Transaction<Database>, customerId: string, paymentMethodId: string | null, observedAt: Date): Promise<void> {
  await trx
    .updateTable('buyer_customers')
    .set({ default_payment_method_id: paymentMethodId, default_observed_at: observedAt, updated_at: new Date() })
    .where('stripe_customer_id', '=', customerId)
    .where((eb) => eb.or([eb('default_observed_at', 'is', null), eb('default_observed_at', '<', observedAt)]))
    .execute();
}

// ---- "Add a card" attempts ----

/** The attempt for this form's nonce, written by its first submit only. */
export async function recordCardSetup(trx: Transaction<Database>, setup: { id: string; buyerId: string; flow: CardSetupFlow }): Promise<CardSetup> {
  await trx
    .insertInto('card_setups')
    .values({ id: setup.id, buyer_id: setup.buyerId, flow: setup.flow })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  return trx.selectFrom('card_setups').selectAll().where('id', '=', setup.id).executeTakeFirstOrThrow();
}

export async function findBuyerCardSetup(db: Kysely<Database>, buyerId: string, setupId: string): Promise<CardSetup | undefined> {
  return db.selectFrom('card_setups').selectAll().where('id', '=', setupId).where('buyer_id', '=', buyerId).executeTakeFirst();
}

export async function findCardSetupByStripe(
  db: Kysely<Database>,
  ids: { setupIntentId?: string | null; sessionId?: string | null },
): Promise<CardSetup | undefined> {
  const { setupIntentId, sessionId } = ids;
  if (!setupIntentId && !sessionId) return undefined;
  return db
    .selectFrom('card_setups')
    .selectAll()
    .where((eb) =>
      eb.or([
        ...(setupIntentId ? [eb('stripe_setup_intent_id', '=', setupIntentId)] : []),
        ...(sessionId ? [eb('stripe_checkout_session_id', '=', sessionId)] : []),
      ]),
    )
    .executeTakeFirst();
}

/** Stripe's answer to starting the attempt, filling blanks only (an event may have got there first). */
export async function recordCardSetupStarted(
  db: Kysely<Database>,
  setupId: string,
  started: { setupIntentId?: string | null; sessionId?: string; checkoutUrl?: string | null },
): Promise<CardSetup> {
  return db
    .updateTable('card_setups')
    .set((eb) => ({
      stripe_setup_intent_id: eb.fn.coalesce('stripe_setup_intent_id', eb.val(started.setupIntentId ?? null)),
      stripe_checkout_session_id: eb.fn.coalesce('stripe_checkout_session_id', eb.val(started.sessionId ?? null)),
      checkout_url: eb.fn.coalesce('checkout_url', eb.val(started.checkoutUrl ?? null)),
      updated_at: new Date(),
    }))
    .where('id', '=', setupId)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * The attempt's outcome. A success is final; a failure can still be followed by a success (the
 * buyer tries another card on the same SetupIntent), so it never overwrites one.
 */
export async function recordCardSetupOutcome(
  trx: Transaction<Database>,
  setupId: string,
  outcome: { status: 'succeeded'; paymentMethodId: string | null } | { status: 'failed'; message: string },
): Promise<void> {
  await trx
    .updateTable('card_setups')
    .set(
      outcome.status === 'succeeded'
        ? { status: 'succeeded', payment_method_id: outcome.paymentMethodId, failure_message: null, updated_at: new Date() }
        : { status: 'failed', failure_message: outcome.message, updated_at: new Date() },
    )
    .where('id', '=', setupId)
    .where('status', '!=', 'succeeded')
    .execute();
}

export async function findCardSetup(db: Kysely<Database>, setupId: string): Promise<CardSetup | undefined> {
  return db.selectFrom('card_setups').selectAll().where('id', '=', setupId).executeTakeFirst();
}
