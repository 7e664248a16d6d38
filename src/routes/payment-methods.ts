// The buyer's saved cards: list (brand, last 4, expiry, default), choose the default, remove one
// (after a confirmation page), and add one on this site (Payment Element + SetupIntent) or on
// Stripe's page (Checkout in setup mode). Registered inside the buyer area: a buyer only ever
// names their own cards and attempts; anyone else's is a 404, the same as none.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { buyerCards, finishCardSetup, openElementSetup, removeCard, setDefaultCard, startCheckoutSetup, startElementSetup } from '../customers/cards.ts';
import { found } from '../errors.ts';
import { problemOf } from '../http/errors.ts';
import { render, setFlash } from '../http/render.ts';
import { Csrf, IdParams, Type, Uuid } from '../http/schemas.ts';
import { cardView } from './card-view.ts';
import { stripeJsSettings } from '../http/stripe-js.ts';

/** A Stripe PaymentMethod id: nothing else can reach a query or Stripe. */
export const PaymentMethodId = Type.String({ pattern: '^pm_[A-Za-z0-9_]{1,100}$' });
const CardParams = Type.Object({ pm: PaymentMethodId });
const CardBody = Type.Object({ payment_method: PaymentMethodId, ...Csrf });
const SetupBody = Type.Object({ attempt: Uuid, flow: Type.Union([Type.Literal('element'), Type.Literal('checkout')]), ...Csrf });
const ListQuery = Type.Object({ canceled: Type.Optional(Type.String({ maxLength: 8, pattern: '^[0-9a-z]*$' })) });
const DoneQuery = Type.Object({
  // Added by Stripe's redirect; never trusted: the attempt's own SetupIntent is what we ask about.
  setup_intent: Type.Optional(Type.String({ maxLength: 255, pattern: '^[A-Za-z0-9_]*$' })),
  setup_intent_client_secret: Type.Optional(Type.String({ maxLength: 255, pattern: '^[A-Za-z0-9_]*$' })),
  redirect_status: Type.Optional(Type.String({ maxLength: 32, pattern: '^[a-z_]*$' })),
  session_id: Type.Optional(Type.String({ maxLength: 255, pattern: '^[A-Za-z0-9_]*$' })),
});

export const paymentMethodRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const stripeJs = stripeJsSettings(app.config, app.stripe);
  const LIST = '/account/payment-methods';

  const failed = (request: FastifyRequest, reply: FastifyReply, error: unknown) => {
    const problem = problemOf(error);
    if (problem.code === 'not_found') throw error;
    setFlash(reply, 'error', problem.message);
    return reply.redirect(LIST, 303);
  };

  app.get(LIST, { schema: { querystring: ListQuery } }, async (request, reply) => {
    const cards = (await buyerCards(app.db, request.user.id)).map(cardView);
    return render(request, reply, 'account/payment-methods', {
      title: 'Payment methods',
      cards,
      attempt: randomUUID(),
      canceled: request.query.canceled !== undefined,
    });
  });

  app.post(`${LIST}/default`, { schema: { body: CardBody } }, async (request, reply) => {
    try {
      await setDefaultCard(app.db, app.stripe, request.user.id, request.body.payment_method);
    } catch (error) {
      return failed(request, reply, error);
    }
    setFlash(reply, 'success', 'Default card changed.');
    return reply.redirect(LIST, 303);
  });

  // Removing is for good at Stripe, so it is asked once more on its own page.
  app.get(`${LIST}/:pm/remove`, { schema: { params: CardParams } }, async (request, reply) => {
    const card = found((await buyerCards(app.db, request.user.id)).find((c) => c.id === request.params.pm));
    return render(request, reply, 'account/remove-card', { title: 'Remove card', card: cardView(card) });
  });

  app.post(`${LIST}/:pm/remove`, { schema: { params: CardParams, body: Type.Object(Csrf) } }, async (request, reply) => {
    try {
      await removeCard(app.db, app.stripe, request.user.id, request.params.pm);
    } catch (error) {
      return failed(request, reply, error);
    }
    setFlash(reply, 'success', 'Card removed.');
    return reply.redirect(LIST, 303);
  });

  // --- adding a card ------------------------------------------------------------------------------
  app.post(
    `${LIST}/setups`,
    {
      schema: { body: SetupBody },
      config: { rateLimit: { max: 20, timeWindow: '1 minute' } },
    },
    async (request, reply) => {
      const { attempt, flow } = request.body;
      try {
        if (flow === 'checkout') {
          const url = await startCheckoutSetup(app.db, app.stripe, {
            buyerId: request.user.id,
            setupId: attempt,
            publicUrl: app.config.publicUrl,
            currency: 'usd',
          });
          return reply.redirect(url, 303);
        }
        await startElementSetup(app.db, app.stripe, { buyerId: request.user.id, setupId: attempt });
        return reply.redirect(`${LIST}/setups/${attempt}`, 303);
      } catch (error) {
        return failed(request, reply, error);
      }
    },
  );

  app.get(`${LIST}/setups/:id`, { schema: { params: IdParams } }, async (request, reply) => {
    const page = await openElementSetup(app.db, app.stripe, request.user.id, request.params.id);
    if ('done' in page) return reply.redirect(`${LIST}/setups/${request.params.id}/done`, 303);
    return render(request, reply, 'account/card-setup', {
      title: 'Add a card',
      clientSecret: page.clientSecret,
      stripeJs,
      returnUrl: `${app.config.publicUrl}${LIST}/setups/${request.params.id}/done`,
    });
  });

  // Stripe's return (from the Payment Element's 3DS or Checkout): what Stripe says, not the redirect.
  app.get(`${LIST}/setups/:id/done`, { schema: { params: IdParams, querystring: DoneQuery } }, async (request, reply) => {
    const setup = await finishCardSetup(app.db, app.stripe, request.user.id, request.params.id);
    const card = setup.payment_method_id === null ? undefined : (await buyerCards(app.db, request.user.id)).find((c) => c.id === setup.payment_method_id);
    return render(request, reply, 'account/card-setup-done', {
      title: setup.status === 'succeeded' ? 'Card saved' : setup.status === 'failed' ? 'Card not saved' : 'Adding a card',
      status: setup.status,
      card: card === undefined ? null : cardView(card),
      message: setup.failure_message,
      retryUrl: setup.flow === 'element' ? `${LIST}/setups/${setup.id}` : LIST,
    });
  });
};
