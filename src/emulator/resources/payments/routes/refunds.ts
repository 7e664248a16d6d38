/** `/v1/refunds` routes: create, retrieve, update, cancel, list. */
import type { EmulatorCore } from '../../../core/core.ts';
import { p, str, int, bool, mergeMetadata } from '../../../core/params.ts';
import { cancelRefund, createRefund } from '../refunds.ts';
import { metadataOf } from '../param-readers.ts';
import type { Payments } from '../state.ts';

export function registerRefundRoutes(core: EmulatorCore, pay: Payments): void {
  core.route(
    'POST',
    '/v1/refunds',
    {
      params: {
        charge: p.string,
        payment_intent: p.string,
        amount: p.integer,
        reason: p.enum('duplicate', 'fraudulent', 'requested_by_customer'),
        reverse_transfer: p.boolean,
        refund_application_fee: p.boolean,
        metadata: p.hash,
        instructions_email: p.string,
        origin: p.enum('customer_balance'),
        customer: p.string,
      },
    },
    (req) =>
      createRefund(pay, req.account, {
        charge: str(req.params, 'charge'),
        payment_intent: str(req.params, 'payment_intent'),
        amount: int(req.params, 'amount'),
        reason: str(req.params, 'reason'),
        reverse_transfer: bool(req.params, 'reverse_transfer'),
        refund_application_fee: bool(req.params, 'refund_application_fee'),
        metadata: metadataOf(req.params),
      }),
  );
  core.route('GET', '/v1/refunds/:id', {}, (req) => pay.refunds.require(req.pathParams.id ?? '', req.account));
  core.route('POST', '/v1/refunds/:id', { params: { metadata: p.hash } }, (req) => {
    const r = pay.refunds.require(req.pathParams.id ?? '', req.account);
    const prev = { metadata: r.metadata };
    r.metadata = mergeMetadata(r.metadata ?? {}, req.params);
    const saved = pay.refunds.save(r);
    core.emitEvent({ type: 'refund.updated', object: saved, account: req.account, previousAttributes: prev });
    return saved;
  });
  core.route('POST', '/v1/refunds/:id/cancel', {}, (req) => cancelRefund(pay, req.account, req.pathParams.id ?? ''));
  core.route('GET', '/v1/refunds', { list: true, params: { charge: p.string, payment_intent: p.string } }, (req) => {
    const ch = str(req.params, 'charge');
    const pi = str(req.params, 'payment_intent');
    return core.paginate(
      req,
      pay.refunds.list(req.account, (r) => (ch ? r.charge === ch : true) && (pi ? r.payment_intent === pi : true)),
    );
  });
}
