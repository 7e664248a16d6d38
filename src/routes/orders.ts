// Buying: hosted Checkout (`POST /checkout/:listingId`), the custom flow with the Payment Element
// (`/checkout/:listingId/pay` → `/orders/:id/pay`), the completion page that never trusts the
// redirect, the buyer's orders and receipts, and the seller's orders. Every order page is scoped to
// its owner: someone else's order is a 404, the same as no order.
import { Type, type Static } from '@sinclair/typebox';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Stripe from 'stripe';
import { requireBuyer, requireSeller } from '../auth/guards.ts';
import type { Config } from '../config.ts';
import type { Order } from '../db/schema.ts';
import { render } from '../http/render.ts';
import { findPublicListing } from '../listings/listings.ts';
import { startHostedCheckout, startPaymentIntent } from '../orders/checkout.ts';
import { findBuyerOrder, listBuyerOrders, listSellerOrders, placeOrder, QUANTITY_MAX } from '../orders/orders.ts';
import { syncOrderFromStripe } from '../orders/payments.ts';

const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const ListingParams = Type.Object({ listingId: Type.String({ pattern: UUID_PATTERN }) });
const OrderParams = Type.Object({ id: Type.String({ pattern: UUID_PATTERN }) });
const BuyBody = Type.Object({
  quantity: Type.Integer({ minimum: 1, maximum: QUANTITY_MAX }),
  attempt: Type.String({ pattern: UUID_PATTERN }),
  _csrf: Type.Optional(Type.String()),
});
const CompleteQuery = Type.Object({
  // Shown by Stripe's redirect; never trusted: the order's own Stripe ids are what we ask about.
  session_id: Type.Optional(Type.String({ maxLength: 255 })),
  payment_intent: Type.Optional(Type.String({ maxLength: 255 })),
  payment_intent_client_secret: Type.Optional(Type.String({ maxLength: 255 })),
  redirect_status: Type.Optional(Type.String({ maxLength: 32 })),
  canceled: Type.Optional(Type.String({ maxLength: 8 })),
});

export interface StripeJsSettings {
  /** Stripe.js: js.stripe.com, or the emulator's stand-in offline. */
  scriptUrl: string;
  publishableKey: string;
}

/** Where the pay page loads Stripe.js from: the emulator the client talks to when offline. */
export function stripeJsSettings(config: Config, stripe: Stripe): StripeJsSettings {
  if (config.stripe.mode === 'offline') {
    // The SDK types its settings as `any`; these are the values createStripeClient set.
    const host = stripe.getApiField('host') as string;
    const port = stripe.getApiField('port') as number;
    const protocol = stripe.getApiField('protocol') as string;
    return { scriptUrl: `${protocol}://${host}:${port}/js/v3.js`, publishableKey: config.stripe.publishableKey ?? 'pk_test_emulator' };
  }
  return { scriptUrl: 'https://js.stripe.com/v3/', publishableKey: config.stripe.publishableKey ?? '' };
}

type OrderView = ReturnType<typeof orderView>;

/** What pages show about an order, with words for its state. */
function orderView(order: Order) {
  const labels: Record<Order['status'], [string, string]> = {
    pending: ['Awaiting payment', 'badge-warn'],
    paid: ['Paid', 'badge-ok'],
    payment_failed: ['Payment failed', 'badge-bad'],
    canceled: ['Canceled', 'badge-bad'],
    partially_refunded: ['Partially refunded', 'badge-warn'],
    refunded: ['Refunded', 'badge-warn'],
  };
  const [statusLabel, badgeClass] = labels[order.status];
  const platformNet = order.stripe_fee_amount === null ? null : order.application_fee_amount - order.stripe_fee_amount;
  return { ...order, statusLabel, badgeClass, platformNet, isPaid: order.status === 'paid' || order.status === 'partially_refunded' || order.status === 'refunded' };
}

export async function orderRoutes(app: FastifyInstance, options: { stripeJs?: StripeJsSettings }): Promise<void> {
  const stripeJs = options.stripeJs ?? stripeJsSettings(app.config, app.stripe);

  const refuse = (request: FastifyRequest, reply: FastifyReply, status: number, message: string, listingId?: string) =>
    render(request, reply, 'checkout/refused', { title: 'Cannot buy this', message, listingId }, status);

  // --- hosted Checkout ------------------------------------------------------------------------
  app.post('/checkout/:listingId', {
    preHandler: requireBuyer,
    schema: { params: ListingParams, body: BuyBody },
    config: { rateLimit: { max: 30, timeWindow: '1 minute' } },
  }, async (request, reply) => {
    const { listingId } = request.params as Static<typeof ListingParams>;
    const body = request.body as Static<typeof BuyBody>;
    const user = request.auth!.user;
    const placed = await placeOrder(app.db, { buyerId: user.id, buyerEmail: user.email, listingId, quantity: body.quantity, attemptId: body.attempt, flow: 'hosted' });
    if (!placed.ok) return refuse(request, reply, placed.status, placed.message, listingId);
    const started = await startHostedCheckout(app.db, app.stripe, placed.order, app.config.publicUrl);
    if (!started.ok) return refuse(request, reply, started.status, started.message, listingId);
    return reply.redirect(started.redirectUrl, 303);
  });

  // --- custom flow (PaymentIntent + Payment Element) -------------------------------------------
  app.get('/checkout/:listingId/pay', { preHandler: requireBuyer, schema: { params: ListingParams } }, async (request, reply) => {
    const { listingId } = request.params as Static<typeof ListingParams>;
    const listing = await findPublicListing(app.db, listingId);
    if (listing === undefined) return render(request, reply, 'errors/404', {}, 404);
    return render(request, reply, 'checkout/start', { title: `Buy ${listing.title}`, listing, attempt: randomUUID(), quantityMax: QUANTITY_MAX });
  });

  app.post('/checkout/:listingId/pay', {
    preHandler: requireBuyer,
    schema: { params: ListingParams, body: BuyBody },
    config: { rateLimit: { max: 30, timeWindow: '1 minute' } },
  }, async (request, reply) => {
    const { listingId } = request.params as Static<typeof ListingParams>;
    const body = request.body as Static<typeof BuyBody>;
    const user = request.auth!.user;
    const placed = await placeOrder(app.db, { buyerId: user.id, buyerEmail: user.email, listingId, quantity: body.quantity, attemptId: body.attempt, flow: 'custom' });
    if (!placed.ok) return refuse(request, reply, placed.status, placed.message, listingId);
    const started = await startPaymentIntent(app.db, app.stripe, placed.order);
    if (!started.ok) return refuse(request, reply, started.status, started.message, listingId);
    return reply.redirect(`/orders/${placed.order.id}/pay`, 303);
  });

  app.get('/orders/:id/pay', { preHandler: requireBuyer, schema: { params: OrderParams } }, async (request, reply) => {
    const order = await findBuyerOrder(app.db, request.auth!.user.id, (request.params as Static<typeof OrderParams>).id);
    if (order === undefined) return render(request, reply, 'errors/404', {}, 404);
    if (order.flow !== 'custom' || order.status !== 'pending') return reply.redirect(`/orders/${order.id}/complete`, 303);
    const started = await startPaymentIntent(app.db, app.stripe, order);
    if (!started.ok) return refuse(request, reply, started.status, started.message, order.listing_id);
    return render(request, reply, 'checkout/pay', {
      title: 'Pay',
      order: orderView(started.order),
      clientSecret: started.clientSecret,
      stripeJs,
      returnUrl: `${app.config.publicUrl}/orders/${order.id}/complete`,
    });
  });

  // --- completion: never trusts the redirect --------------------------------------------------
  app.get('/orders/:id/complete', { preHandler: requireBuyer, schema: { params: OrderParams, querystring: CompleteQuery } }, async (request, reply) => {
    let order = await findBuyerOrder(app.db, request.auth!.user.id, (request.params as Static<typeof OrderParams>).id);
    if (order === undefined) return render(request, reply, 'errors/404', {}, 404);
    order = await syncOrderFromStripe(app.db, app.stripe, order);
    const query = request.query as Static<typeof CompleteQuery>;
    const view: OrderView = orderView(order);
    return render(request, reply, 'checkout/complete', {
      title: view.statusLabel,
      order: view,
      pending: order.status === 'pending',
      failed: order.status === 'payment_failed' || order.status === 'canceled',
      leftCheckout: query.canceled !== undefined && order.status === 'pending',
      continueUrl: order.status === 'pending' ? (order.flow === 'hosted' ? order.stripe_checkout_url : `/orders/${order.id}/pay`) : null,
    });
  });

  // --- the buyer's orders ---------------------------------------------------------------------
  app.get('/orders', { preHandler: requireBuyer }, async (request, reply) => {
    const orders = (await listBuyerOrders(app.db, request.auth!.user.id)).map(orderView);
    return render(request, reply, 'checkout/orders', { title: 'My orders', orders });
  });

  app.get('/orders/:id', { preHandler: requireBuyer, schema: { params: OrderParams } }, async (request, reply) => {
    const order = await findBuyerOrder(app.db, request.auth!.user.id, (request.params as Static<typeof OrderParams>).id);
    if (order === undefined) return render(request, reply, 'errors/404', {}, 404);
    return render(request, reply, 'checkout/receipt', { title: `Order ${order.id.slice(0, 8)}`, order: orderView(order) });
  });

  // --- the seller's orders --------------------------------------------------------------------
  app.get('/seller/orders', { preHandler: requireSeller }, async (request, reply) => {
    const orders = (await listSellerOrders(app.db, request.auth!.user.id)).map(orderView);
    return render(request, reply, 'seller/orders', { title: 'Orders', orders });
  });
}
