/**
 * `/v1/invoices` (subscription invoices: retrieve, list, lines, update, finalize, pay, void,
 * mark_uncollectible) and `/v1/invoice_payments` (retrieve, list). Standalone invoices
 * (`POST /v1/invoices`, invoice items) are not emulated.
 */
import type Stripe from 'stripe';
import type { ApiRequest } from '../../core/core.ts';
import { p, str, bool, mergeMetadata } from '../../core/params.ts';
import { invalidRequest, cardError } from '../../core/errors.ts';
import type { Billing } from './context.ts';
import { applyIncludes } from './includes.ts';
import { finalizeInvoice, markInvoicePaid, markUncollectible, voidInvoice, subscriptionOfInvoice } from './invoices.ts';
import { collectInvoice, paymentMethodFor } from './collection.ts';
import { subscriptionAfterInvoicePaid } from './subscription-status.ts';
import { previousAttributes, hasChanges } from './diff.ts';
import { prefixed } from './subscription-routes.ts';

const STATUSES = ['draft', 'open', 'paid', 'uncollectible', 'void'];

export function registerInvoiceRoutes(b: Billing): void {
  const { core } = b;
  const respond = (req: ApiRequest, inv: Stripe.Invoice): Stripe.Invoice => applyIncludes(b, inv, req.params.expand);
  const load = (req: ApiRequest): Stripe.Invoice => b.invoices.require(req.pathParams.id ?? '', req.account, 'invoice');

  core.route('GET', '/v1/invoices/:id', {}, (req) => respond(req, load(req)));
  core.route(
    'GET',
    '/v1/invoices',
    {
      list: true,
      params: {
        customer: p.string,
        subscription: p.string,
        status: p.enum(...STATUSES),
        collection_method: p.enum('charge_automatically', 'send_invoice'),
        due_date: p.range,
      },
    },
    (req) => {
      const customer = str(req.params, 'customer');
      const subscription = str(req.params, 'subscription');
      const status = str(req.params, 'status');
      const page = core.paginate(
        req,
        b.invoices.list(
          req.account,
          (i) => (!customer || i.customer === customer) && (!subscription || subscriptionOfInvoice(i) === subscription) && (!status || i.status === status),
        ),
      );
      return { ...page, data: page.data.map((i) => applyIncludes(b, i, prefixed(req.params.expand, 'data.'))) };
    },
  );
  core.route('GET', '/v1/invoices/:id/lines', { list: true }, (req) => {
    const inv = load(req);
    const lines = inv.lines.data.map((l, i) => ({ ...l, created: inv.created, seq: i }));
    const page = core.paginate(req, lines, `/v1/invoices/${inv.id}/lines`);
    return { ...page, data: page.data.map(({ created: _c, seq: _s, ...l }) => l) };
  });
  core.route(
    'POST',
    '/v1/invoices/:id',
    { params: { metadata: p.hash, description: p.string, footer: p.string, default_payment_method: p.string, auto_advance: p.boolean } },
    (req) => {
      const before = load(req);
      const inv: Stripe.Invoice = structuredClone(before);
      const pr = req.params;
      const finalized = before.status !== 'draft';
      if (finalized && (pr.description !== undefined || pr.footer !== undefined)) {
        throw invalidRequest('You can only update the description and footer of a draft invoice.', {
          code: 'invoice_not_editable',
          param: pr.description !== undefined ? 'description' : 'footer',
        });
      }
      if (pr.metadata !== undefined) inv.metadata = mergeMetadata(inv.metadata ?? {}, pr);
      if (pr.description !== undefined) inv.description = str(pr, 'description') ?? null;
      if (pr.footer !== undefined) inv.footer = str(pr, 'footer') ?? null;
      if (pr.default_payment_method !== undefined) {
        const pmId = str(pr, 'default_payment_method') ?? null;
        if (pmId) {
          const pm = b.pay.pms.get(pmId, req.account);
          if (!pm || pm.customer !== inv.customer)
            throw invalidRequest(`No such PaymentMethod: '${pmId}'`, { code: 'resource_missing', param: 'default_payment_method' });
        }
        inv.default_payment_method = pmId;
      }
      const auto = bool(pr, 'auto_advance');
      if (auto !== undefined) inv.auto_advance = auto;
      const saved = b.invoices.save(inv);
      const prev = previousAttributes(before, saved);
      if (hasChanges(prev)) core.emitEvent({ type: 'invoice.updated', object: saved, account: req.account, previousAttributes: prev });
      return respond(req, saved);
    },
  );
  core.route('POST', '/v1/invoices/:id/finalize', { params: { auto_advance: p.boolean } }, (req) => {
    const inv = load(req);
    const { invoice } = finalizeInvoice(b, req.account, inv.id, paymentMethodFor(b, req.account, inv));
    return respond(req, invoice);
  });
  core.route(
    'POST',
    '/v1/invoices/:id/pay',
    { params: { payment_method: p.string, off_session: p.boolean, paid_out_of_band: p.boolean, forgive: p.boolean, mandate: p.string, source: p.string } },
    (req) => {
      let inv = load(req);
      if (inv.status === 'draft') inv = finalizeInvoice(b, req.account, inv.id, paymentMethodFor(b, req.account, inv)).invoice;
      if (inv.status === 'paid') throw invalidRequest('Invoice is already paid', { code: 'invoice_already_paid' });
      if (inv.status === 'void') throw invalidRequest('This invoice has been voided and can no longer be paid.', { code: 'invoice_not_open' });
      if (bool(req.params, 'paid_out_of_band')) {
        const paid = markInvoicePaid(b, req.account, inv.id, { attempted: false, outOfBand: true });
        const subId = subscriptionOfInvoice(paid);
        if (subId) subscriptionAfterInvoicePaid(b, req.account, subId, paid, null);
        return respond(req, b.invoices.require(inv.id, req.account));
      }
      const pmId = str(req.params, 'payment_method');
      const pm = pmId ? b.pay.resolvePaymentMethod(req.account, pmId) : undefined;
      const { invoice, outcome } = collectInvoice(b, req.account, inv.id, {
        automatic: false,
        offSession: bool(req.params, 'off_session') ?? true,
        paymentMethod: pm?.id,
      });
      if (outcome.kind === 'no_payment_method') {
        throw invalidRequest('This invoice cannot be paid: the customer has no default payment method and none was given.', {
          code: 'invoice_no_payment_method_types',
          param: 'payment_method',
        });
      }
      if (outcome.kind === 'declined') {
        const err = outcome.pi.last_payment_error;
        throw cardError(err?.message ?? outcome.message, {
          code: err?.code ?? outcome.code,
          ...(err?.decline_code ? { decline_code: err.decline_code } : {}),
          extra: { payment_intent: outcome.pi },
        });
      }
      if (outcome.kind === 'requires_action') {
        throw cardError(
          'This payment requires additional user action before it can be completed successfully. Payment can be completed using the PaymentIntent associated with the invoice.',
          {
            code: 'invoice_payment_intent_requires_action',
            extra: { payment_intent: outcome.pi },
          },
        );
      }
      return respond(req, invoice);
    },
  );
  core.route('POST', '/v1/invoices/:id/void', {}, (req) => respond(req, voidInvoice(b, req.account, load(req).id)));
  core.route('POST', '/v1/invoices/:id/mark_uncollectible', {}, (req) => respond(req, markUncollectible(b, req.account, load(req).id, 'user_forgiven')));

  core.route('GET', '/v1/invoice_payments/:id', {}, (req) => b.invoicePayments.require(req.pathParams.id ?? '', req.account));
  core.route(
    'GET',
    '/v1/invoice_payments',
    {
      list: true,
      params: {
        invoice: p.string,
        status: p.enum('open', 'paid', 'canceled'),
        payment: p.object({ type: p.enum('payment_intent', 'payment_record'), payment_intent: p.string, payment_record: p.string }, ['type']),
      },
    },
    (req) => {
      const invoice = str(req.params, 'invoice');
      const status = str(req.params, 'status');
      const pi = str(req.params, 'payment.payment_intent');
      return core.paginate(
        req,
        b.invoicePayments.list(
          req.account,
          (x) => (!invoice || x.invoice === invoice) && (!status || x.status === status) && (!pi || x.payment.payment_intent === pi),
        ),
      );
    },
  );
}
