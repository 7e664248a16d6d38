/** `/v1/charges` routes: retrieve, update, list. Charges are made by PaymentIntents only. */
import type { EmulatorCore } from '../../../core/core.ts';
import { p, str, mergeMetadata } from '../../../core/params.ts';
import { invalidRequest } from '../../../core/errors.ts';
import type { Payments } from '../state.ts';

export function registerChargeRoutes(core: EmulatorCore, pay: Payments): void {
  core.route('GET', '/v1/charges/:id', {}, (req) => pay.charges.require(req.pathParams.id ?? '', req.account));
  core.route(
    'POST',
    '/v1/charges/:id',
    { params: { metadata: p.hash, description: p.string, receipt_email: p.string, fraud_details: p.any, shipping: p.any, transfer_group: p.string } },
    (req) => {
      const c = pay.charges.require(req.pathParams.id ?? '', req.account);
      const prev: Record<string, unknown> = {};
      if (req.params.metadata !== undefined) {
        prev.metadata = c.metadata;
        c.metadata = mergeMetadata(c.metadata, req.params);
      }
      if (req.params.description !== undefined) {
        prev.description = c.description;
        c.description = str(req.params, 'description') ?? null;
      }
      if (req.params.receipt_email !== undefined) {
        prev.receipt_email = c.receipt_email;
        c.receipt_email = str(req.params, 'receipt_email') ?? null;
      }
      const saved = pay.charges.save(c);
      core.emitEvent({ type: 'charge.updated', object: saved, account: req.account, previousAttributes: prev });
      return saved;
    },
  );
  core.route('GET', '/v1/charges', { list: true, params: { payment_intent: p.string, customer: p.string, transfer_group: p.string } }, (req) => {
    const pi = str(req.params, 'payment_intent');
    const tg = str(req.params, 'transfer_group');
    return core.paginate(
      req,
      pay.charges.list(req.account, (c) => (pi ? c.payment_intent === pi : true) && (tg ? c.transfer_group === tg : true)),
    );
  });
  core.route('POST', '/v1/charges', { params: { amount: p.integer, currency: p.string, source: p.string } }, () => {
    throw invalidRequest('The emulator supports PaymentIntents only; create a PaymentIntent instead of a Charge.', { param: 'source' });
  });
}
