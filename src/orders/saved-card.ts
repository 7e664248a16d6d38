// One-click purchase: "Buy with Visa •••• 4242" on a listing. The same order as every other flow
// (placeOrder: stock reserved under the listing's lock, the fee from the fee policy), then a
// destination-charge PaymentIntent created and confirmed at once with the buyer's saved card,
// on-session, under the order's key `order:<id>:checkout`:
//   succeeded        → the order is paid now (the events say the same later: no-ops);
//   requires_action  → the buyer is sent to the bank's challenge, which returns to the completion
//                      page; that page and the intent's events settle the order;
//   declined         → Stripe answers 402 with the intent; the order moves to payment_failed from
//                      it, which releases the stock and cancels the intent.
// A double click is the same order (the form's nonce), the same key, the same intent.
import type { Kysely } from 'kysely';
import Stripe from 'stripe';
import { findBuyerCard } from '../customers/card-queries.ts';
import { paymentFailureMessage } from '../customers/rules.ts';
import { ensureBuyerCustomer } from '../customers/use-cases.ts';
import type { Database, Order } from '../db/schema.ts';
import { DomainError } from '../errors.ts';
import { classifyStripeError } from '../stripe/errors.ts';
import { sendKeyed } from '../stripe/keyed.ts';
import { recordPaymentIntent, transitionOrder } from './queries.ts';
import { checkoutIdempotencyKey, savedCardIntentParams } from './rules.ts';
import { readIntentPayment } from './sync.ts';
import { placeOrder, settle, type PlaceOrderInput } from './use-cases.ts';

export interface BuyWithSavedCardInput extends Omit<PlaceOrderInput, 'flow' | 'paymentMethodId' | 'savePaymentMethod'> {
  paymentMethodId: string;
  publicUrl: string;
}

/** Where the buyer goes next: the bank's challenge, or the completion page. */
export async function buyWithSavedCard(db: Kysely<Database>, stripe: Stripe, input: BuyWithSavedCardInput): Promise<{ order: Order; redirectUrl: string }> {
  // Only the buyer's own, still attached card; anyone else's is the same as none.
  if ((await findBuyerCard(db, input.buyerId, input.paymentMethodId)) === undefined) throw new DomainError('not_found');
  const customerId = await ensureBuyerCustomer(db, stripe, input.buyerId);
  const order = await placeOrder(db, { ...input, flow: 'saved_card' });
  const complete = `/orders/${order.id}/complete`;
  if (order.status !== 'pending') return { order, redirectUrl: complete };

  let intent: Stripe.PaymentIntent;
  try {
    intent = await sendKeyed(() =>
      stripe.paymentIntents.create(savedCardIntentParams(order, customerId, input.publicUrl), {
        idempotencyKey: checkoutIdempotencyKey(order.id),
      }),
    );
  } catch (error) {
    return declined(db, stripe, order, error);
  }
  return afterConfirm(db, stripe, order, intent);
}

async function afterConfirm(db: Kysely<Database>, stripe: Stripe, order: Order, intent: Stripe.PaymentIntent): Promise<{ order: Order; redirectUrl: string }> {
  const recorded = await recordPaymentIntent(db, order.id, intent.id);
  if (intent.status === 'requires_action' && intent.next_action?.redirect_to_url?.url) {
    return { order: recorded, redirectUrl: intent.next_action.redirect_to_url.url };
  }
  const facts = await readIntentPayment(stripe, intent, { reread: false });
  const settled = facts === undefined ? recorded : await settle(db, stripe, facts, 'checkout', recorded);
  return { order: settled, redirectUrl: `/orders/${order.id}/complete` };
}

/**
 * The confirmation failed. A card decline comes with the intent (back at requires_payment_method,
 * with the bank's reason): the order fails from it, its stock is released, and the buyer reads
 * why in plain words. Any other refusal cancels the order (nothing was charged). No answer at all
 * leaves it pending: the intent's events, the completion page or the reconciler settle it.
 */
async function declined(db: Kysely<Database>, stripe: Stripe, order: Order, error: unknown): Promise<never> {
  if (error instanceof Stripe.errors.StripeCardError && error.payment_intent !== undefined) {
    const recorded = await recordPaymentIntent(db, order.id, error.payment_intent.id);
    const facts = await readIntentPayment(stripe, error.payment_intent, { reread: true });
    if (facts !== undefined) await settle(db, stripe, facts, 'checkout', recorded);
    throw new DomainError('card_declined', {
      message: paymentFailureMessage({ code: error.code ?? null, decline_code: error.decline_code ?? null, message: error.message }),
    });
  }
  const problem = classifyStripeError(error);
  if (problem?.kind === 'refused') {
    const reason = `Stripe refused the payment: ${problem.message}`;
    await db.transaction().execute((trx) => transitionOrder(trx, order.id, { to: 'canceled', source: 'checkout', reason, patch: { failure_message: reason } }));
    throw new DomainError('card_declined', { message: paymentFailureMessage({ code: problem.code ?? null, message: problem.message }) });
  }
  if (problem?.kind === 'unavailable') throw new DomainError('stripe_outcome_unknown');
  throw error;
}
