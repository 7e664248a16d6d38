/** `/v1/transfers` (and reversals) and `/v1/application_fees` (and fee refunds) routes. */
import type { EmulatorCore, ApiRequest } from '../../../core/core.ts';
import { p, str, int, bool, mergeMetadata } from '../../../core/params.ts';
import { invalidRequest, resourceMissing } from '../../../core/errors.ts';
import { createTransfer, reverseTransfer } from '../transfers.ts';
import { refundFee } from '../application-fees.ts';
import { metadataOf } from '../param-readers.ts';
import type { Payments } from '../state.ts';

export function registerTransferAndFeeRoutes(core: EmulatorCore, pay: Payments): void {
  const platformOnly = (req: ApiRequest, what: string): void => {
    if (!req.isPlatform) throw invalidRequest(`${what} can only be made by the platform (without the Stripe-Account header).`);
  };
  core.route(
    'POST',
    '/v1/transfers',
    {
      required: ['amount', 'currency', 'destination'],
      params: {
        amount: p.integer,
        currency: p.string,
        destination: p.string,
        source_transaction: p.string,
        transfer_group: p.string,
        metadata: p.hash,
        description: p.string,
        source_type: p.enum('bank_account', 'card', 'fpx'),
      },
    },
    (req) => {
      platformOnly(req, 'Transfers');
      return createTransfer(pay, {
        amount: int(req.params, 'amount') ?? 0,
        currency: str(req.params, 'currency') ?? '',
        destination: str(req.params, 'destination') ?? '',
        source_transaction: str(req.params, 'source_transaction'),
        transfer_group: str(req.params, 'transfer_group'),
        metadata: metadataOf(req.params),
        description: str(req.params, 'description'),
      });
    },
  );
  core.route('GET', '/v1/transfers/:id', {}, (req) => pay.transfers.require(req.pathParams.id ?? '', req.account));
  core.route('POST', '/v1/transfers/:id', { params: { metadata: p.hash, description: p.string } }, (req) => {
    const t = pay.transfers.require(req.pathParams.id ?? '', req.account);
    const prev: Record<string, unknown> = {};
    if (req.params.metadata !== undefined) {
      prev.metadata = t.metadata;
      t.metadata = mergeMetadata(t.metadata, req.params);
    }
    if (req.params.description !== undefined) {
      prev.description = t.description;
      t.description = str(req.params, 'description') ?? null;
    }
    const saved = pay.transfers.save(t);
    core.emitEvent({ type: 'transfer.updated', object: saved, previousAttributes: prev });
    return saved;
  });
  core.route('GET', '/v1/transfers', { list: true, params: { destination: p.string, transfer_group: p.string } }, (req) => {
    const dest = str(req.params, 'destination');
    const tg = str(req.params, 'transfer_group');
    return core.paginate(
      req,
      pay.transfers.list(req.account, (t) => (dest ? t.destination === dest : true) && (tg ? t.transfer_group === tg : true)),
    );
  });
  core.route(
    'POST',
    '/v1/transfers/:id/reversals',
    { params: { amount: p.integer, refund_application_fee: p.boolean, metadata: p.hash, description: p.string } },
    (req) => {
      platformOnly(req, 'Transfer reversals');
      const t = pay.transfers.require(req.pathParams.id ?? '', req.account);
      const amount = int(req.params, 'amount') ?? t.amount - t.amount_reversed;
      const { transfer, reversal } = reverseTransfer(pay, t.id, amount, {
        metadata: metadataOf(req.params) ?? {},
        sourceRefund: null,
        refundFee: !!bool(req.params, 'refund_application_fee'),
      });
      core.emitEvent({ type: 'transfer.reversed', object: transfer });
      return reversal;
    },
  );
  core.route('GET', '/v1/transfers/:id/reversals', { list: true }, (req) => {
    const t = pay.transfers.require(req.pathParams.id ?? '', req.account);
    return core.paginate(
      req,
      pay.reversals.list(req.account, (r) => r.transfer === t.id),
      `/v1/transfers/${t.id}/reversals`,
    );
  });
  core.route('GET', '/v1/transfers/:id/reversals/:rid', {}, (req) => {
    const t = pay.transfers.require(req.pathParams.id ?? '', req.account);
    const r = pay.reversals.get(req.pathParams.rid ?? '', req.account);
    if (!r || r.transfer !== t.id) throw resourceMissing('transfer reversal', req.pathParams.rid ?? '');
    return r;
  });
  core.route('POST', '/v1/transfers/:id/reversals/:rid', { params: { metadata: p.hash } }, (req) => {
    const r = pay.reversals.get(req.pathParams.rid ?? '', req.account);
    if (!r || r.transfer !== req.pathParams.id) throw resourceMissing('transfer reversal', req.pathParams.rid ?? '');
    r.metadata = mergeMetadata(r.metadata ?? {}, req.params);
    return pay.reversals.save(r);
  });

  // ------------------------------------------------------------------------------------------
  // Application fees
  // ------------------------------------------------------------------------------------------
  core.route('GET', '/v1/application_fees/:id', {}, (req) => pay.fees.require(req.pathParams.id ?? '', req.account));
  core.route('GET', '/v1/application_fees', { list: true, params: { charge: p.string } }, (req) => {
    const ch = str(req.params, 'charge');
    return core.paginate(
      req,
      pay.fees.list(req.account, (f) => (ch ? f.charge === ch || f.originating_transaction === ch : true)),
    );
  });
  core.route('POST', '/v1/application_fees/:id/refunds', { params: { amount: p.integer, metadata: p.hash } }, (req) => {
    const fee = pay.fees.require(req.pathParams.id ?? '', req.account);
    const { fee: updated, refund } = refundFee(pay, fee.id, int(req.params, 'amount'), metadataOf(req.params) ?? {});
    core.emitEvent({ type: 'application_fee.refunded', object: updated });
    return refund;
  });
  // The SDK's legacy `applicationFees.refund` (POST /v1/application_fees/:id/refund) returns the fee.
  core.route('POST', '/v1/application_fees/:id/refund', { params: { amount: p.integer, directive: p.string } }, (req) => {
    const fee = pay.fees.require(req.pathParams.id ?? '', req.account);
    const { fee: updated } = refundFee(pay, fee.id, int(req.params, 'amount'), {});
    core.emitEvent({ type: 'application_fee.refunded', object: updated });
    return updated;
  });
  core.route('GET', '/v1/application_fees/:id/refunds', { list: true }, (req) => {
    const fee = pay.fees.require(req.pathParams.id ?? '', req.account);
    return core.paginate(
      req,
      pay.feeRefunds.list(req.account, (r) => r.fee === fee.id),
      `/v1/application_fees/${fee.id}/refunds`,
    );
  });
  core.route('GET', '/v1/application_fees/:id/refunds/:rid', {}, (req) => {
    const r = pay.feeRefunds.get(req.pathParams.rid ?? '', req.account);
    if (!r || r.fee !== req.pathParams.id) throw resourceMissing('fee refund', req.pathParams.rid ?? '');
    return r;
  });
  core.route('POST', '/v1/application_fees/:id/refunds/:rid', { params: { metadata: p.hash } }, (req) => {
    const r = pay.feeRefunds.get(req.pathParams.rid ?? '', req.account);
    if (!r || r.fee !== req.pathParams.id) throw resourceMissing('fee refund', req.pathParams.rid ?? '');
    r.metadata = mergeMetadata(r.metadata ?? {}, req.params);
    return pay.feeRefunds.save(r);
  });
}
