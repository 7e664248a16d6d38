// Admin: orders (filters, keyset pages, money breakdown, related Stripe events), refunds and
// disputes (deadline-sorted list, evidence draft/submit, accept). Registered inside the admin area.
// Moving money asks for confirmation: the first post renders what will happen, the confirmed post
// does it.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { disputePage, orderPage } from '../admin/pages.ts';
import { readCursor, readDay } from '../admin/list-filters.ts';
import { cursorText } from '../db/paging.ts';
import type { OrderStatus } from '../db/schema.ts';
import { findDispute, listDisputes } from '../disputes/queries.ts';
import { CLOSED, EVIDENCE_FIELDS, isOpen, type EvidenceDraft } from '../disputes/rules.ts';
import { acceptDispute, saveEvidence } from '../disputes/use-cases.ts';
import { found } from '../errors.ts';
import { actorOf } from '../http/areas.ts';
import { problemOf } from '../http/errors.ts';
import { render, setFlash } from '../http/render.ts';
import { Csrf, CsrfOnlyBody, MultilineText, OnOff, Text, Type, Uuid, UuidOrEmpty } from '../http/schemas.ts';
import { formatMoney, toDecimalString } from '../money.ts';
import { UUID_PATTERN } from '../ids.ts';
import { listOrders } from '../orders/queries.ts';
import { sellerDisputeNet, wasCharged } from '../orders/rules.ts';
import { disputeWords } from '../orders/seller-orders.ts';
import { findRefund } from '../refunds/queries.ts';
import { listOrderRefundRequests } from '../refund-requests/queries.ts';
import { previewRefund, requestRefund, sendRefund, type RefundRequest } from '../refunds/use-cases.ts';
import { sellerNames } from '../sellers/queries.ts';

const ORDER_STATUSES: OrderStatus[] = ['pending', 'paid', 'payment_failed', 'canceled', 'partially_refunded', 'refunded'];
const ORDER_ID = new RegExp(UUID_PATTERN);
const OrdersQuery = Type.Object({
  status: Type.Optional(Type.Enum(['', ...ORDER_STATUSES])),
  seller: Type.Optional(UuidOrEmpty),
  // Days and the keyset cursor ("<created_at ISO>|<order id>" of the last row on the previous page)
  // are read strictly by the handler, which answers a bad one with the list and a message.
  from: Type.Optional(Text({ maxLength: 40 })),
  to: Type.Optional(Text({ maxLength: 40 })),
  before: Type.Optional(Text({ maxLength: 400 })),
  /** Search: an order id, a buyer's email, a seller, or a Stripe id (src/orders/queries.ts, orderSearch). */
  q: Type.Optional(Text({ maxLength: 254 })),
});
const OrderParams = Type.Object({ id: Uuid });
const RefundParams = Type.Object({ id: Uuid, refundId: Uuid });
const RefundBody = Type.Object({
  refund_id: Uuid,
  amount: Text({ minLength: 1, maxLength: 20 }),
  reason: Type.Optional(Type.Union([Type.Literal(''), Type.Literal('duplicate'), Type.Literal('fraudulent'), Type.Literal('requested_by_customer')])),
  reverse_transfer: OnOff,
  refund_application_fee: OnOff,
  confirm: Type.Optional(Type.Literal('yes')),
  ...Csrf,
});
const DisputeParams = Type.Object({ id: Type.String({ pattern: '^du_[A-Za-z0-9_]{1,250}$' }) });
const EvidenceBody = Type.Object({
  product_description: Type.Optional(MultilineText({ maxLength: 20_000 })),
  customer_communication: Type.Optional(MultilineText({ maxLength: 20_000 })),
  receipt: Type.Optional(MultilineText({ maxLength: 20_000 })),
  shipping_carrier: Type.Optional(Text({ maxLength: 20_000 })),
  shipping_tracking_number: Type.Optional(Text({ maxLength: 20_000 })),
  uncategorized_text: Type.Optional(MultilineText({ maxLength: 20_000 })),
  action: Type.Union([Type.Literal('draft'), Type.Literal('submit')]),
  confirm: Type.Optional(Type.Literal('yes')),
  ...Csrf,
});
const AcceptBody = Type.Object({ confirm: Type.Optional(Type.Literal('yes')), ...Csrf });

export const adminOrderRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // ---- Orders ----
  app.get('/admin/orders', { schema: { querystring: OrdersQuery } }, async (request, reply) => {
    const q = request.query;
    const from = readDay(q.from, 'From'),
      to = readDay(q.to, 'To'),
      before = readCursor(q.before, ORDER_ID);
    const form = {
      statuses: ORDER_STATUSES.map((s) => ({ value: s, selected: s === q.status })),
      sellers: (await sellerNames(app.db)).map((s) => ({ ...s, selected: s.id === q.seller })),
      filter: { from: q.from ?? '', to: q.to ?? '', q: q.q ?? '' },
    };
    if (!from.ok || !to.ok || !before.ok) {
      const filterError = [from, to, before].flatMap((read) => (read.ok ? [] : [read.message])).join(' ');
      return render(request, reply, 'admin/orders', { ...form, orders: [], filterError, nextPage: null }, 400);
    }
    const page = await listOrders(app.db, {
      status: q.status || undefined,
      sellerId: q.seller || undefined,
      fromDay: from.value,
      toDay: to.value,
      q: q.q || undefined,
      before: before.value,
    });
    const next = new URLSearchParams();
    for (const key of ['status', 'seller', 'from', 'to', 'q'] as const) if (q[key]) next.set(key, q[key]);
    if (page.next !== null) next.set('before', cursorText(page.next));
    return render(request, reply, 'admin/orders', {
      ...form,
      orders: page.rows.map((o) => ({
        ...o,
        gross: formatMoney(o.amount, o.currency),
        fee: wasCharged(o.status) ? formatMoney(o.application_fee_amount, o.currency) : '—',
        refunded: formatMoney(o.amount_refunded, o.currency),
      })),
      nextPage: page.next !== null ? `/admin/orders?${next.toString()}` : null,
    });
  });

  async function renderOrder(
    request: FastifyRequest,
    reply: FastifyReply,
    orderId: string,
    extra: { refundError?: string; refundForm?: object } = {},
    status = 200,
  ): Promise<FastifyReply> {
    const page = await orderPage(app.db, orderId);
    const { order } = page;
    return render(
      request,
      reply,
      'admin/order',
      {
        order,
        seller: page.seller,
        buyer: page.buyer,
        breakdown: page.breakdown,
        refunds: page.refunds.map((r) => ({
          ...r,
          formatted: formatMoney(r.amount, r.currency),
          reversal: r.transfer_reversal_amount === null ? '' : formatMoney(r.transfer_reversal_amount, r.currency),
        })),
        disputes: page.disputes,
        events: page.events,
        refundable: page.refundable,
        chargeback: page.chargeback,
        refundForm: {
          refundId: randomUUID(),
          amount: toDecimalString(page.left, order.currency),
          left: formatMoney(page.left, order.currency),
          reverseTransfer: page.defaults.reverseTransfer,
          refundApplicationFee: page.defaults.refundApplicationFee,
          ...extra.refundForm,
        },
        refundError: extra.refundError,
        refundRequests: await listOrderRefundRequests(app.db, order.id),
        decideBase: `/admin/orders/${order.id}/refund-requests`,
      },
      status,
    );
  }

  app.get('/admin/orders/:id', { schema: { params: OrderParams } }, async (request, reply) => renderOrder(request, reply, request.params.id));

  app.post('/admin/orders/:id/refunds', { schema: { params: OrderParams, body: RefundBody } }, async (request, reply) => {
    const body = request.body;
    const refund: RefundRequest = {
      refundId: body.refund_id,
      orderId: request.params.id,
      amount: body.amount,
      reason: body.reason ? body.reason : null,
      reverseTransfer: body.reverse_transfer === 'on',
      refundApplicationFee: body.refund_application_fee === 'on',
    };
    const kept = { refundId: refund.refundId, amount: body.amount, reverseTransfer: refund.reverseTransfer, refundApplicationFee: refund.refundApplicationFee };
    try {
      if (body.confirm !== 'yes') return await confirmRefund(request, reply, refund);
      const done = await requestRefund(app.db, app.stripe, actorOf(request), refund);
      setFlash(
        reply,
        'success',
        done.status === 'succeeded'
          ? `Refunded ${formatMoney(done.amount, done.currency)}.`
          : `Refund of ${formatMoney(done.amount, done.currency)} sent to Stripe; its status is ${done.status.replace('_', ' ')}.`,
      );
      return reply.redirect(`/admin/orders/${request.params.id}`, 303);
    } catch (error) {
      const problem = problemOf(error);
      if (problem.code === 'not_found') throw error;
      return renderOrder(request, reply, request.params.id, { refundError: problem.message, refundForm: kept }, problem.status);
    }
  });

  async function confirmRefund(request: FastifyRequest, reply: FastifyReply, refund: RefundRequest): Promise<FastifyReply> {
    const { order, amount } = await previewRefund(app.db, refund);
    return render(request, reply, 'admin/confirm', {
      title: 'Confirm refund',
      message: `Refund ${formatMoney(amount, order.currency)} of order "${order.title}" (${formatMoney(order.amount, order.currency)}) to the buyer?`,
      lines: [
        { label: "Reverse the seller's transfer", value: refund.reverseTransfer ? 'yes, in proportion' : 'no — the platform pays the refund' },
        { label: 'Refund the application fee', value: refund.refundApplicationFee ? 'yes, in proportion' : 'no' },
        { label: 'Reason', value: refund.reason ? refund.reason.replaceAll('_', ' ') : 'none given' },
      ],
      action: `/admin/orders/${order.id}/refunds`,
      fields: [
        { name: 'refund_id', value: refund.refundId },
        { name: 'amount', value: refund.amount },
        { name: 'reason', value: refund.reason ?? '' },
        { name: 'reverse_transfer', value: refund.reverseTransfer ? 'on' : 'off' },
        { name: 'refund_application_fee', value: refund.refundApplicationFee ? 'on' : 'off' },
        { name: 'confirm', value: 'yes' },
      ],
      confirmLabel: `Refund ${formatMoney(amount, order.currency)}`,
      cancelHref: `/admin/orders/${order.id}`,
    });
  }

  // A refund whose outcome is unknown (Stripe did not answer) holds its amount until Stripe's events
  // settle it or the admin sends it again: the same key, so Stripe makes at most one refund.
  app.post('/admin/orders/:id/refunds/:refundId/retry', { schema: { params: RefundParams, body: CsrfOnlyBody } }, async (request, reply) => {
    const { id, refundId } = request.params;
    found((await findRefund(app.db, refundId))?.order_id === id ? refundId : undefined);
    try {
      const refund = await sendRefund(app.db, app.stripe, actorOf(request), refundId);
      setFlash(reply, 'success', `The refund is ${refund.status.replace('_', ' ')} at Stripe.`);
      return reply.redirect(`/admin/orders/${id}`, 303);
    } catch (error) {
      const problem = problemOf(error);
      return renderOrder(request, reply, id, { refundError: problem.message }, problem.status);
    }
  });

  // ---- Disputes ----
  app.get('/admin/disputes', async (request, reply) => {
    const rows = await listDisputes(app.db);
    return render(request, reply, 'admin/disputes', {
      disputes: rows.map((d) => ({
        ...d,
        formatted: formatMoney(d.amount, d.currency),
        open: !CLOSED.includes(d.status),
        statusWords: disputeWords(d.status),
        reasonWords: d.reason.replaceAll('_', ' '),
      })),
    });
  });

  async function renderDispute(
    request: FastifyRequest,
    reply: FastifyReply,
    id: string,
    extra: { evidenceError?: string; draft?: EvidenceDraft } = {},
    status = 200,
  ): Promise<FastifyReply> {
    const { dispute, order, seller, buyer } = await disputePage(app.db, id);
    const open = isOpen(dispute);
    return render(
      request,
      reply,
      'admin/dispute',
      {
        dispute,
        order,
        seller,
        buyer,
        statusWords: disputeWords(dispute.status),
        reasonWords: dispute.reason.replaceAll('_', ' '),
        amount: formatMoney(dispute.amount, dispute.currency),
        recovered: formatMoney(dispute.recovered_amount, dispute.currency),
        repaid: formatMoney(dispute.repaid_amount, dispute.currency),
        fee: formatMoney(dispute.dispute_fee, dispute.currency),
        sellerNet: formatMoney(sellerDisputeNet({ recovered: dispute.recovered_amount, repaid: dispute.repaid_amount }), dispute.currency),
        draft: extra.draft ?? dispute.evidence_draft ?? {},
        editable: open && !dispute.evidence_submitted,
        acceptable: dispute.status === 'needs_response' || dispute.status === 'warning_needs_response',
        evidenceError: extra.evidenceError,
      },
      status,
    );
  }

  app.get('/admin/disputes/:id', { schema: { params: DisputeParams } }, async (request, reply) => renderDispute(request, reply, request.params.id));

  app.post('/admin/disputes/:id/evidence', { schema: { params: DisputeParams, body: EvidenceBody } }, async (request, reply) => {
    const { id } = request.params;
    const body = request.body;
    const draft: EvidenceDraft = {};
    for (const field of EVIDENCE_FIELDS) {
      const v = body[field]?.trim();
      if (v) draft[field] = v;
    }
    found(await findDispute(app.db, id));
    const submit = body.action === 'submit';
    if (submit && body.confirm !== 'yes') {
      return render(request, reply, 'admin/confirm', {
        title: 'Submit evidence',
        message: 'Submit this evidence to the card network? After submitting, the evidence can no longer be changed.',
        lines: EVIDENCE_FIELDS.filter((f) => draft[f]).map((f) => ({ label: f.replaceAll('_', ' '), value: draft[f]! })),
        action: `/admin/disputes/${id}/evidence`,
        fields: [
          ...EVIDENCE_FIELDS.filter((f) => draft[f]).map((f) => ({ name: f, value: draft[f]! })),
          { name: 'action', value: 'submit' },
          { name: 'confirm', value: 'yes' },
        ],
        confirmLabel: 'Submit evidence',
        cancelHref: `/admin/disputes/${id}`,
      });
    }
    try {
      await saveEvidence(app.db, app.stripe, actorOf(request), id, draft, submit);
    } catch (error) {
      const problem = problemOf(error);
      return renderDispute(request, reply, id, { evidenceError: problem.message, draft }, problem.status);
    }
    setFlash(reply, 'success', submit ? 'Evidence submitted to Stripe.' : 'Evidence saved as a draft at Stripe (not submitted).');
    return reply.redirect(`/admin/disputes/${id}`, 303);
  });

  app.post('/admin/disputes/:id/accept', { schema: { params: DisputeParams, body: AcceptBody } }, async (request, reply) => {
    const { id } = request.params;
    if (request.body.confirm !== 'yes') {
      const dispute = found(await findDispute(app.db, id));
      return render(request, reply, 'admin/confirm', {
        title: 'Accept dispute',
        message: `Accept this dispute and lose ${formatMoney(dispute.amount, dispute.currency)}? This cannot be undone.`,
        action: `/admin/disputes/${id}/accept`,
        fields: [{ name: 'confirm', value: 'yes' }],
        confirmLabel: 'Accept the dispute',
        cancelHref: `/admin/disputes/${id}`,
      });
    }
    try {
      await acceptDispute(app.db, app.stripe, actorOf(request), id);
    } catch (error) {
      const problem = problemOf(error);
      if (problem.code === 'not_found') throw error;
      return renderDispute(request, reply, id, { evidenceError: problem.message }, problem.status);
    }
    setFlash(reply, 'success', 'Dispute accepted and closed.');
    return reply.redirect(`/admin/disputes/${id}`, 303);
  });
};
