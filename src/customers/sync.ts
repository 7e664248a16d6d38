// Stripe's word about a buyer's cards, in two steps that never overlap (as src/orders/sync.ts):
// `read…` asks Stripe with no transaction open and notes when it began; `apply…` writes what it
// said inside the caller's transaction, only over an older observation. Webhook handlers, the
// payment-methods page and the "card added" return page all go through these, so whoever reads
// Stripe last decides, whatever order their writes arrive in.
import type { Kysely, Transaction } from 'kysely';
import type Stripe from 'stripe';
import type { CardSetup, Database } from '../db/schema.ts';
import { isUuid } from '../ids.ts';
import { idOf } from '../stripe/ids.ts';
import {
  findCardSetup,
  findCardSetupByStripe,
  recordCardGone,
  recordCardObservation,
  recordCardsGoneExcept,
  recordCardSetupOutcome,
  recordDefaultCard,
} from './card-queries.ts';
import { findBuyerByCustomer } from './queries.ts';
import { cardFacts, customerOf, setupFailureMessage } from './rules.ts';

function isMissing(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { statusCode?: unknown }).statusCode === 404;
}

// ---- One card ----

export interface CardRead {
  id: string;
  observedAt: Date;
  pm: Stripe.PaymentMethod | null;
}

export async function readCard(stripe: Stripe, paymentMethodId: string): Promise<CardRead> {
  const observedAt = new Date();
  try {
    return { id: paymentMethodId, observedAt, pm: await stripe.paymentMethods.retrieve(paymentMethodId) };
  } catch (error) {
    if (isMissing(error)) return { id: paymentMethodId, observedAt, pm: null };
    throw error;
  }
}

/** Attached to one of our buyers' Customers → that buyer's card; anything else → not (or no longer) anyone's here. */
export async function applyCard(trx: Transaction<Database>, read: CardRead): Promise<void> {
  const customerId = read.pm === null ? null : customerOf(read.pm);
  const owner = customerId === null ? undefined : await findBuyerByCustomer(trx, customerId);
  const facts = read.pm === null ? undefined : cardFacts(read.pm);
  if (owner === undefined || customerId === null || facts === undefined) {
    await recordCardGone(trx, read.id, read.observedAt);
    return;
  }
  await recordCardObservation(trx, { id: read.id, buyerId: owner.buyer_id, customerId, facts, attached: true }, read.observedAt);
}

// ---- A Customer's default card, and all its cards ----

export interface CustomerRead {
  customerId: string;
  observedAt: Date;
  defaultPaymentMethod: string | null;
  cards?: Stripe.PaymentMethod[];
}

export async function readCustomer(stripe: Stripe, customerId: string, options: { cards: boolean }): Promise<CustomerRead | undefined> {
  const observedAt = new Date();
  const customer = await stripe.customers.retrieve(customerId);
  if (customer.deleted === true) return undefined;
  const read: CustomerRead = { customerId, observedAt, defaultPaymentMethod: idOf(customer.invoice_settings.default_payment_method) };
  if (options.cards) {
    read.cards = [];
    for await (const pm of stripe.customers.listPaymentMethods(customerId, { type: 'card', limit: 100 })) read.cards.push(pm);
  }
  return read;
}

export async function applyCustomer(trx: Transaction<Database>, read: CustomerRead): Promise<void> {
  const owner = await findBuyerByCustomer(trx, read.customerId);
  if (owner === undefined) return;
  await recordDefaultCard(trx, read.customerId, read.defaultPaymentMethod, read.observedAt);
  if (read.cards === undefined) return;
  for (const pm of read.cards) {
    const facts = cardFacts(pm);
    if (facts !== undefined)
      await recordCardObservation(trx, { id: pm.id, buyerId: owner.buyer_id, customerId: read.customerId, facts, attached: true }, read.observedAt);
  }
  await recordCardsGoneExcept(
    trx,
    owner.buyer_id,
    read.cards.map((pm) => pm.id),
    read.observedAt,
  );
}

// ---- "Add a card" attempts ----

export interface SetupRead {
  setup: CardSetup;
  intent: Stripe.SetupIntent | null;
  card: CardRead | null;
}

/** The attempt a SetupIntent belongs to (by our recorded id, else by the metadata it carries) and what it says now. */
export async function readSetup(
  db: Kysely<Database>,
  stripe: Stripe,
  intent: Stripe.SetupIntent,
  options: { reread: boolean },
): Promise<SetupRead | undefined> {
  const byMetadata = intent.metadata?.card_setup_id;
  const setup = (await findCardSetupByStripe(db, { setupIntentId: intent.id })) ?? (isUuid(byMetadata) ? await findCardSetup(db, byMetadata) : undefined);
  if (setup === undefined) return undefined;
  const now = options.reread && intent.status !== 'succeeded' ? await stripe.setupIntents.retrieve(intent.id) : intent;
  const pmId = now.status === 'succeeded' ? idOf(now.payment_method) : null;
  return { setup, intent: now, card: pmId === null ? null : await readCard(stripe, pmId) };
}

/** Writes the attempt's outcome (and its card). A succeeded intent is final; a failed one may be tried again. */
export async function applySetup(trx: Transaction<Database>, read: SetupRead): Promise<void> {
  const { intent, setup } = read;
  if (intent === null) return;
  if (setup.stripe_setup_intent_id === null) {
    await trx
      .updateTable('card_setups')
      .set({ stripe_setup_intent_id: intent.id, updated_at: new Date() })
      .where('id', '=', setup.id)
      .where('stripe_setup_intent_id', 'is', null)
      .execute();
  } else if (setup.stripe_setup_intent_id !== intent.id) {
    return;
  }
  if (read.card !== null) await applyCard(trx, read.card);
  if (intent.status === 'succeeded') {
    await recordCardSetupOutcome(trx, setup.id, { status: 'succeeded', paymentMethodId: idOf(intent.payment_method) });
  } else if (intent.status === 'requires_payment_method' && intent.last_setup_error) {
    await recordCardSetupOutcome(trx, setup.id, { status: 'failed', message: setupFailureMessage(intent.last_setup_error) });
  } else if (intent.status === 'canceled') {
    await recordCardSetupOutcome(trx, setup.id, { status: 'failed', message: 'This attempt to add a card was canceled.' });
  }
}
