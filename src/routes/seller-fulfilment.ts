// The seller ships a paid physical order and later says it was delivered. Registered inside the
// seller area (its guard finds a seller before the body is read); each form is CSRF-checked and
// schema-validated; an order that is not the seller's is a 404 like no order at all.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { redirectWithOutcome } from '../http/errors.ts';
import { Csrf, CsrfOnlyBody, IdParams, Text, Type } from '../http/schemas.ts';
import { markDelivered, markShipped } from '../orders/fulfilment.ts';

const ShippedBody = Type.Object({
  carrier: Text({ minLength: 1, maxLength: 80, notBlank: true }),
  tracking_number: Text({ minLength: 1, maxLength: 100, notBlank: true }),
  ...Csrf,
});

export const sellerFulfilmentRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // Each takes the step, says how it went, and goes back to the order; someone else's order stays a 404.
  app.post(
    '/seller/orders/:id/shipped',
    { schema: { params: IdParams, body: ShippedBody }, config: { rateLimit: { max: 30, timeWindow: '1 minute' } } },
    async (request, reply) =>
      redirectWithOutcome(reply, `/seller/orders/${request.params.id}`, async () => {
        await markShipped(app.db, {
          sellerId: request.user.id,
          orderId: request.params.id,
          carrier: request.body.carrier,
          trackingNumber: request.body.tracking_number,
        });
        return 'Marked shipped. The buyer has been told, with the tracking number.';
      }),
  );

  app.post(
    '/seller/orders/:id/delivered',
    { schema: { params: IdParams, body: CsrfOnlyBody }, config: { rateLimit: { max: 30, timeWindow: '1 minute' } } },
    async (request, reply) =>
      redirectWithOutcome(reply, `/seller/orders/${request.params.id}`, async () => {
        await markDelivered(app.db, { sellerId: request.user.id, orderId: request.params.id });
        return 'Marked delivered.';
      }),
  );
};
