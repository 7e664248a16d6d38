/** `/v1/disputes` routes: retrieve, update (evidence, submit), close, list. */
import type { EmulatorCore } from '../../../core/core.ts';
import { p, str, bool, obj, mergeMetadata } from '../../../core/params.ts';
import { invalidRequest } from '../../../core/errors.ts';
import { EVIDENCE_FIELDS } from '../objects.ts';
import { closeDispute, updateDispute } from '../disputes.ts';
import type { Payments } from '../state.ts';

export function registerDisputeRoutes(core: EmulatorCore, pay: Payments): void {
  const evidenceSpec = Object.fromEntries([
    ...EVIDENCE_FIELDS.map((k) => [k, p.string] as const),
    ['shipping_address', p.any] as const,
    ['enhanced_evidence', p.any] as const,
  ]);
  core.route('GET', '/v1/disputes/:id', {}, (req) => pay.disputes.require(req.pathParams.id ?? '', req.account));
  core.route(
    'POST',
    '/v1/disputes/:id',
    {
      params: {
        evidence: p.object(evidenceSpec),
        submit: p.boolean,
        metadata: p.hash,
        intended_submission_method: p.enum('manual', 'prefer_manual', 'prefer_smart_disputes', 'smart_disputes'),
      },
    },
    (req) => {
      const ev = obj(req.params, 'evidence');
      const evidence: Record<string, string> | undefined = ev
        ? Object.fromEntries(
            Object.entries(ev)
              .filter(([, v]) => typeof v === 'string')
              .map(([k, v]) => [k, String(v)]),
          )
        : undefined;
      const total = evidence ? Object.values(evidence).reduce((n, v) => n + v.length, 0) : 0;
      if (total > 150_000) throw invalidRequest('The evidence is too long: the combined text may be at most 150,000 characters.', { param: 'evidence' });
      const d = pay.disputes.require(req.pathParams.id ?? '', req.account);
      return updateDispute(pay, req.account, d.id, {
        evidence,
        submit: bool(req.params, 'submit'),
        metadata: req.params.metadata !== undefined ? mergeMetadata(d.metadata, req.params) : undefined,
      });
    },
  );
  core.route('POST', '/v1/disputes/:id/close', {}, (req) => closeDispute(pay, req.account, req.pathParams.id ?? ''));
  core.route('GET', '/v1/disputes', { list: true, params: { charge: p.string, payment_intent: p.string } }, (req) => {
    const ch = str(req.params, 'charge');
    const pi = str(req.params, 'payment_intent');
    return core.paginate(
      req,
      pay.disputes.list(req.account, (d) => (ch ? d.charge === ch : true) && (pi ? d.payment_intent === pi : true)),
    );
  });
}
