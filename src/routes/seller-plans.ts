// The seller's subscription plans and subscribers. Registered inside the seller area; a plan is
// looked up within the signed-in seller's own, so another seller's plan is a 404.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest, FastifySchemaValidationError } from 'fastify';
import type { Plan } from '../db/schema.ts';
import { DomainError, found } from '../errors.ts';
import { problemOf } from '../http/errors.ts';
import { fieldErrorsFrom, keptValues, render, setFlash } from '../http/render.ts';
import { Csrf, CsrfOnlyBody, IdParams, MultilineText, Text, Type } from '../http/schemas.ts';
import { SUPPORTED_CURRENCIES, toDecimalString } from '../money.ts';
import { findOwnPlan, listSellerPlans } from '../subscriptions/plan-queries.ts';
import { changePlanPrice, createPlan, setPlanArchived } from '../subscriptions/plan-use-cases.ts';
import { sellerSubscriptionsView } from '../subscriptions/reports.ts';
import { PLAN_DESCRIPTION_MAX, PLAN_NAME_MAX } from '../subscriptions/rules.ts';

const PlanBody = Type.Object({
  name: Text({ minLength: 1, maxLength: PLAN_NAME_MAX, notBlank: true }),
  description: Type.Optional(MultilineText({ maxLength: PLAN_DESCRIPTION_MAX })),
  amount: Text({ minLength: 1, maxLength: 20 }),
  currency: Type.Enum(SUPPORTED_CURRENCIES),
  interval: Type.Union([Type.Literal('month'), Type.Literal('year')]),
  trial_days: Type.Optional(Text({ maxLength: 4 })),
  ...Csrf,
});
const PLAN_MESSAGES = {
  name: `Enter a name (1 to ${PLAN_NAME_MAX} characters)`,
  description: `Keep the description under ${PLAN_DESCRIPTION_MAX.toLocaleString('en-US')} characters, without control characters`,
  amount: 'Enter a price, like 12.50',
  currency: 'Choose one of the listed currencies',
  interval: 'Choose monthly or yearly',
  trial_days: 'Enter a number of days, or leave it empty',
};
const PriceBody = Type.Object({
  amount: Text({ minLength: 1, maxLength: 20 }),
  move: Type.Union([Type.Literal('keep'), Type.Literal('create_prorations'), Type.Literal('always_invoice'), Type.Literal('none')]),
  ...Csrf,
});

export const sellerPlanRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/seller/plans', async (request, reply) => renderPlans(request, reply, { values: { currency: 'usd', interval: 'month' } }));

  app.post(
    '/seller/plans',
    { schema: { body: PlanBody }, attachValidation: true, config: { rateLimit: { max: 30, timeWindow: '1 minute' } } },
    async (request, reply) => {
      const values = keptValues(request.body);
      if (request.validationError !== undefined) {
        return renderPlans(
          request,
          reply,
          { values, errors: fieldErrorsFrom(request.validationError.validation as FastifySchemaValidationError[], PLAN_MESSAGES) },
          400,
        );
      }
      try {
        const plan = await createPlan(app.db, app.stripe, request.user.id, request.body);
        setFlash(reply, 'success', `“${plan.name}” is on sale.`);
        return reply.redirect('/seller/plans', 303);
      } catch (error) {
        if (error instanceof DomainError && error.code === 'plan_invalid') {
          return renderPlans(request, reply, { values, errors: (error as DomainError<'plan_invalid'>).details.fields }, 400);
        }
        const problem = problemOf(error);
        return renderPlans(request, reply, { values, problem: problem.message }, problem.status);
      }
    },
  );

  app.get('/seller/plans/:id', { schema: { params: IdParams } }, async (request, reply) => {
    const plan = found(await findOwnPlan(app.db, request.user.id, request.params.id));
    return renderPlan(request, reply, plan);
  });

  app.post('/seller/plans/:id/price', { schema: { params: IdParams, body: PriceBody } }, async (request, reply) => {
    const plan = found(await findOwnPlan(app.db, request.user.id, request.params.id));
    try {
      const { moved } = await changePlanPrice(app.db, app.stripe, request.user.id, plan.id, request.body.amount, request.body.move);
      setFlash(
        reply,
        'success',
        request.body.move === 'keep'
          ? 'New subscribers pay the new price; current subscribers keep theirs.'
          : `New price saved; ${moved} subscriber(s) moved to it.`,
      );
      return reply.redirect(`/seller/plans/${plan.id}`, 303);
    } catch (error) {
      const problem = problemOf(error);
      return renderPlan(request, reply, plan, problem.message, problem.status);
    }
  });

  for (const [action, archived] of [
    ['archive', true],
    ['unarchive', false],
  ] as const) {
    app.post(`/seller/plans/:id/${action}`, { schema: { params: IdParams, body: CsrfOnlyBody } }, async (request, reply) => {
      const plan = await setPlanArchived(app.db, app.stripe, request.user.id, request.params.id, archived);
      setFlash(
        reply,
        'success',
        archived ? `“${plan.name}” is archived: no new subscribers; current ones keep renewing.` : `“${plan.name}” is open to new subscribers again.`,
      );
      return reply.redirect('/seller/plans', 303);
    });
  }

  app.get('/seller/subscriptions', async (request, reply) =>
    render(request, reply, 'seller/subscriptions', { title: 'Subscribers', ...(await sellerSubscriptionsView(app.db, request.user.id)) }),
  );

  async function renderPlans(
    request: FastifyRequest,
    reply: FastifyReply,
    data: { values: Record<string, string>; errors?: Record<string, string>; problem?: string },
    status = 200,
  ): Promise<FastifyReply> {
    const plans = await listSellerPlans(app.db, request.user.id);
    return render(
      request,
      reply,
      'seller/plans',
      {
        title: 'Subscription plans',
        plans: plans.map((p) => ({ ...p, archived: p.status === 'archived', ready: p.stripe_price_id !== null })),
        values: data.values,
        errors: data.errors ?? {},
        problem: data.problem,
        currencies: SUPPORTED_CURRENCIES.map((c) => ({ code: c, label: c.toUpperCase(), selected: c === data.values.currency })),
      },
      status,
    );
  }

  async function renderPlan(request: FastifyRequest, reply: FastifyReply, plan: Plan, problem?: string, status = 200): Promise<FastifyReply> {
    return render(
      request,
      reply,
      'seller/plan',
      {
        title: plan.name,
        plan,
        problem,
        archived: plan.status === 'archived',
        amountText: toDecimalString(plan.amount, plan.currency),
      },
      status,
    );
  }
};
