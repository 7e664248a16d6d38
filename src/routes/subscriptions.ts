// Subscribing and the buyer's subscriptions. The plan page is public; subscribing (hosted Checkout
// in subscription mode, or the custom flow with the Payment Element), the pay and completion pages,
// cancel at period end and its undo, and "Manage billing" (Stripe's customer portal) are in the
// buyer area, each subscription scoped to its owner (someone else's is a 404).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { found } from '../errors.ts';
import { problemOf, redirectWithOutcome } from '../http/errors.ts';
import { render, setFlash } from '../http/render.ts';
import { Csrf, CsrfOnlyBody, IdParams, Text, Type } from '../http/schemas.ts';
import { listPublicPlans } from '../subscriptions/plan-queries.ts';
import { buyerSubscriptionsView } from '../subscriptions/reports.ts';
import { statusWords } from '../subscriptions/rules.ts';
import {
  buyerSetCancelAtPeriodEnd,
  completeSubscription,
  openBillingPortal,
  openSubscriptionPayment,
  subscribeWithCheckout,
  subscribeWithPaymentElement,
} from '../subscriptions/use-cases.ts';
import { stripeJsSettings } from '../http/stripe-js.ts';

const SubscribeBody = Type.Object({ flow: Type.Union([Type.Literal('hosted'), Type.Literal('custom')]), ...Csrf });
const CompleteQuery = Type.Object({
  // Stripe's redirect adds these; never trusted: our row's Stripe ids are what we ask about.
  canceled: Type.Optional(Text({ maxLength: 8 })),
  payment_intent: Type.Optional(Text({ maxLength: 255 })),
  payment_intent_client_secret: Type.Optional(Text({ maxLength: 255 })),
  setup_intent: Type.Optional(Text({ maxLength: 255 })),
  setup_intent_client_secret: Type.Optional(Text({ maxLength: 255 })),
  redirect_status: Type.Optional(Text({ maxLength: 32 })),
});

/** Anyone may look at a plan that is on sale. */
export const publicPlanRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/plans/:id', { schema: { params: IdParams } }, async (request, reply) => {
    const plan = found((await listPublicPlans(app.db, undefined, request.params.id))[0]);
    return render(request, reply, 'subscriptions/plan', { title: plan.name, plan });
  });
};

export const buyerSubscriptionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const stripeJs = stripeJsSettings(app.config, app.stripe);
  const refused = (request: FastifyRequest, reply: FastifyReply, error: unknown) => {
    const problem = problemOf(error);
    if (problem.code === 'not_found') throw error;
    return render(request, reply, 'checkout/refused', { title: 'Cannot subscribe', message: problem.message }, problem.status);
  };

  app.post(
    '/plans/:id/subscribe',
    {
      schema: { params: IdParams, body: SubscribeBody },
      config: { rateLimit: { max: 30, timeWindow: '1 minute' } },
    },
    async (request, reply) => {
      const input = { buyerId: request.user.id, planId: request.params.id };
      try {
        if (request.body.flow === 'hosted') {
          const { redirectUrl } = await subscribeWithCheckout(app.db, app.stripe, { ...input, publicUrl: app.config.publicUrl });
          return reply.redirect(redirectUrl, 303);
        }
        const step = await subscribeWithPaymentElement(app.db, app.stripe, input);
        return reply.redirect(`/subscriptions/${step.subscription.id}/${step.kind === 'none' ? 'complete' : 'pay'}`, 303);
      } catch (error) {
        return refused(request, reply, error);
      }
    },
  );

  app.get('/subscriptions/:id/pay', { schema: { params: IdParams } }, async (request, reply) => {
    let step: Awaited<ReturnType<typeof openSubscriptionPayment>>;
    try {
      step = await openSubscriptionPayment(app.db, app.stripe, request.user.id, request.params.id);
    } catch (error) {
      return refused(request, reply, error);
    }
    if (step.kind === 'none') return reply.redirect(`/subscriptions/${step.subscription.id}/complete`, 303);
    return render(request, reply, 'subscriptions/pay', {
      title: 'Subscribe',
      subscription: step.subscription,
      clientSecret: step.clientSecret,
      kind: step.kind,
      stripeJs,
      returnUrl: `${app.config.publicUrl}/subscriptions/${step.subscription.id}/complete`,
    });
  });

  app.get('/subscriptions/:id/complete', { schema: { params: IdParams, querystring: CompleteQuery } }, async (request, reply) => {
    const row = await completeSubscription(app.db, app.stripe, request.user.id, request.params.id);
    return render(request, reply, 'subscriptions/complete', {
      title: statusWords(row.status),
      subscription: row,
      statusLabel: statusWords(row.status, row.cancel_at_period_end),
      started: ['active', 'trialing'].includes(row.status),
      waiting: row.status === 'pending' || row.status === 'incomplete',
      leftCheckout: request.query.canceled !== undefined && row.status === 'pending',
      continueUrl: row.flow === 'hosted' ? row.stripe_checkout_url : `/subscriptions/${row.id}/pay`,
    });
  });

  app.get('/subscriptions', async (request, reply) =>
    render(request, reply, 'subscriptions/list', { title: 'My subscriptions', subscriptions: await buyerSubscriptionsView(app.db, request.user.id) }),
  );

  for (const [action, cancel] of [
    ['cancel', true],
    ['resume', false],
  ] as const) {
    app.post(`/subscriptions/:id/${action}`, { schema: { params: IdParams, body: CsrfOnlyBody } }, async (request, reply) => {
      return redirectWithOutcome(reply, '/subscriptions', async () => {
        await buyerSetCancelAtPeriodEnd(app.db, app.stripe, request.user.id, request.params.id, cancel);
        return cancel
          ? 'Your subscription will end at the end of the current period. You will not be charged again.'
          : 'Your subscription will renew as usual.';
      });
    });
  }

  // The portal session URL is a short-lived credential: minted on a POST (CSRF-checked).
  app.post(
    '/subscriptions/:id/portal',
    { schema: { params: IdParams, body: CsrfOnlyBody }, config: { rateLimit: { max: 20, timeWindow: '1 minute' } } },
    async (request, reply) => {
      try {
        return reply.redirect(await openBillingPortal(app.db, app.stripe, request.user.id, request.params.id, `${app.config.publicUrl}/subscriptions`), 303);
      } catch (error) {
        const problem = problemOf(error);
        if (problem.code === 'not_found') throw error;
        setFlash(reply, 'error', problem.message);
        return reply.redirect('/subscriptions', 303);
      }
    },
  );
};
