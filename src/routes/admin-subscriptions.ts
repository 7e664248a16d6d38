// Admin: subscriptions and their invoices (filters, the money breakdown of each invoice's payment),
// cancel now or at period end, refund an invoice's payment. Registered inside the admin area; every
// action writes the audit log (src/subscriptions/admin-use-cases.ts).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { readCursor } from '../admin/list-filters.ts';
import { cursorText } from '../db/paging.ts';
import { UUID_PATTERN } from '../ids.ts';
import type { InvoiceStatus, SubscriptionStatus } from '../db/schema.ts';
import { found } from '../errors.ts';
import { actorOf } from '../http/areas.ts';
import { problemOf } from '../http/errors.ts';
import { render, setFlash } from '../http/render.ts';
import { Csrf, IdParams, OnOff, Text, Type, Uuid, UuidOrEmpty } from '../http/schemas.ts';
import { toDecimalString } from '../money.ts';
import { sellerNames } from '../sellers/queries.ts';
import { adminCancelSubscription, refundInvoice } from '../subscriptions/admin-use-cases.ts';
import { findInvoice, findSubscription, listInvoices, listSubscriptions } from '../subscriptions/queries.ts';
import { adminSubscriptionView, invoiceView } from '../subscriptions/reports.ts';
import { statusBadge, statusWords } from '../subscriptions/rules.ts';

const SUB_STATUSES: SubscriptionStatus[] = ['pending', 'incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', 'unpaid', 'canceled', 'paused'];
const INVOICE_STATUSES: InvoiceStatus[] = ['draft', 'open', 'paid', 'uncollectible', 'void'];
const SubscriptionsQuery = Type.Object({
  status: Type.Optional(Type.Enum(['', ...SUB_STATUSES])),
  seller: Type.Optional(UuidOrEmpty),
  before: Type.Optional(Text({ maxLength: 400 })),
});
const InvoicesQuery = Type.Object({ status: Type.Optional(Type.Enum(['', ...INVOICE_STATUSES])), seller: Type.Optional(UuidOrEmpty) });
const CancelBody = Type.Object({ mode: Type.Union([Type.Literal('now'), Type.Literal('period_end')]), ...Csrf });
const InvoiceParams = Type.Object({ id: Type.String({ pattern: '^in_[A-Za-z0-9_]{1,250}$' }) });
const RefundBody = Type.Object({
  refund_id: Uuid,
  amount: Text({ minLength: 1, maxLength: 20 }),
  reverse_transfer: OnOff,
  refund_application_fee: OnOff,
  ...Csrf,
});

export const adminSubscriptionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/admin/subscriptions', { schema: { querystring: SubscriptionsQuery } }, async (request, reply) => {
    const q = request.query;
    const before = readCursor(q.before, new RegExp(UUID_PATTERN));
    if (!before.ok) return render(request, reply, 'errors/400', { message: before.message, status: 400 }, 400);
    const page = await listSubscriptions(app.db, { status: q.status || undefined, sellerId: q.seller || undefined, before: before.value });
    const next = new URLSearchParams();
    for (const key of ['status', 'seller'] as const) if (q[key]) next.set(key, q[key]);
    if (page.next !== null) next.set('before', cursorText(page.next));
    const sellers = await sellerNames(app.db);
    return render(request, reply, 'admin/subscriptions', {
      title: 'Subscriptions',
      subscriptions: page.rows.map((s) => ({ ...s, statusLabel: statusWords(s.status, s.cancel_at_period_end), badgeClass: statusBadge(s.status) })),
      statuses: SUB_STATUSES.map((s) => ({ value: s, selected: s === q.status })),
      sellers: sellers.map((s) => ({ ...s, selected: s.id === q.seller })),
      nextPage: page.next !== null ? `/admin/subscriptions?${next.toString()}` : null,
    });
  });

  app.get('/admin/subscriptions/:id', { schema: { params: IdParams } }, async (request, reply) => renderSubscription(request, reply, request.params.id));

  app.post('/admin/subscriptions/:id/cancel', { schema: { params: IdParams, body: CancelBody } }, async (request, reply) => {
    const row = found(await findSubscription(app.db, request.params.id));
    try {
      await adminCancelSubscription(app.db, app.stripe, actorOf(request), row.id, request.body.mode);
      setFlash(reply, 'success', request.body.mode === 'now' ? 'The subscription is canceled.' : 'The subscription ends at the end of its period.');
    } catch (error) {
      setFlash(reply, 'error', problemOf(error).message);
    }
    return reply.redirect(`/admin/subscriptions/${row.id}`, 303);
  });

  app.get('/admin/invoices', { schema: { querystring: InvoicesQuery } }, async (request, reply) => {
    const q = request.query;
    const invoices = await listInvoices(app.db, { status: q.status || undefined, sellerId: q.seller || undefined });
    const sellers = await sellerNames(app.db);
    return render(request, reply, 'admin/invoices', {
      title: 'Invoices',
      invoices: invoices.map((i) => ({ ...invoiceView(i), plan_name: i.plan_name, seller_name: i.seller_name, our_subscription_id: i.our_subscription_id })),
      statuses: INVOICE_STATUSES.map((s) => ({ value: s, selected: s === q.status })),
      sellers: sellers.map((s) => ({ ...s, selected: s.id === q.seller })),
    });
  });

  app.post('/admin/invoices/:id/refunds', { schema: { params: InvoiceParams, body: RefundBody } }, async (request, reply) => {
    const invoice = found(await findInvoice(app.db, request.params.id));
    try {
      const refund = await refundInvoice(app.db, app.stripe, actorOf(request), {
        refundId: request.body.refund_id,
        invoiceId: invoice.id,
        amount: request.body.amount,
        reverseTransfer: request.body.reverse_transfer === 'on',
        refundApplicationFee: request.body.refund_application_fee === 'on',
      });
      setFlash(reply, 'success', `Refund ${refund.status}.`);
    } catch (error) {
      setFlash(reply, 'error', problemOf(error).message);
    }
    return reply.redirect(invoice.subscription_id === null ? '/admin/invoices' : `/admin/subscriptions/${invoice.subscription_id}`, 303);
  });

  async function renderSubscription(request: FastifyRequest, reply: FastifyReply, id: string): Promise<FastifyReply> {
    const { subscription: row, invoices, refunds, audit } = await adminSubscriptionView(app.db, id);
    return render(request, reply, 'admin/subscription', {
      title: 'Subscription',
      subscription: { ...row, statusLabel: statusWords(row.status, row.cancel_at_period_end), feePercent: row.fee_basis_points / 100 },
      live: !['pending', 'incomplete_expired', 'canceled'].includes(row.status),
      invoices: invoices.map((i) => ({
        ...invoiceView(i),
        refundId: randomUUID(),
        refundable: i.status === 'paid' && i.stripe_charge_id !== null,
        defaultAmount: toDecimalString(Math.max(0, i.amount_paid - i.amount_refunded), i.currency),
        refunds: refunds.filter((r) => r.invoice_id === i.id),
      })),
      audit,
    });
  }
};
