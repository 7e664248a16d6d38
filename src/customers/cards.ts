// What a buyer does with saved cards: see them, choose the default, remove one, add one on this
// site (Payment Element + SetupIntent) or on Stripe's page (Checkout in setup mode). Starting an
// "add a card" attempt follows the transaction rule: the attempt row (the form's nonce, which gives
// the key `card-setup:<id>`) is committed first, Stripe is called with that key, and its answer is
// recorded in a second short write that only fills blanks. The outcome is never taken from the
// return redirect: the SetupIntent is read from Stripe (and its events say the same).
import type { Kysely } from 'kysely';
import type Stripe from 'stripe';
import type { CardSetup, Database } from '../db/schema.ts';
import { DomainError, found } from '../errors.ts';
import { classifyStripeError } from '../stripe/errors.ts';
import { idOf } from '../stripe/ids.ts';
import { sendKeyed } from '../stripe/keyed.ts';
import {
  findBuyerCard,
  findBuyerCardSetup,
  listBuyerCards,
  recordCardGone,
  recordCardSetup,
  recordCardSetupStarted,
  recordDefaultCard,
} from './card-queries.ts';
import { findBuyerCustomer } from './queries.ts';
import { cardSetupIdempotencyKey, setupIntentParams, setupSessionParams } from './rules.ts';
import { applyCustomer, applySetup, readCustomer, readSetup } from './sync.ts';
import { ensureBuyerCustomer } from './use-cases.ts';

/** The buyer's saved cards, as we know them (kept in step by webhooks; see refreshBuyerCards). */
export async function buyerCards(db: Kysely<Database>, buyerId: string) {
  return listBuyerCards(db, buyerId);
}

/** Reads the buyer's cards and default from Stripe now and records them (a page that must not lag an event). */
export async function refreshBuyerCards(db: Kysely<Database>, stripe: Stripe, buyerId: string): Promise<void> {
  const customerId = (await findBuyerCustomer(db, buyerId))?.stripe_customer_id;
  if (customerId == null) return;
  const read = await readCustomer(stripe, customerId, { cards: true });
  if (read !== undefined) await db.transaction().execute((trx) => applyCustomer(trx, read));
}

async function ownCard(db: Kysely<Database>, buyerId: string, paymentMethodId: string) {
  const card = found(await findBuyerCard(db, buyerId, paymentMethodId));
  const customerId = found((await findBuyerCustomer(db, buyerId))?.stripe_customer_id ?? undefined);
  return { card, customerId };
}

/** Makes one of the buyer's own cards the Customer's default (invoice_settings.default_payment_method). */
export async function setDefaultCard(db: Kysely<Database>, stripe: Stripe, buyerId: string, paymentMethodId: string): Promise<void> {
  const { customerId } = await ownCard(db, buyerId, paymentMethodId);
  const observedAt = new Date();
  const customer = await whileStripeAnswers(() => stripe.customers.update(customerId, { invoice_settings: { default_payment_method: paymentMethodId } }));
  const now = idOf(customer.invoice_settings.default_payment_method);
  await db.transaction().execute((trx) => recordDefaultCard(trx, customerId, now, observedAt));
}

/** Removes one of the buyer's own cards: detached at Stripe for good ("permanent and irreversible"). */
export async function removeCard(db: Kysely<Database>, stripe: Stripe, buyerId: string, paymentMethodId: string): Promise<void> {
  await ownCard(db, buyerId, paymentMethodId);
  const observedAt = new Date();
  try {
    await whileStripeAnswers(() => stripe.paymentMethods.detach(paymentMethodId));
  } catch (error) {
    // Already detached elsewhere (the customer portal, another tab): it is gone either way.
    if (!(error instanceof DomainError && error.code === 'stripe_refused')) throw error;
    const pm = await stripe.paymentMethods.retrieve(paymentMethodId);
    if (pm.customer !== null) throw error;
  }
  await db.transaction().execute((trx) => recordCardGone(trx, paymentMethodId, observedAt));
  // The default may have been this card: Stripe clears it; read what it says now.
  await refreshBuyerCards(db, stripe, buyerId);
}

// ---- Adding a card ----

/** "Add a card on this site": the attempt, then its SetupIntent (for the Payment Element). */
export async function startElementSetup(db: Kysely<Database>, stripe: Stripe, input: { buyerId: string; setupId: string }): Promise<CardSetup> {
  const setup = await beginSetup(db, input.buyerId, input.setupId, 'element');
  if (setup.stripe_setup_intent_id !== null) return setup;
  const customerId = await ensureBuyerCustomer(db, stripe, input.buyerId);
  const intent = await whileStripeAnswers(() =>
    sendKeyed(() =>
      stripe.setupIntents.create(setupIntentParams(customerId, setup.id, input.buyerId), {
        idempotencyKey: cardSetupIdempotencyKey(setup.id),
      }),
    ),
  );
  return recordCardSetupStarted(db, setup.id, { setupIntentId: intent.id });
}

/** "Add a card on Stripe's page": the attempt, then a setup-mode Checkout Session; returns where to send the buyer. */
export async function startCheckoutSetup(
  db: Kysely<Database>,
  stripe: Stripe,
  input: { buyerId: string; setupId: string; publicUrl: string; currency: string },
): Promise<string> {
  const setup = await beginSetup(db, input.buyerId, input.setupId, 'checkout');
  if (setup.checkout_url !== null) return setup.checkout_url;
  const customerId = await ensureBuyerCustomer(db, stripe, input.buyerId);
  const session = await whileStripeAnswers(() =>
    sendKeyed(() =>
      stripe.checkout.sessions.create(setupSessionParams(customerId, setup.id, input.buyerId, input.publicUrl, input.currency), {
        idempotencyKey: cardSetupIdempotencyKey(setup.id),
      }),
    ),
  );
  if (session.url === null) throw new Error(`Checkout Session ${session.id} has no url`);
  const saved = await recordCardSetupStarted(db, setup.id, { sessionId: session.id, setupIntentId: idOf(session.setup_intent), checkoutUrl: session.url });
  return saved.checkout_url ?? session.url;
}

async function beginSetup(db: Kysely<Database>, buyerId: string, setupId: string, flow: CardSetup['flow']): Promise<CardSetup> {
  const setup = await db.transaction().execute((trx) => recordCardSetup(trx, { id: setupId, buyerId, flow }));
  // The same nonce from another buyer or for the other flow is a reused form, not this attempt.
  if (setup.buyer_id !== buyerId || setup.flow !== flow) throw new DomainError('not_found');
  return setup;
}

/** The Payment Element page of an attempt: its client secret while the card is still to be given. */
export async function openElementSetup(
  db: Kysely<Database>,
  stripe: Stripe,
  buyerId: string,
  setupId: string,
): Promise<{ clientSecret: string } | { done: true }> {
  const setup = found(await findBuyerCardSetup(db, buyerId, setupId));
  if (setup.flow !== 'element' || setup.stripe_setup_intent_id === null || setup.status === 'succeeded') return { done: true };
  const intent = await whileStripeAnswers(() => stripe.setupIntents.retrieve(setup.stripe_setup_intent_id!));
  if (intent.status === 'succeeded' || intent.status === 'canceled' || intent.client_secret === null) return { done: true };
  return { clientSecret: intent.client_secret };
}

/**
 * Back from adding a card (Stripe's redirect, from either flow): what Stripe says about the
 * attempt's SetupIntent now, recorded. The first card saved becomes the default.
 */
export async function finishCardSetup(db: Kysely<Database>, stripe: Stripe, buyerId: string, setupId: string): Promise<CardSetup> {
  let setup = found(await findBuyerCardSetup(db, buyerId, setupId));
  let intentId = setup.stripe_setup_intent_id;
  if (intentId === null && setup.stripe_checkout_session_id !== null) {
    const session = await whileStripeAnswers(() => stripe.checkout.sessions.retrieve(setup.stripe_checkout_session_id!));
    intentId = idOf(session.setup_intent);
  }
  if (intentId === null) return setup;
  const intent = await whileStripeAnswers(() => stripe.setupIntents.retrieve(intentId));
  const read = await readSetup(db, stripe, intent, { reread: false });
  if (read !== undefined) await db.transaction().execute((trx) => applySetup(trx, read));
  setup = found(await findBuyerCardSetup(db, buyerId, setupId));
  if (setup.status === 'succeeded' && setup.payment_method_id !== null) await makeDefaultIfNone(db, stripe, buyerId, setup.payment_method_id);
  return setup;
}

/** A buyer with no default card gets this one (one-click and invoices use the default). */
export async function makeDefaultIfNone(db: Kysely<Database>, stripe: Stripe, buyerId: string, paymentMethodId: string): Promise<void> {
  const customer = await findBuyerCustomer(db, buyerId);
  if (customer?.stripe_customer_id == null || customer.default_payment_method_id !== null) return;
  const read = await readCustomer(stripe, customer.stripe_customer_id, { cards: false });
  if (read === undefined) return;
  if (read.defaultPaymentMethod !== null) {
    await db.transaction().execute((trx) => applyCustomer(trx, read));
    return;
  }
  await setDefaultCard(db, stripe, buyerId, paymentMethodId).catch((error: unknown) => {
    // The card went away meanwhile: nothing to make default.
    if (!(error instanceof DomainError && error.code === 'not_found')) throw error;
  });
}

/** Stripe's refusals and silences as the errors pages know them. */
async function whileStripeAnswers<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const problem = classifyStripeError(error);
    if (problem?.kind === 'refused') throw new DomainError('stripe_refused', { reason: problem.message });
    if (problem?.kind === 'unavailable') throw new DomainError('stripe_unavailable');
    throw error;
  }
}
