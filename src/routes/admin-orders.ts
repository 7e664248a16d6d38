// Admin: orders (filters, keyset pages, money breakdown, related Stripe events), refunds, disputes
// (deadline-sorted list, evidence draft/submit, accept) and the refund/dispute policy switches.
// Admin-only; POSTs are CSRF-checked by the app's global hook; moving money asks for confirmation
// (first post renders what will happen, the confirmed post does it).
import { randomUUID } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { orderBreakdown, relatedEvents } from '../admin/money-views.ts';
import { getSettings, setSetting, SETTINGS, type SettingKey } from '../admin/settings.ts';
import { requireAdmin } from '../auth/guards.ts';
import type { OrderStatus } from '../db/schema.ts';
import { acceptDispute, CLOSED, EVIDENCE_FIELDS, saveEvidence, type EvidenceDraft } from '../disputes/disputes.ts';
import { render, setFlash } from '../http/render.ts';
import { formatMoney, parseMoney, toDecimalString } from '../money.ts';
import { createRefund, driveRefund, listOrderRefunds, refundableLeft, refundDefaults } from '../refunds/refunds.ts';
import { actorOf, UUID_PATTERN } from './admin-sellers.ts';

const Csrf = { _csrf: Type.Optional(Type.String()) };
const ORDER_STATUSES: OrderStatus[] = ['pending', 'paid', 'payment_failed', 'canceled', 'partially_refunded', 'refunded'];
const DATE = '^(\\d{4}-\\d{2}-\\d{2})?$';
const OrdersQuery = Type.Object({
  status: Type.Optional(Type.Union([Type.Literal(''), ...ORDER_STATUSES.map((s) => Type.Literal(s))])),
  seller: Type.Optional(Type.String({ pattern: `^(|${UUID_PATTERN.slice(1, -1)})$` })),
  from: Type.Optional(Type.String({ pattern: DATE })),
  to: Type.Optional(Type.String({ pattern: DATE })),
  // Keyset cursor: "<created_at ISO>|<order id>" of the last row on the previous page.
  before: Type.Optional(Type.String({ maxLength: 100, pattern: '^[0-9T:.\\-Z]+\\|[0-9a-fA-F-]{36}$' })),
});
const OrderParams = Type.Object({ id: Type.String({ pattern: UUID_PATTERN }) });
const RefundParams = Type.Object({ id: Type.String({ pattern: UUID_PATTERN }), refundId: Type.String({ pattern: UUID_PATTERN }) });
const OnOff = Type.Optional(Type.Union([Type.Literal('on'), Type.Literal('off')]));
const RefundBody = Type.Object({
  refund_id: Type.String({ pattern: UUID_PATTERN }),
  amount: Type.String({ minLength: 1, maxLength: 20 }),
  reason: Type.Optional(Type.Union([Type.Literal(''), Type.Literal('duplicate'), Type.Literal('fraudulent'), Type.Literal('requested_by_customer')])),
  reverse_transfer: OnOff,
  refund_application_fee: OnOff,
  confirm: Type.Optional(Type.Literal('yes')),
  ...Csrf,
});
const DisputeParams = Type.Object({ id: Type.String({ pattern: '^du_[A-Za-z0-9_]{1,250}$' }) });
const EvidenceBody = Type.Object({
  ...Object.fromEntries(EVIDENCE_FIELDS.map((f) => [f, Type.Optional(Type.String({ maxLength: 20_000 }))])),
  action: Type.Union([Type.Literal('draft'), Type.Literal('submit')]),
  confirm: Type.Optional(Type.Literal('yes')),
  ...Csrf,
});
const AcceptBody = Type.Object({ confirm: Type.Optional(Type.Literal('yes')), ...Csrf });
const SettingsBody = Type.Object({
  'refunds.refund_application_fee': OnOff,
  'disputes.recover_from_seller': OnOff,
  ...Csrf,
});
const PAGE_SIZE = 50;

function startOfDay(date: string): Date { return new Date(`${date}T00:00:00.000Z`); }

export async function adminOrderRoutes(app: FastifyInstance): Promise<void> {
  // ---- Orders ----
  app.get<{ Querystring: Static<typeof OrdersQuery> }>('/admin/orders', { preHandler: requireAdmin, schema: { querystring: OrdersQuery } }, async (request, reply) => {
    const q = request.query;
    let query = app.db.selectFrom('orders').innerJoin('users as s', 's.id', 'orders.seller_id')
      .select(['orders.id', 'orders.created_at', 'orders.title', 'orders.amount', 'orders.currency', 'orders.application_fee_amount', 'orders.amount_refunded',
        'orders.status', 'orders.disputed', 'orders.dispute_status', 'orders.seller_id', 's.display_name as seller_name'])
      .orderBy('orders.created_at', 'desc').orderBy('orders.id', 'desc').limit(PAGE_SIZE + 1);
    if (q.status) query = query.where('orders.status', '=', q.status);
    if (q.seller) query = query.where('orders.seller_id', '=', q.seller);
    if (q.from) query = query.where('orders.created_at', '>=', startOfDay(q.from));
    if (q.to) query = query.where('orders.created_at', '<', new Date(startOfDay(q.to).getTime() + 86_400_000));
    if (q.before) {
      const [iso, id] = q.before.split('|') as [string, string];
      const at = new Date(iso);
      if (!Number.isNaN(at.getTime())) {
        query = query.where((eb) => eb.or([eb('orders.created_at', '<', at), eb.and([eb('orders.created_at', '=', at), eb('orders.id', '<', id)])]));
      }
    }
    const rows = await query.execute();
    const page = rows.slice(0, PAGE_SIZE);
    const next = new URLSearchParams();
    for (const key of ['status', 'seller', 'from', 'to'] as const) if (q[key]) next.set(key, q[key]!);
    const last = page.at(-1);
    if (rows.length > PAGE_SIZE && last !== undefined) next.set('before', `${last.created_at.toISOString()}|${last.id}`);
    const sellers = await app.db.selectFrom('sellers').innerJoin('users', 'users.id', 'sellers.id').select(['sellers.id', 'users.display_name']).orderBy('users.display_name').execute();
    return render(request, reply, 'admin/orders', {
      orders: page.map((o) => ({ ...o, gross: formatMoney(o.amount, o.currency), fee: formatMoney(o.application_fee_amount, o.currency), refunded: formatMoney(o.amount_refunded, o.currency) })),
      statuses: ORDER_STATUSES.map((s) => ({ value: s, selected: s === q.status })),
      sellers: sellers.map((s) => ({ ...s, selected: s.id === q.seller })),
      filter: { from: q.from ?? '', to: q.to ?? '' },
      nextPage: rows.length > PAGE_SIZE ? `/admin/orders?${next.toString()}` : null,
    });
  });

  async function renderOrder(request: FastifyRequest, reply: FastifyReply, orderId: string, extra: Record<string, unknown> = {}, status = 200): Promise<FastifyReply> {
    const order = await app.db.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirst();
    if (order === undefined) return render(request, reply, 'errors/404', { message: 'No such order.' }, 404);
    const [refunds, money, disputes, seller, buyer, left, defaults] = await Promise.all([
      listOrderRefunds(app.db, order.id),
      app.db.selectFrom('order_money').selectAll().where('order_id', '=', order.id).executeTakeFirst(),
      app.db.selectFrom('disputes').selectAll().where('order_id', '=', order.id).orderBy('stripe_created').execute(),
      app.db.selectFrom('users').select(['id', 'display_name', 'email']).where('id', '=', order.seller_id).executeTakeFirst(),
      app.db.selectFrom('users').select(['id', 'display_name', 'email']).where('id', '=', order.buyer_id).executeTakeFirst(),
      refundableLeft(app.db, order),
      refundDefaults(app.db),
    ]);
    const events = await relatedEvents(app.db, order, [...refunds.map((r) => r.stripe_refund_id ?? ''), ...disputes.map((d) => d.id)]);
    const refundable = (order.status === 'paid' || order.status === 'partially_refunded') && left > 0;
    return render(request, reply, 'admin/order', {
      order,
      seller, buyer,
      breakdown: orderBreakdown(order, refunds, money, disputes),
      refunds: refunds.map((r) => ({ ...r, formatted: formatMoney(r.amount, r.currency), reversal: r.transfer_reversal_amount === null ? '' : formatMoney(r.transfer_reversal_amount, r.currency) })),
      disputes,
      events,
      refundable,
      refundForm: {
        refundId: randomUUID(),
        amount: toDecimalString(left, order.currency),
        left: formatMoney(left, order.currency),
        reverseTransfer: defaults.reverseTransfer,
        refundApplicationFee: defaults.refundApplicationFee,
        ...(extra.refundForm as object | undefined),
      },
      ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== 'refundForm')),
    }, status);
  }

  app.get<{ Params: Static<typeof OrderParams> }>('/admin/orders/:id', { preHandler: requireAdmin, schema: { params: OrderParams } }, async (request, reply) =>
    renderOrder(request, reply, request.params.id));

  app.post<{ Params: Static<typeof OrderParams>; Body: Static<typeof RefundBody> }>('/admin/orders/:id/refunds', {
    preHandler: requireAdmin, schema: { params: OrderParams, body: RefundBody },
  }, async (request, reply) => {
    const order = await app.db.selectFrom('orders').selectAll().where('id', '=', request.params.id).executeTakeFirst();
    if (order === undefined) return render(request, reply, 'errors/404', { message: 'No such order.' }, 404);
    const body = request.body;
    const reverseTransfer = body.reverse_transfer === 'on';
    const refundApplicationFee = body.refund_application_fee === 'on';
    const kept = { refundId: body.refund_id, amount: body.amount, reverseTransfer, refundApplicationFee };
    const parsed = parseMoney(body.amount, order.currency);
    if (!parsed.ok || parsed.amount <= 0) {
      return renderOrder(request, reply, order.id, { refundError: parsed.ok ? 'Enter an amount above zero.' : parsed.message, refundForm: kept }, 422);
    }
    // Checked before anything else (and again under the order lock in createRefund): nothing goes
    // to Stripe for an amount above what is left.
    const left = await refundableLeft(app.db, order);
    const already = await app.db.selectFrom('refunds').select('id').where('id', '=', body.refund_id).executeTakeFirst();
    if (already === undefined && parsed.amount > left) {
      return renderOrder(request, reply, order.id, {
        refundError: `You can refund at most ${formatMoney(Math.max(0, left), order.currency)}: the order is ${formatMoney(order.amount, order.currency)} and ${formatMoney(order.amount - left, order.currency)} is already refunded or being refunded.`,
        refundForm: kept,
      }, 422);
    }
    if (body.confirm !== 'yes') {
      return render(request, reply, 'admin/confirm', {
        title: 'Confirm refund',
        message: `Refund ${formatMoney(parsed.amount, order.currency)} of order "${order.title}" (${formatMoney(order.amount, order.currency)}) to the buyer?`,
        lines: [
          { label: 'Reverse the seller\'s transfer', value: reverseTransfer ? 'yes, in proportion' : 'no — the platform pays the refund' },
          { label: 'Refund the application fee', value: refundApplicationFee ? 'yes, in proportion' : 'no' },
          { label: 'Reason', value: body.reason ? body.reason.replaceAll('_', ' ') : 'none given' },
        ],
        action: `/admin/orders/${order.id}/refunds`,
        fields: [
          { name: 'refund_id', value: body.refund_id }, { name: 'amount', value: body.amount }, { name: 'reason', value: body.reason ?? '' },
          { name: 'reverse_transfer', value: reverseTransfer ? 'on' : 'off' }, { name: 'refund_application_fee', value: refundApplicationFee ? 'on' : 'off' },
          { name: 'confirm', value: 'yes' },
        ],
        confirmLabel: `Refund ${formatMoney(parsed.amount, order.currency)}`,
        cancelHref: `/admin/orders/${order.id}`,
      });
    }
    const result = await createRefund(app.db, app.stripe, actorOf(request), {
      refundId: body.refund_id, orderId: order.id, amount: parsed.amount, reason: body.reason ? body.reason : null, reverseTransfer, refundApplicationFee,
    });
    if (!result.ok) return renderOrder(request, reply, order.id, { refundError: result.message, refundForm: kept }, result.status === 404 ? 404 : 422);
    setFlash(reply, 'success', result.refund.status === 'succeeded'
      ? `Refunded ${formatMoney(result.refund.amount, result.refund.currency)}.`
      : `Refund of ${formatMoney(result.refund.amount, result.refund.currency)} sent to Stripe; its status is ${result.refund.status.replace('_', ' ')}.`);
    return reply.redirect(`/admin/orders/${order.id}`, 303);
  });

  // A refund whose outcome is unknown (Stripe did not answer) holds its amount until Stripe's events
  // settle it or the admin sends it again: the same key, so Stripe makes at most one refund.
  app.post<{ Params: Static<typeof RefundParams> }>('/admin/orders/:id/refunds/:refundId/retry', {
    preHandler: requireAdmin, schema: { params: RefundParams, body: Type.Object(Csrf) },
  }, async (request, reply) => {
    const { id, refundId } = request.params;
    const row = await app.db.selectFrom('refunds').select(['order_id', 'status']).where('id', '=', refundId).executeTakeFirst();
    if (row === undefined || row.order_id !== id) return render(request, reply, 'errors/404', { message: 'No such refund.' }, 404);
    const result = await driveRefund(app.db, app.stripe, actorOf(request), refundId);
    if (!result.ok) return renderOrder(request, reply, id, { refundError: result.message }, 422);
    setFlash(reply, 'success', `The refund is ${result.refund.status.replace('_', ' ')} at Stripe.`);
    return reply.redirect(`/admin/orders/${id}`, 303);
  });

  // ---- Disputes ----
  app.get('/admin/disputes', { preHandler: requireAdmin }, async (request, reply) => {
    const rows = await app.db.selectFrom('disputes').leftJoin('orders', 'orders.id', 'disputes.order_id')
      .selectAll('disputes').select(['orders.title'])
      .orderBy(({ eb }) => eb.case().when('disputes.status', 'in', CLOSED).then(1).else(0).end())
      .orderBy('disputes.evidence_due_by', 'asc').limit(500).execute();
    return render(request, reply, 'admin/disputes', {
      disputes: rows.map((d) => ({ ...d, formatted: formatMoney(d.amount, d.currency), open: !CLOSED.includes(d.status) })),
    });
  });

  async function renderDispute(request: FastifyRequest, reply: FastifyReply, id: string, extra: Record<string, unknown> = {}, status = 200): Promise<FastifyReply> {
    const dispute = await app.db.selectFrom('disputes').selectAll().where('id', '=', id).executeTakeFirst();
    if (dispute === undefined) return render(request, reply, 'errors/404', { message: 'No such dispute.' }, 404);
    const draft = (extra.draft ?? dispute.evidence_draft ?? {}) as EvidenceDraft;
    const open = !CLOSED.includes(dispute.status);
    return render(request, reply, 'admin/dispute', {
      dispute,
      amount: formatMoney(dispute.amount, dispute.currency),
      recovered: formatMoney(dispute.recovered_amount, dispute.currency),
      repaid: formatMoney(dispute.repaid_amount, dispute.currency),
      draft,
      editable: open && !dispute.evidence_submitted,
      acceptable: dispute.status === 'needs_response' || dispute.status === 'warning_needs_response',
      ...extra,
    }, status);
  }

  app.get<{ Params: Static<typeof DisputeParams> }>('/admin/disputes/:id', { preHandler: requireAdmin, schema: { params: DisputeParams } }, async (request, reply) =>
    renderDispute(request, reply, request.params.id));

  app.post<{ Params: Static<typeof DisputeParams>; Body: Static<typeof EvidenceBody> }>('/admin/disputes/:id/evidence', {
    preHandler: requireAdmin, schema: { params: DisputeParams, body: EvidenceBody },
  }, async (request, reply) => {
    const { id } = request.params;
    const body = request.body as Static<typeof EvidenceBody> & Record<string, string | undefined>;
    const draft: EvidenceDraft = {};
    for (const field of EVIDENCE_FIELDS) { const v = body[field]?.trim(); if (v) draft[field] = v; }
    const exists = await app.db.selectFrom('disputes').select('id').where('id', '=', id).executeTakeFirst();
    if (exists === undefined) return render(request, reply, 'errors/404', { message: 'No such dispute.' }, 404);
    const submit = body.action === 'submit';
    if (submit && body.confirm !== 'yes') {
      return render(request, reply, 'admin/confirm', {
        title: 'Submit evidence',
        message: 'Submit this evidence to the card network? After submitting, the evidence can no longer be changed.',
        lines: EVIDENCE_FIELDS.filter((f) => draft[f]).map((f) => ({ label: f.replaceAll('_', ' '), value: draft[f]! })),
        action: `/admin/disputes/${id}/evidence`,
        fields: [...EVIDENCE_FIELDS.filter((f) => draft[f]).map((f) => ({ name: f, value: draft[f]! })), { name: 'action', value: 'submit' }, { name: 'confirm', value: 'yes' }],
        confirmLabel: 'Submit evidence',
        cancelHref: `/admin/disputes/${id}`,
      });
    }
    const result = await saveEvidence(app.db, app.stripe, actorOf(request), id, draft, submit);
    if (!result.ok) return renderDispute(request, reply, id, { evidenceError: result.message, draft }, 422);
    setFlash(reply, 'success', submit ? 'Evidence submitted to Stripe.' : 'Evidence saved as a draft at Stripe (not submitted).');
    return reply.redirect(`/admin/disputes/${id}`, 303);
  });

  app.post<{ Params: Static<typeof DisputeParams>; Body: Static<typeof AcceptBody> }>('/admin/disputes/:id/accept', {
    preHandler: requireAdmin, schema: { params: DisputeParams, body: AcceptBody },
  }, async (request, reply) => {
    const { id } = request.params;
    const dispute = await app.db.selectFrom('disputes').selectAll().where('id', '=', id).executeTakeFirst();
    if (dispute === undefined) return render(request, reply, 'errors/404', { message: 'No such dispute.' }, 404);
    if (request.body.confirm !== 'yes') {
      return render(request, reply, 'admin/confirm', {
        title: 'Accept dispute',
        message: `Accept this dispute and lose ${formatMoney(dispute.amount, dispute.currency)}? This cannot be undone.`,
        action: `/admin/disputes/${id}/accept`,
        fields: [{ name: 'confirm', value: 'yes' }],
        confirmLabel: 'Accept the dispute',
        cancelHref: `/admin/disputes/${id}`,
      });
    }
    const result = await acceptDispute(app.db, app.stripe, actorOf(request), id);
    if (!result.ok) return renderDispute(request, reply, id, { evidenceError: result.message }, 422);
    setFlash(reply, 'success', 'Dispute accepted and closed.');
    return reply.redirect(`/admin/disputes/${id}`, 303);
  });

  // ---- Policy switches ----
  app.get('/admin/policies', { preHandler: requireAdmin }, async (request, reply) => {
    const settings = await getSettings(app.db);
    return render(request, reply, 'admin/policies', { settings: (Object.keys(SETTINGS) as SettingKey[]).map((key) => ({ key, on: settings[key] })) });
  });

  app.post<{ Body: Static<typeof SettingsBody> }>('/admin/policies', { preHandler: requireAdmin, schema: { body: SettingsBody } }, async (request, reply) => {
    const current = await getSettings(app.db);
    for (const key of Object.keys(SETTINGS) as SettingKey[]) {
      const value = (request.body as Record<string, string | undefined>)[key] === 'on';
      if (value !== current[key]) await setSetting(app.db, actorOf(request), key, value);
    }
    setFlash(reply, 'success', 'Policies saved.');
    return reply.redirect('/admin/policies', 303);
  });
}
