// Starting payment for an order at Stripe: a hosted Checkout Session, or a PaymentIntent for the
// custom flow (Payment Element). Both are destination charges: the whole amount is transferred to
// the seller's connected account and the platform keeps `application_fee_amount`.
//
// Exactly one Stripe object per order, even with double submits and crashes:
// - the order row is locked (`for update`) across the one Stripe call, so a concurrent request for
//   the same order waits and then finds the stored id instead of calling Stripe again;
// - the call carries the idempotency key `order:<id>:checkout` and parameters derived only from the
//   order (expiry included: created_at + 1 h), so a retry after a crash between Stripe's answer and
//   our commit gets the same object back.
import type { Kysely } from 'kysely';
import Stripe from 'stripe';
import type { Database, Order } from '../db/schema.ts';
import { inTransaction, transitionOrder } from './state.ts';

/** How long a hosted Checkout Session stays open (Stripe allows 30 min to 24 h). */
export const CHECKOUT_LIFETIME_SECONDS = 60 * 60;
/** A retry must still leave Stripe's 30-minute minimum, with a margin for clock drift. */
const MIN_REMAINING_SECONDS = 31 * 60;

export function checkoutIdempotencyKey(orderId: string): string {
  return `order:${orderId}:checkout`;
}

export type StartResult =
  | { ok: true; order: Order; redirectUrl: string }
  | { ok: false; status: 409 | 502; message: string };

function metadataFor(order: Order): Record<string, string> {
  return { order_id: order.id, seller_id: order.seller_id, buyer_id: order.buyer_id, listing_id: order.listing_id };
}

function destinationCharge(order: Order) {
  return {
    application_fee_amount: order.application_fee_amount,
    transfer_data: { destination: order.destination_account },
    ...(order.on_behalf_of ? { on_behalf_of: order.destination_account } : {}),
    metadata: metadataFor(order),
  };
}

/** Why Stripe refused, in words for the buyer (Stripe's message for request errors). */
function refusal(error: unknown): string | undefined {
  if (error instanceof Stripe.errors.StripeInvalidRequestError || error instanceof Stripe.errors.StripePermissionError) {
    return error.message;
  }
  return undefined;
}

async function giveUp(db: Kysely<Database>, order: Order, reason: string): Promise<void> {
  await transitionOrder(db, order.id, { to: 'canceled', source: 'reconcile', reason, patch: { failure_message: reason } });
}

export async function startHostedCheckout(db: Kysely<Database>, stripe: Stripe, order: Order, publicUrl: string): Promise<StartResult> {
  if (order.status !== 'pending') return { ok: false, status: 409, message: 'This order is no longer waiting for payment.' };
  if (order.stripe_checkout_url !== null) return { ok: true, order, redirectUrl: order.stripe_checkout_url };

  const expiresAt = Math.floor(order.created_at.getTime() / 1000) + CHECKOUT_LIFETIME_SECONDS;
  if (expiresAt - Math.floor(Date.now() / 1000) < MIN_REMAINING_SECONDS) {
    await giveUp(db, order, 'Checkout was not started in time.');
    return { ok: false, status: 409, message: 'This checkout was not started in time. Nothing has been charged; please start again.' };
  }
  try {
    return await inTransaction(db, async (trx) => {
      const locked = await trx.selectFrom('orders').selectAll().where('id', '=', order.id).forUpdate().executeTakeFirstOrThrow();
      if (locked.stripe_checkout_url !== null) return { ok: true, order: locked, redirectUrl: locked.stripe_checkout_url } as const;
      if (locked.status !== 'pending') return { ok: false, status: 409, message: 'This order is no longer waiting for payment.' } as const;
      const session = await stripe.checkout.sessions.create({
        mode: 'payment',
        ui_mode: 'hosted_page',
        line_items: [{
          quantity: locked.quantity,
          price_data: { currency: locked.currency, unit_amount: locked.unit_amount, product_data: { name: locked.title } },
        }],
        payment_intent_data: { ...destinationCharge(locked), description: `Order ${locked.id}` },
        metadata: metadataFor(locked),
        client_reference_id: locked.id,
        customer_email: locked.buyer_email,
        success_url: `${publicUrl}/orders/${locked.id}/complete?session_id={CHECKOUT_SESSION_ID}`,
        cancel_url: `${publicUrl}/orders/${locked.id}/complete?canceled=1`,
        expires_at: expiresAt,
      }, { idempotencyKey: checkoutIdempotencyKey(locked.id) });
      if (session.url === null) throw new Error(`Checkout Session ${session.id} has no url`);
      const saved = await trx.updateTable('orders')
        .set({ stripe_checkout_session_id: session.id, stripe_checkout_url: session.url, checkout_expires_at: new Date(session.expires_at * 1000), updated_at: new Date() })
        .where('id', '=', locked.id).returningAll().executeTakeFirstOrThrow();
      return { ok: true, order: saved, redirectUrl: session.url } as const;
    });
  } catch (error) {
    const message = refusal(error);
    if (message === undefined) throw error; // network/5xx: the order stays pending; a retry reuses the key
    await giveUp(db, order, `Stripe refused the checkout: ${message}`);
    return { ok: false, status: 502, message: `The payment could not be started (${message}). Nothing has been charged.` };
  }
}

/** The custom flow: a PaymentIntent the page confirms with the Payment Element. */
export async function startPaymentIntent(db: Kysely<Database>, stripe: Stripe, order: Order): Promise<{ ok: true; order: Order; clientSecret: string } | { ok: false; status: 409 | 502; message: string }> {
  if (order.status !== 'pending') return { ok: false, status: 409, message: 'This order is no longer waiting for payment.' };
  try {
    return await inTransaction(db, async (trx) => {
      const locked = await trx.selectFrom('orders').selectAll().where('id', '=', order.id).forUpdate().executeTakeFirstOrThrow();
      if (locked.stripe_payment_intent_id !== null) {
        const existing = await stripe.paymentIntents.retrieve(locked.stripe_payment_intent_id);
        return { ok: true, order: locked, clientSecret: existing.client_secret ?? '' } as const;
      }
      const intent = await stripe.paymentIntents.create({
        amount: locked.amount,
        currency: locked.currency,
        automatic_payment_methods: { enabled: true },
        ...destinationCharge(locked),
        receipt_email: locked.buyer_email,
        description: `Order ${locked.id}`,
      }, { idempotencyKey: checkoutIdempotencyKey(locked.id) });
      const saved = await trx.updateTable('orders').set({ stripe_payment_intent_id: intent.id, updated_at: new Date() })
        .where('id', '=', locked.id).returningAll().executeTakeFirstOrThrow();
      return { ok: true, order: saved, clientSecret: intent.client_secret ?? '' } as const;
    });
  } catch (error) {
    const message = refusal(error);
    if (message === undefined) throw error;
    await giveUp(db, order, `Stripe refused the payment: ${message}`);
    return { ok: false, status: 502, message: `The payment could not be started (${message}). Nothing has been charged.` };
  }
}
