// Admin: sellers (state, what is due, balance, payouts, schedule, pause/resume, manual payout, fee
// override) and the platform's fee policy. Registered inside the admin area. Anything that moves
// money asks for confirmation first (the form posts once without `confirm`, we show what will
// happen, the second post does it).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { deletePolicy, deleteSellerPolicy, listPoliciesWithSellers, savePlatformPolicy, saveSellerPolicy } from '../admin/fee-policies.ts';
import { sellerPage } from '../admin/pages.ts';
import type { AccountState, FeePolicy } from '../db/schema.ts';
import { actorOf } from '../http/areas.ts';
import { problemOf, redirectWithOutcome } from '../http/errors.ts';
import { render, setFlash } from '../http/render.ts';
import { Csrf, CsrfOnlyBody, IdParams, Text, Type, Uuid } from '../http/schemas.ts';
import { formatMoney, SUPPORTED_CURRENCIES, toDecimalString } from '../money.ts';
import { INTERVALS, WEEKDAYS } from '../payouts/rules.ts';
import { changeSchedule, pausePayouts, previewPayout, requestManualPayout, resumePayouts } from '../payouts/use-cases.ts';
import { describeRequirements } from '../sellers/account-state.ts';
import { listSellers } from '../sellers/queries.ts';

const ACCOUNT_STATES: AccountState[] = ['not_started', 'onboarding_incomplete', 'pending_verification', 'restricted', 'enabled', 'rejected'];
const SellersQuery = Type.Object({ state: Type.Optional(Type.Enum(['', ...ACCOUNT_STATES])) });
const ScheduleBody = Type.Object({
  interval: Type.Enum(INTERVALS),
  weekly_anchor: Type.Optional(Type.Enum(WEEKDAYS)),
  monthly_anchor: Type.Optional(Type.String({ pattern: '^([1-9]|[12][0-9]|3[01])$' })),
  ...Csrf,
});
const PayoutBody = Type.Object({
  request_id: Uuid,
  amount: Text({ minLength: 1, maxLength: 20 }),
  currency: Type.String({ pattern: '^[a-z]{3}$' }),
  confirm: Type.Optional(Type.Literal('yes')),
  ...Csrf,
});
const FeeBody = Type.Object({
  currency: Type.Enum(['', ...SUPPORTED_CURRENCIES]),
  // Checked by parsePolicyForm, which says what is wrong beside the form ("5%", "-100", "abc").
  basis_points: Text({ maxLength: 20 }),
  fixed: Type.Optional(Text({ maxLength: 20 })),
  confirm_large: Type.Optional(Type.Literal('yes')),
  ...Csrf,
});
const PolicyParams = Type.Object({ policyId: Uuid });

type FeeForm = { currency: string; basis_points: string; fixed?: string | undefined; confirm_large?: 'yes' | undefined };
const policyFormOf = (body: FeeForm) => ({
  currency: body.currency,
  basisPoints: body.basis_points.trim(),
  fixed: body.fixed,
  confirmLarge: body.confirm_large === 'yes',
});
/** The fee form shown again as typed, with what to fix (or the large fee to confirm). */
const feeFormAgain = (body: FeeForm, problem: { message: string; code: string }) => ({
  feeError: problem.message,
  feeValues: { currency: body.currency, basis_points: body.basis_points, fixed: body.fixed ?? '' },
  feeConfirm: problem.code === 'fixed_fee_unusually_large',
});
const SellerPolicyParams = Type.Object({ id: Uuid, policyId: Uuid });

const policyView = (p: Pick<FeePolicy, 'id' | 'currency' | 'basis_points' | 'fixed_amount'>) => ({
  ...p,
  percent: `${(p.basis_points / 100).toFixed(2)} %`,
  fixed: p.currency === null ? '—' : formatMoney(p.fixed_amount, p.currency),
  currencyLabel: p.currency === null ? 'any currency' : p.currency.toUpperCase(),
});

export const adminSellerRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // ---- Sellers ----
  app.get('/admin/sellers', { schema: { querystring: SellersQuery } }, async (request, reply) => {
    const state = request.query.state === '' ? undefined : request.query.state;
    const rows = await listSellers(app.db, state);
    return render(request, reply, 'admin/sellers', {
      states: ACCOUNT_STATES.map((s) => ({ value: s, selected: s === state })),
      sellers: rows.map((r) => ({
        ...r,
        due: describeRequirements([...(r.requirements.past_due ?? []), ...(r.requirements.currently_due ?? [])], 'admin'),
      })),
    });
  });

  async function renderSeller(
    request: FastifyRequest,
    reply: FastifyReply,
    sellerId: string,
    extra: { payoutError?: string; feeError?: string; feeValues?: object; feeConfirm?: boolean } = {},
    status = 200,
  ): Promise<FastifyReply> {
    const { seller, overview, stripeError, payouts, requests, policies } = await sellerPage(app.db, app.stripe, sellerId);
    return render(
      request,
      reply,
      'admin/seller',
      {
        seller,
        due: describeRequirements([...(seller.requirements.past_due ?? []), ...(seller.requirements.currently_due ?? [])], 'admin'),
        overview:
          overview === undefined
            ? null
            : {
                ...overview,
                available: overview.available.map((b) => ({
                  ...b,
                  formatted: formatMoney(b.amount, b.currency),
                  decimal: toDecimalString(b.amount, b.currency),
                  requestId: randomUUID(),
                  payable: b.amount > 0,
                  negative: b.amount < 0,
                })),
                pending: overview.pending.map((b) => ({ ...b, formatted: formatMoney(b.amount, b.currency) })),
                // One row per currency with both amounts (each currency was listed twice, once per column).
                balances: [...new Set([...overview.available, ...overview.pending].map((b) => b.currency))].map((currency) => {
                  const of = (list: { currency: string; amount: number }[]) => formatMoney(list.find((b) => b.currency === currency)?.amount ?? 0, currency);
                  return { currency, available: of(overview.available), pending: of(overview.pending) };
                }),
                intervals: INTERVALS.map((i) => ({ value: i, selected: i === overview.schedule.interval })),
                weekdays: WEEKDAYS.map((d) => ({ value: d, selected: d === overview.schedule.weekly_anchor })),
              },
        stripeError,
        payouts: payouts.map((p) => ({ ...p, formatted: formatMoney(p.amount, p.currency) })),
        requests: requests.map((r) => ({ ...r, formatted: formatMoney(r.amount, r.currency) })),
        policies: policies.map(policyView),
        currencies: SUPPORTED_CURRENCIES,
        ...extra,
      },
      status,
    );
  }

  app.get('/admin/sellers/:id', { schema: { params: IdParams } }, async (request, reply) => renderSeller(request, reply, request.params.id));

  app.post('/admin/sellers/:id/payout-schedule', { schema: { params: IdParams, body: ScheduleBody } }, async (request, reply) => {
    const { interval, weekly_anchor, monthly_anchor } = request.body;
    return redirectWithOutcome(reply, `/admin/sellers/${request.params.id}`, async () => {
      const schedule = await changeSchedule(app.db, app.stripe, actorOf(request), request.params.id, {
        interval,
        weekly_anchor,
        monthly_anchor: monthly_anchor === undefined ? undefined : Number(monthly_anchor),
      });
      return `Payout schedule is now ${schedule.interval}.`;
    });
  });

  app.post('/admin/sellers/:id/payouts/pause', { schema: { params: IdParams, body: CsrfOnlyBody } }, async (request, reply) =>
    redirectWithOutcome(reply, `/admin/sellers/${request.params.id}`, async () => {
      await pausePayouts(app.db, app.stripe, actorOf(request), request.params.id);
      return 'Payouts are paused: the schedule is manual until you resume.';
    }),
  );

  app.post('/admin/sellers/:id/payouts/resume', { schema: { params: IdParams, body: CsrfOnlyBody } }, async (request, reply) =>
    redirectWithOutcome(reply, `/admin/sellers/${request.params.id}`, async () => {
      await resumePayouts(app.db, app.stripe, actorOf(request), request.params.id);
      return 'Payouts are resumed on the previous schedule.';
    }),
  );

  app.post('/admin/sellers/:id/payouts', { schema: { params: IdParams, body: PayoutBody } }, async (request, reply) => {
    const sellerId = request.params.id;
    const { currency, request_id } = request.body;
    try {
      const payout = { requestId: request_id, sellerId, amount: request.body.amount, currency };
      if (request.body.confirm !== 'yes') {
        const amount = formatMoney(await previewPayout(app.db, payout), currency);
        return await render(request, reply, 'admin/confirm', {
          title: 'Confirm payout',
          message: `Pay out ${amount} from this seller's Stripe balance to their bank account now?`,
          action: `/admin/sellers/${sellerId}/payouts`,
          fields: [
            { name: 'request_id', value: request_id },
            { name: 'amount', value: request.body.amount },
            { name: 'currency', value: currency },
            { name: 'confirm', value: 'yes' },
          ],
          confirmLabel: `Pay out ${amount}`,
          cancelHref: `/admin/sellers/${sellerId}`,
        });
      }
      const result = await requestManualPayout(app.db, app.stripe, actorOf(request), payout);
      setFlash(reply, 'success', `Payout of ${formatMoney(result.request.amount, currency)} created at Stripe (${result.request.stripe_payout_id}).`);
      return reply.redirect(`/admin/sellers/${sellerId}`, 303);
    } catch (error) {
      const problem = problemOf(error);
      if (problem.code === 'not_found') throw error;
      return renderSeller(request, reply, sellerId, { payoutError: problem.message }, problem.status);
    }
  });

  // Per-seller fee override (new orders only).
  app.post('/admin/sellers/:id/fee-policy', { schema: { params: IdParams, body: FeeBody } }, async (request, reply) => {
    const sellerId = request.params.id;
    try {
      await saveSellerPolicy(app.db, actorOf(request), sellerId, policyFormOf(request.body));
    } catch (error) {
      const problem = problemOf(error);
      if (problem.code === 'not_found') throw error;
      return renderSeller(request, reply, sellerId, feeFormAgain(request.body, problem), problem.status);
    }
    setFlash(reply, 'success', "Fee override saved. It applies to this seller's new orders.");
    return reply.redirect(`/admin/sellers/${sellerId}`, 303);
  });

  app.post('/admin/sellers/:id/fee-policy/:policyId/delete', { schema: { params: SellerPolicyParams, body: CsrfOnlyBody } }, async (request, reply) => {
    await deleteSellerPolicy(app.db, actorOf(request), request.params.id, request.params.policyId);
    setFlash(reply, 'success', 'Fee override removed; the platform default applies to new orders.');
    return reply.redirect(`/admin/sellers/${request.params.id}`, 303);
  });

  // ---- Platform fee policy ----
  async function renderFees(
    request: FastifyRequest,
    reply: FastifyReply,
    extra: { feeError?: string; feeValues?: object; feeConfirm?: boolean } = {},
    status = 200,
  ): Promise<FastifyReply> {
    const policies = await listPoliciesWithSellers(app.db);
    return render(
      request,
      reply,
      'admin/fees',
      {
        platform: policies.filter((p) => p.seller_id === null).map(policyView),
        overrides: policies
          .filter((p) => p.seller_id !== null)
          .map((p) => ({ ...policyView(p), seller_id: p.seller_id, sellerName: p.seller_name ?? p.seller_id })),
        currencies: SUPPORTED_CURRENCIES,
        ...extra,
      },
      status,
    );
  }

  app.get('/admin/fees', async (request, reply) => renderFees(request, reply));

  app.post('/admin/fees', { schema: { body: FeeBody } }, async (request, reply) => {
    try {
      await savePlatformPolicy(app.db, actorOf(request), policyFormOf(request.body));
    } catch (error) {
      const problem = problemOf(error);
      return renderFees(request, reply, feeFormAgain(request.body, problem), problem.status);
    }
    setFlash(reply, 'success', 'Platform fee saved. It applies to new orders only.');
    return reply.redirect('/admin/fees', 303);
  });

  app.post('/admin/fees/:policyId/delete', { schema: { params: PolicyParams, body: CsrfOnlyBody } }, async (request, reply) => {
    const removed = await deletePolicy(app.db, actorOf(request), request.params.policyId);
    setFlash(reply, removed ? 'success' : 'error', removed ? 'Fee policy removed.' : 'That fee policy no longer exists.');
    return reply.redirect('/admin/fees', 303);
  });
};
