// The buyer's pages: hosted Checkout (`POST /checkout/:listingId`), the custom flow with the Payment
// Element (`/checkout/:listingId/pay` → `/orders/:id/pay`), the completion page that never trusts
// the redirect, and the buyer's orders and receipts. Registered inside the buyer area; every order
// page is scoped to its owner: someone else's order is a 404, the same as no order.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest, FastifySchemaValidationError } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { Order } from '../db/schema.ts';
import { buyerCards } from '../customers/cards.ts';
import { DomainError, found } from '../errors.ts';
import { problemOf } from '../http/errors.ts';
import { render } from '../http/render.ts';
import { stripeJsSettings } from '../http/stripe-js.ts';
import { Csrf, CsrfOnlyBody, IdParams, Text, Type, Uuid } from '../http/schemas.ts';
import { isUuid } from '../ids.ts';
import { findPublicListing } from '../listings/queries.ts';
import { findBuyerOrder, listBuyerOrders } from '../orders/queries.ts';
import { QUANTITY_MAX, quantityLimit } from '../orders/rules.ts';
import { buyWithSavedCard } from '../orders/saved-card.ts';
import { buyWithCheckout, buyWithPaymentElement, cancelOrderByBuyer, completeOrder, giveShippingAddress, openPaymentPage } from '../orders/use-cases.ts';
import { canChangeShippingAddress, formValuesOf, shipToFromForm } from '../orders/shipping.ts';
import { fulfilmentView } from '../orders/fulfilment.ts';
import { countryName } from '../countries.ts';
import { fieldErrorsFrom, keptValues } from '../http/render.ts';
import { listOrderRefundRequests } from '../refund-requests/queries.ts';
import { orderView } from './order-view.ts';
import { cardView } from './card-view.ts';

const ListingParams = Type.Object({ listingId: Uuid });
const BuyBody = Type.Object({
  quantity: Type.Integer({ minimum: 1, maximum: QUANTITY_MAX }),
  attempt: Uuid,
  /** "Save my card for next time" (hosted Checkout: the buyer's Customer and setup_future_usage). */
  save_card: Type.Optional(Type.Literal('on')),
  ...Csrf,
});
const SavedCardBody = Type.Object({
  quantity: Type.Integer({ minimum: 1, maximum: QUANTITY_MAX }),
  attempt: Uuid,
  payment_method: Type.String({ pattern: '^pm_[A-Za-z0-9_]{1,100}$' }),
  ...Csrf,
});
/** Each buy makes an order and asks Stripe for a payment: 30 a minute per client at most. */
const BUY_RATE_LIMIT = { rateLimit: { max: 30, timeWindow: '1 minute' } };
/** The buy form's POST (hosted and custom flow): a form the schema refuses gets unreadableBuyForm's page. */
const buyFormRoute = { schema: { params: ListingParams, body: BuyBody }, attachValidation: true, config: BUY_RATE_LIMIT };
const StartQuery = Type.Object({ quantity: Type.Optional(Type.Integer({ minimum: 1, maximum: QUANTITY_MAX })) });
const CompleteQuery = Type.Object({
  // Shown by Stripe's redirect; never trusted: the order's own Stripe ids are what we ask about.
  session_id: Type.Optional(Text({ maxLength: 255 })),
  payment_intent: Type.Optional(Text({ maxLength: 255 })),
  payment_intent_client_secret: Type.Optional(Text({ maxLength: 255 })),
  redirect_status: Type.Optional(Text({ maxLength: 32 })),
  canceled: Type.Optional(Text({ maxLength: 8 })),
});

const SHIPPING_MESSAGES = {
  name: 'Enter the name to ship to',
  line1: 'Enter the street address',
  line2: 'Keep the second address line under 200 characters',
  city: 'Enter the town or city',
  state: 'Keep the state or region under 100 characters',
  postal_code: 'Enter the postal code',
  country: 'Choose one of the listed countries',
};

export const orderRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const stripeJs = stripeJsSettings(app.config, app.stripe);

  /** Why this cannot be bought, on its own page (the listing stays one click away). */
  const refused = (request: FastifyRequest, reply: FastifyReply, error: unknown, listingId?: string) => {
    const problem = problemOf(error);
    if (problem.code === 'payment_start_unanswered') {
      // The order is kept and the same request is safe to send again (same key): offer exactly that.
      return render(
        request,
        reply,
        'checkout/refused',
        { title: 'Payment not started', message: problem.message, listingId, retry: retryOf(request) },
        problem.status,
      );
    }
    const title = problem.code === 'card_declined' ? 'Payment declined' : 'Cannot buy this';
    return render(request, reply, 'checkout/refused', { title, message: problem.message, listingId }, problem.status);
  };

  /** A buy form the schema refused (e.g. quantity 0 once the field's minimum is removed): words, not the validator's. */
  const unreadableBuyForm = (request: FastifyRequest, reply: FastifyReply) => {
    const problems = (request.validationError?.validation ?? []) as FastifySchemaValidationError[];
    const quantityWrong = problems.some((v) => v.instancePath === '/quantity');
    const params = request.params as { listingId?: unknown };
    const message = quantityWrong
      ? `Choose a quantity from 1 to ${QUANTITY_MAX} (and no more than are in stock). Nothing has been charged.`
      : 'This buy form could not be read. Go back to the listing and try again. Nothing has been charged.';
    const listingId = isUuid(params.listingId) ? params.listingId : undefined;
    return render(request, reply, 'checkout/refused', { title: 'Cannot buy this', message, listingId }, 400);
  };

  // --- hosted Checkout ------------------------------------------------------------------------
  app.post('/checkout/:listingId', buyFormRoute, async (request, reply) => {
    if (request.validationError !== undefined) return unreadableBuyForm(request, reply);
    const { listingId } = request.params;
    try {
      const { redirectUrl } = await buyWithCheckout(app.db, app.stripe, {
        buyerId: request.user.id,
        buyerEmail: request.user.email,
        listingId,
        quantity: request.body.quantity,
        attemptId: request.body.attempt,
        publicUrl: app.config.publicUrl,
        savePaymentMethod: request.body.save_card === 'on',
        shippingCountries: app.config.shippingCountries,
      });
      return reply.redirect(redirectUrl, 303);
    } catch (error) {
      return refused(request, reply, error, listingId);
    }
  });

  // --- one-click with a saved card --------------------------------------------------------------
  app.post(
    '/checkout/:listingId/saved-card',
    {
      schema: { params: ListingParams, body: SavedCardBody },
      config: BUY_RATE_LIMIT,
    },
    async (request, reply) => {
      const { listingId } = request.params;
      try {
        const { redirectUrl } = await buyWithSavedCard(app.db, app.stripe, {
          buyerId: request.user.id,
          buyerEmail: request.user.email,
          listingId,
          quantity: request.body.quantity,
          attemptId: request.body.attempt,
          paymentMethodId: request.body.payment_method,
          publicUrl: app.config.publicUrl,
        });
        return reply.redirect(redirectUrl, 303);
      } catch (error) {
        if (problemOf(error).code === 'not_found') throw error;
        return refused(request, reply, error, listingId);
      }
    },
  );

  // --- custom flow (PaymentIntent + Payment Element) -------------------------------------------
  app.get('/checkout/:listingId/pay', { schema: { params: ListingParams, querystring: StartQuery } }, async (request, reply) => {
    const listing = found(await findPublicListing(app.db, request.params.listingId));
    const quantityMax = quantityLimit(listing.stock);
    const quantity = Math.min(request.query.quantity ?? 1, quantityMax);
    // A returning buyer's saved cards: pay at once with one instead of typing a card.
    const savedCards = listing.kind === 'digital' ? (await buyerCards(app.db, request.user.id)).map(cardView) : [];
    return render(request, reply, 'checkout/start', { title: `Buy ${listing.title}`, listing, attempt: randomUUID(), quantityMax, quantity, savedCards });
  });

  app.post('/checkout/:listingId/pay', buyFormRoute, async (request, reply) => {
    if (request.validationError !== undefined) return unreadableBuyForm(request, reply);
    const { listingId } = request.params;
    try {
      const order = await buyWithPaymentElement(app.db, app.stripe, {
        buyerId: request.user.id,
        buyerEmail: request.user.email,
        listingId,
        quantity: request.body.quantity,
        attemptId: request.body.attempt,
        savePaymentMethod: request.body.save_card === 'on',
      });
      return reply.redirect(`/orders/${order.id}/pay`, 303);
    } catch (error) {
      return refused(request, reply, error, listingId);
    }
  });

  // --- custom flow, physical goods: where to ship, before the PaymentIntent is made -------------
  const countries = app.config.shippingCountries.map((code) => ({ code, name: countryName(code) }));
  const ShippingBody = Type.Object({
    name: Text({ minLength: 1, maxLength: 100, notBlank: true }),
    line1: Text({ minLength: 1, maxLength: 200, notBlank: true }),
    line2: Type.Optional(Text({ maxLength: 200 })),
    city: Text({ minLength: 1, maxLength: 100, notBlank: true }),
    state: Type.Optional(Text({ maxLength: 100 })),
    postal_code: Text({ minLength: 1, maxLength: 20, notBlank: true }),
    // Only the countries the platform ships to (SHIPPING_COUNTRIES), as hosted Checkout allows.
    country: Type.Union(app.config.shippingCountries.map((code) => Type.Literal(code))),
    ...Csrf,
  });
  const shippingForm = async (
    request: FastifyRequest,
    reply: FastifyReply,
    order: Order,
    values: Record<string, string>,
    errors: Record<string, string> = {},
    status = 200,
  ) => {
    return render(
      request,
      reply,
      'checkout/shipping',
      {
        title: 'Where should we ship it?',
        order: orderView(order),
        values,
        errors,
        countries: countries.map((c) => ({ ...c, selected: c.code === (values.country ?? app.config.shippingCountries[0]) })),
      },
      status,
    );
  };

  // The form, filled in with the address given so far, until the PaymentIntent is asked for: a
  // buyer who goes back to correct it can (giveShippingAddress); after that the pay page.
  app.get('/orders/:id/shipping', { schema: { params: IdParams } }, async (request, reply) => {
    const order = found(await findBuyerOrder(app.db, request.user.id, request.params.id));
    if (!canChangeShippingAddress(order)) return reply.redirect(`/orders/${order.id}/pay`, 303);
    return shippingForm(request, reply, order, formValuesOf(order.ship_to));
  });

  app.post('/orders/:id/shipping', { schema: { params: IdParams, body: ShippingBody }, attachValidation: true }, async (request, reply) => {
    const orderId = request.params.id;
    if (!isUuid(orderId)) throw new DomainError('not_found');
    if (request.validationError !== undefined) {
      const errors = fieldErrorsFrom(request.validationError.validation as FastifySchemaValidationError[], SHIPPING_MESSAGES);
      return shippingForm(request, reply, found(await findBuyerOrder(app.db, request.user.id, orderId)), keptValues(request.body), errors, 400);
    }
    try {
      await giveShippingAddress(app.db, request.user.id, orderId, shipToFromForm(request.body), app.config.shippingCountries);
    } catch (error) {
      if (problemOf(error).code === 'not_found') throw error;
      return refused(request, reply, error);
    }
    return reply.redirect(`/orders/${orderId}/pay`, 303);
  });

  app.get('/orders/:id/pay', { schema: { params: IdParams } }, async (request, reply) => {
    let page: Awaited<ReturnType<typeof openPaymentPage>>;
    try {
      page = await openPaymentPage(app.db, app.stripe, request.user.id, request.params.id);
    } catch (error) {
      if (problemOf(error).code === 'not_found') throw error;
      return refused(request, reply, error);
    }
    if ('redirect' in page) return reply.redirect(page.redirect, 303);
    return render(request, reply, 'checkout/pay', {
      title: 'Pay',
      order: orderView(page.order),
      clientSecret: page.clientSecret,
      stripeJs,
      returnUrl: `${app.config.publicUrl}/orders/${page.order.id}/complete`,
    });
  });

  // --- completion: never trusts the redirect --------------------------------------------------
  app.get('/orders/:id/complete', { schema: { params: IdParams, querystring: CompleteQuery } }, async (request, reply) => {
    let order: Awaited<ReturnType<typeof completeOrder>>;
    try {
      order = await completeOrder(app.db, app.stripe, request.user.id, request.params.id, { leftCheckout: request.query.canceled !== undefined });
    } catch (error) {
      const problem = problemOf(error);
      if (problem.code !== 'order_cancel_unanswered') throw error;
      return render(request, reply, 'checkout/refused', { title: 'Not canceled yet', message: problem.message, retry: retryOf(request) }, problem.status);
    }
    const view = orderView(order);
    return render(request, reply, 'checkout/complete', {
      title: view.statusLabel,
      order: view,
      pending: order.status === 'pending',
      // Refreshed while Stripe may still be confirming; not while a declined card waits for another.
      refresh: order.status === 'pending' && order.failure_message === null && request.query.canceled === undefined,
      failed: order.status === 'payment_failed' || order.status === 'canceled',
      leftCheckout: request.query.canceled !== undefined && order.status === 'pending',
      continueUrl:
        order.status !== 'pending' ? null : order.flow === 'hosted' ? order.stripe_checkout_url : order.flow === 'custom' ? `/orders/${order.id}/pay` : null,
    });
  });

  app.post('/orders/:id/cancel', { schema: { params: IdParams, body: CsrfOnlyBody } }, async (request, reply) => {
    const order = await cancelOrderByBuyer(app.db, app.stripe, request.user.id, request.params.id);
    return reply.redirect(`/orders/${order.id}/complete`, 303);
  });

  // --- the buyer's orders ---------------------------------------------------------------------
  app.get('/orders', async (request, reply) => {
    const all = (await listBuyerOrders(app.db, request.user.id)).map(orderView);
    const ended = (o: (typeof all)[number]) => o.status === 'payment_failed' || o.status === 'canceled';
    return render(request, reply, 'checkout/orders', { title: 'My orders', orders: all.filter((o) => !ended(o)), unpaid: all.filter(ended) });
  });

  app.get('/orders/:id', { schema: { params: IdParams } }, async (request, reply) => {
    const order = found(await findBuyerOrder(app.db, request.user.id, request.params.id));
    const view = orderView(order);
    const refundRequests = await listOrderRefundRequests(app.db, order.id);
    const canAskRefund = (order.status === 'paid' || order.status === 'partially_refunded') && !refundRequests.some((r) => r.status === 'requested');
    const fulfilment = await fulfilmentView(app.db, order);
    return render(request, reply, 'checkout/receipt', {
      title: view.isPaid ? `Receipt ${order.id.slice(0, 8)}` : `Order ${order.id.slice(0, 8)}`,
      order: view,
      refundRequests,
      canAskRefund,
      fulfilment,
    });
  });
};

/**
 * The same request again, for a "Try again" button: a GET is a link to the same URL; a POST is a
 * form with the fields just sent (already validated by the route's schema) and a fresh CSRF token.
 */
function retryOf(request: FastifyRequest): { url: string } | { action: string; fields: { name: string; value: string }[] } {
  if (request.method === 'GET') return { url: request.url };
  const body = (request.body ?? {}) as Record<string, unknown>;
  const fields = Object.entries(body)
    .filter(([name, value]) => name !== '_csrf' && (typeof value === 'string' || typeof value === 'number'))
    .map(([name, value]) => ({ name, value: String(value) }));
  return { action: request.url, fields };
}
