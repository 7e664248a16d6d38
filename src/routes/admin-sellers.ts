// Admin: sellers (state, what is due, balance, payouts, schedule, pause/resume, manual payout, fee
// override), the platform's fee policy, and the audit log. Every route requires an admin; every POST
// is CSRF-checked by the app's global hook; anything that moves money asks for confirmation first
// (the form posts once without `confirm`, we show what will happen, the second post does it).
import { randomUUID } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { listAudit, type Actor } from '../admin/audit.ts';
import { deletePolicy, listPolicies, savePolicy } from '../admin/fee-policies.ts';
import { stripeRefusal } from '../admin/stripe-errors.ts';
import { requireAdmin } from '../auth/guards.ts';
import type { AccountState } from '../db/schema.ts';
import { render, setFlash } from '../http/render.ts';
import { formatMoney, parseMoney, SUPPORTED_CURRENCIES, toDecimalString } from '../money.ts';
import {
  changeSchedule, INTERVALS, listPayoutRequests, listSellerPayouts, pausePayouts, payoutOverview, requestManualPayout, resumePayouts, WEEKDAYS, type PayoutOverview,
} from '../payouts/payouts.ts';
import { describeRequirements } from '../sellers/account-state.ts';

export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const Csrf = { _csrf: Type.Optional(Type.String()) };
const SellerParams = Type.Object({ id: Type.String({ pattern: UUID_PATTERN }) });
const ACCOUNT_STATES: AccountState[] = ['not_started', 'onboarding_incomplete', 'pending_verification', 'restricted', 'enabled', 'rejected'];
const SellersQuery = Type.Object({ state: Type.Optional(Type.Union([Type.Literal(''), ...ACCOUNT_STATES.map((s) => Type.Literal(s))])) });
const CsrfOnlyBody = Type.Object(Csrf);
const ScheduleBody = Type.Object({
  interval: Type.Union(INTERVALS.map((i) => Type.Literal(i))),
  weekly_anchor: Type.Optional(Type.Union(WEEKDAYS.map((d) => Type.Literal(d)))),
  monthly_anchor: Type.Optional(Type.String({ pattern: '^([1-9]|[12][0-9]|3[01])$' })),
  ...Csrf,
});
const PayoutBody = Type.Object({
  request_id: Type.String({ pattern: UUID_PATTERN }),
  amount: Type.String({ minLength: 1, maxLength: 20 }),
  currency: Type.String({ pattern: '^[a-z]{3}$' }),
  confirm: Type.Optional(Type.Literal('yes')),
  ...Csrf,
});
const CurrencyOrAny = Type.Union([Type.Literal(''), ...SUPPORTED_CURRENCIES.map((c) => Type.Literal(c))]);
const FeeBody = Type.Object({
  currency: CurrencyOrAny,
  basis_points: Type.String({ pattern: '^\\d{1,5}$' }),
  fixed: Type.Optional(Type.String({ maxLength: 20 })),
  ...Csrf,
});
const PolicyParams = Type.Object({ policyId: Type.String({ pattern: UUID_PATTERN }) });
const SellerPolicyParams = Type.Object({ id: Type.String({ pattern: UUID_PATTERN }), policyId: Type.String({ pattern: UUID_PATTERN }) });
const AuditQuery = Type.Object({
  target_type: Type.Optional(Type.String({ maxLength: 40, pattern: '^[a-z_]*$' })),
  target_id: Type.Optional(Type.String({ maxLength: 100, pattern: '^[A-Za-z0-9_-]*$' })),
  before: Type.Optional(Type.String({ pattern: '^\\d{0,18}$' })),
});

export function actorOf(request: FastifyRequest): Actor {
  const user = request.auth!.user;
  return { id: user.id, email: user.email };
}

/** Validates a policy form; returns the policy or the message to show. */
function parsePolicyForm(body: Static<typeof FeeBody>): { ok: true; currency: string | null; basisPoints: number; fixedAmount: number } | { ok: false; message: string } {
  const basisPoints = Number(body.basis_points);
  if (!Number.isInteger(basisPoints) || basisPoints < 0 || basisPoints > 10_000) return { ok: false, message: 'Basis points must be a whole number from 0 to 10000 (100 bp = 1 %).' };
  const currency = body.currency === '' ? null : body.currency;
  const fixedText = (body.fixed ?? '').trim();
  if (currency === null) {
    if (fixedText !== '' && fixedText !== '0') return { ok: false, message: 'A fixed amount needs a currency: choose one, or leave the fixed amount empty.' };
    return { ok: true, currency, basisPoints, fixedAmount: 0 };
  }
  if (fixedText === '') return { ok: true, currency, basisPoints, fixedAmount: 0 };
  const parsed = parseMoney(fixedText, currency);
  if (!parsed.ok) return { ok: false, message: `Fixed amount: ${parsed.message}.` };
  return { ok: true, currency, basisPoints, fixedAmount: parsed.amount };
}

const policyView = (p: { id: string; currency: string | null; basis_points: number; fixed_amount: number }) => ({
  ...p,
  percent: `${(p.basis_points / 100).toFixed(2)} %`,
  fixed: p.currency === null ? '—' : formatMoney(p.fixed_amount, p.currency),
  currencyLabel: p.currency === null ? 'any currency' : p.currency.toUpperCase(),
});

export async function adminSellerRoutes(app: FastifyInstance): Promise<void> {
  // ---- Sellers ----
  app.get<{ Querystring: Static<typeof SellersQuery> }>('/admin/sellers', { preHandler: requireAdmin, schema: { querystring: SellersQuery } }, async (request, reply) => {
    const state = request.query.state === '' ? undefined : request.query.state;
    let query = app.db.selectFrom('sellers').innerJoin('users', 'users.id', 'sellers.id')
      .select(['sellers.id', 'sellers.stripe_account_id', 'sellers.account_state', 'sellers.requirements', 'sellers.requirements_deadline', 'sellers.disabled_reason', 'users.email', 'users.display_name'])
      .orderBy('users.display_name').limit(500);
    if (state !== undefined) query = query.where('sellers.account_state', '=', state);
    const rows = await query.execute();
    return render(request, reply, 'admin/sellers', {
      states: ACCOUNT_STATES.map((s) => ({ value: s, selected: s === state })),
      sellers: rows.map((r) => ({
        ...r,
        due: describeRequirements([...(r.requirements.past_due ?? []), ...(r.requirements.currently_due ?? [])]),
      })),
    });
  });

  async function renderSeller(request: FastifyRequest, reply: FastifyReply, sellerId: string, extra: Record<string, unknown> = {}, status = 200): Promise<FastifyReply> {
    const seller = await app.db.selectFrom('sellers').innerJoin('users', 'users.id', 'sellers.id')
      .selectAll('sellers').select(['users.email', 'users.display_name'])
      .where('sellers.id', '=', sellerId).executeTakeFirst();
    if (seller === undefined) return render(request, reply, 'errors/404', { message: 'No such seller.' }, 404);
    let overview: PayoutOverview | undefined;
    let stripeError: string | undefined;
    if (seller.stripe_account_id !== null) {
      try {
        overview = await payoutOverview(app.stripe, seller.stripe_account_id);
      } catch (error) {
        stripeError = stripeRefusal(error) ?? 'Stripe could not be reached; the balance and schedule are not shown.';
      }
    }
    const [payouts, requests, policies] = await Promise.all([
      listSellerPayouts(app.db, sellerId), listPayoutRequests(app.db, sellerId), listPolicies(app.db, sellerId),
    ]);
    return render(request, reply, 'admin/seller', {
      seller,
      due: describeRequirements([...(seller.requirements.past_due ?? []), ...(seller.requirements.currently_due ?? [])]),
      overview: overview === undefined ? null : {
        ...overview,
        available: overview.available.map((b) => ({ ...b, formatted: formatMoney(b.amount, b.currency), decimal: toDecimalString(b.amount, b.currency), requestId: randomUUID() })),
        pending: overview.pending.map((b) => ({ ...b, formatted: formatMoney(b.amount, b.currency) })),
        intervals: INTERVALS.map((i) => ({ value: i, selected: i === overview!.schedule.interval })),
        weekdays: WEEKDAYS.map((d) => ({ value: d, selected: d === overview!.schedule.weekly_anchor })),
      },
      stripeError,
      payouts: payouts.map((p) => ({ ...p, formatted: formatMoney(p.amount, p.currency) })),
      requests: requests.map((r) => ({ ...r, formatted: formatMoney(r.amount, r.currency) })),
      policies: policies.map(policyView),
      currencies: SUPPORTED_CURRENCIES,
      ...extra,
    }, status);
  }

  app.get<{ Params: Static<typeof SellerParams> }>('/admin/sellers/:id', { preHandler: requireAdmin, schema: { params: SellerParams } }, async (request, reply) =>
    renderSeller(request, reply, request.params.id));

  async function sellerWithAccount(sellerId: string): Promise<boolean> {
    const row = await app.db.selectFrom('sellers').select('stripe_account_id').where('id', '=', sellerId).executeTakeFirst();
    return row?.stripe_account_id != null;
  }

  app.post<{ Params: Static<typeof SellerParams>; Body: Static<typeof ScheduleBody> }>('/admin/sellers/:id/payout-schedule', {
    preHandler: requireAdmin, schema: { params: SellerParams, body: ScheduleBody },
  }, async (request, reply) => {
    if (!(await sellerWithAccount(request.params.id))) return render(request, reply, 'errors/404', { message: 'No such seller with a Stripe account.' }, 404);
    const { interval, weekly_anchor, monthly_anchor } = request.body;
    const result = await changeSchedule(app.db, app.stripe, actorOf(request), request.params.id, {
      interval, weekly_anchor, monthly_anchor: monthly_anchor === undefined ? undefined : Number(monthly_anchor),
    });
    if (result.ok) setFlash(reply, 'success', `Payout schedule is now ${result.schedule.interval}.`);
    else setFlash(reply, 'error', result.message);
    return reply.redirect(`/admin/sellers/${request.params.id}`, 303);
  });

  for (const [action, fn, done] of [
    ['pause', pausePayouts, 'Payouts are paused: the schedule is manual until you resume.'],
    ['resume', resumePayouts, 'Payouts are resumed on the previous schedule.'],
  ] as const) {
    app.post<{ Params: Static<typeof SellerParams> }>(`/admin/sellers/:id/payouts/${action}`, {
      preHandler: requireAdmin, schema: { params: SellerParams, body: CsrfOnlyBody },
    }, async (request, reply) => {
      if (!(await sellerWithAccount(request.params.id))) return render(request, reply, 'errors/404', { message: 'No such seller with a Stripe account.' }, 404);
      const result = await fn(app.db, app.stripe, actorOf(request), request.params.id);
      if (result.ok) setFlash(reply, 'success', done);
      else setFlash(reply, 'error', result.message);
      return reply.redirect(`/admin/sellers/${request.params.id}`, 303);
    });
  }

  app.post<{ Params: Static<typeof SellerParams>; Body: Static<typeof PayoutBody> }>('/admin/sellers/:id/payouts', {
    preHandler: requireAdmin, schema: { params: SellerParams, body: PayoutBody },
  }, async (request, reply) => {
    const sellerId = request.params.id;
    if (!(await sellerWithAccount(sellerId))) return render(request, reply, 'errors/404', { message: 'No such seller with a Stripe account.' }, 404);
    const { currency, request_id } = request.body;
    const parsed = parseMoney(request.body.amount, currency);
    if (!parsed.ok || parsed.amount <= 0) {
      return renderSeller(request, reply, sellerId, { payoutError: parsed.ok ? 'Enter an amount above zero.' : parsed.message }, 422);
    }
    if (request.body.confirm !== 'yes') {
      return render(request, reply, 'admin/confirm', {
        title: 'Confirm payout',
        message: `Pay out ${formatMoney(parsed.amount, currency)} from this seller's Stripe balance to their bank account now?`,
        action: `/admin/sellers/${sellerId}/payouts`,
        fields: [{ name: 'request_id', value: request_id }, { name: 'amount', value: request.body.amount }, { name: 'currency', value: currency }, { name: 'confirm', value: 'yes' }],
        confirmLabel: `Pay out ${formatMoney(parsed.amount, currency)}`,
        cancelHref: `/admin/sellers/${sellerId}`,
      });
    }
    const result = await requestManualPayout(app.db, app.stripe, actorOf(request), { requestId: request_id, sellerId, amount: parsed.amount, currency });
    if (!result.ok) return renderSeller(request, reply, sellerId, { payoutError: result.message }, 422);
    setFlash(reply, 'success', `Payout of ${formatMoney(parsed.amount, currency)} created at Stripe (${result.request.stripe_payout_id}).`);
    return reply.redirect(`/admin/sellers/${sellerId}`, 303);
  });

  // Per-seller fee override (the table is issue 6's; new orders only).
  app.post<{ Params: Static<typeof SellerParams>; Body: Static<typeof FeeBody> }>('/admin/sellers/:id/fee-policy', {
    preHandler: requireAdmin, schema: { params: SellerParams, body: FeeBody },
  }, async (request, reply) => {
    const sellerId = request.params.id;
    const exists = await app.db.selectFrom('sellers').select('id').where('id', '=', sellerId).executeTakeFirst();
    if (exists === undefined) return render(request, reply, 'errors/404', { message: 'No such seller.' }, 404);
    const parsed = parsePolicyForm(request.body);
    if (!parsed.ok) return renderSeller(request, reply, sellerId, { feeError: parsed.message }, 422);
    await savePolicy(app.db, actorOf(request), { sellerId, currency: parsed.currency, basisPoints: parsed.basisPoints, fixedAmount: parsed.fixedAmount });
    setFlash(reply, 'success', 'Fee override saved. It applies to this seller\'s new orders.');
    return reply.redirect(`/admin/sellers/${sellerId}`, 303);
  });

  app.post<{ Params: Static<typeof SellerPolicyParams> }>('/admin/sellers/:id/fee-policy/:policyId/delete', {
    preHandler: requireAdmin, schema: { params: SellerPolicyParams, body: CsrfOnlyBody },
  }, async (request, reply) => {
    const policy = await app.db.selectFrom('fee_policies').select('seller_id').where('id', '=', request.params.policyId).executeTakeFirst();
    if (policy === undefined || policy.seller_id !== request.params.id) return render(request, reply, 'errors/404', { message: 'No such fee override.' }, 404);
    await deletePolicy(app.db, actorOf(request), request.params.policyId);
    setFlash(reply, 'success', 'Fee override removed; the platform default applies to new orders.');
    return reply.redirect(`/admin/sellers/${request.params.id}`, 303);
  });

  // ---- Platform fee policy ----
  async function renderFees(request: FastifyRequest, reply: FastifyReply, extra: Record<string, unknown> = {}, status = 200): Promise<FastifyReply> {
    const policies = await listPolicies(app.db);
    const names = await app.db.selectFrom('users').select(['id', 'display_name']).where('id', 'in', [...new Set(policies.map((p) => p.seller_id).filter((id): id is string => id !== null)), '00000000-0000-0000-0000-000000000000']).execute();
    const nameOf = new Map(names.map((n) => [n.id, n.display_name]));
    return render(request, reply, 'admin/fees', {
      platform: policies.filter((p) => p.seller_id === null).map(policyView),
      overrides: policies.filter((p) => p.seller_id !== null).map((p) => ({ ...policyView(p), seller_id: p.seller_id, sellerName: nameOf.get(p.seller_id!) ?? p.seller_id })),
      currencies: SUPPORTED_CURRENCIES,
      ...extra,
    }, status);
  }

  app.get('/admin/fees', { preHandler: requireAdmin }, async (request, reply) => renderFees(request, reply));

  app.post<{ Body: Static<typeof FeeBody> }>('/admin/fees', { preHandler: requireAdmin, schema: { body: FeeBody } }, async (request, reply) => {
    const parsed = parsePolicyForm(request.body);
    if (!parsed.ok) return renderFees(request, reply, { feeError: parsed.message }, 422);
    await savePolicy(app.db, actorOf(request), { sellerId: null, currency: parsed.currency, basisPoints: parsed.basisPoints, fixedAmount: parsed.fixedAmount });
    setFlash(reply, 'success', 'Platform fee saved. It applies to new orders only.');
    return reply.redirect('/admin/fees', 303);
  });

  app.post<{ Params: Static<typeof PolicyParams> }>('/admin/fees/:policyId/delete', {
    preHandler: requireAdmin, schema: { params: PolicyParams, body: CsrfOnlyBody },
  }, async (request, reply) => {
    const removed = await deletePolicy(app.db, actorOf(request), request.params.policyId);
    setFlash(reply, removed ? 'success' : 'error', removed ? 'Fee policy removed.' : 'That fee policy no longer exists.');
    return reply.redirect('/admin/fees', 303);
  });

  // ---- Audit log ----
  app.get<{ Querystring: Static<typeof AuditQuery> }>('/admin/audit', { preHandler: requireAdmin, schema: { querystring: AuditQuery } }, async (request, reply) => {
    const pageSize = 50;
    const q = request.query;
    const rows = await listAudit(app.db, {
      targetType: q.target_type || undefined,
      targetId: q.target_id || undefined,
      beforeId: q.before ? Number(q.before) : undefined,
      limit: pageSize + 1,
    });
    const page = rows.slice(0, pageSize);
    const next = new URLSearchParams();
    if (q.target_type) next.set('target_type', q.target_type);
    if (q.target_id) next.set('target_id', q.target_id);
    if (rows.length > pageSize) next.set('before', String(page.at(-1)!.id));
    return render(request, reply, 'admin/audit', {
      entries: page.map((e) => ({ ...e, beforeJson: e.before === null ? '' : JSON.stringify(e.before), afterJson: e.after === null ? '' : JSON.stringify(e.after) })),
      filter: { target_type: q.target_type ?? '', target_id: q.target_id ?? '' },
      nextPage: rows.length > pageSize ? `/admin/audit?${next.toString()}` : null,
    });
  });
}
