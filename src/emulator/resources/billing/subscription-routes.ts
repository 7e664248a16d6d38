/**
 * `/v1/subscriptions` and `/v1/subscription_items`: parameter parsing and validation (shared
 * readers in subscription-params.ts); the use cases are in subscriptions.ts,
 * subscription-update.ts and subscription-lifecycle.ts.
 */
import type Stripe from 'stripe';
import type { ApiRequest } from '../../core/core.ts';
import { p, str, int, bool, obj, getParam, mergeMetadata, type ParamValue } from '../../core/params.ts';
import { invalidRequest, missingParam, resourceMissing } from '../../core/errors.ts';
import type { Billing } from './context.ts';
import { requireCustomer } from './customers.ts';
import { applyIncludes } from './includes.ts';
import { createSubscription, type NewItem, type PaymentBehavior } from './subscriptions.ts';
import { updateSubscription, type ItemChange, type SubscriptionChanges } from './subscription-update.ts';
import { cancelSubscription, pauseSubscription, resumeSubscription } from './subscription-lifecycle.ts';
import { requireSubscription } from './subscription-status.ts';
import {
  PRORATION,
  STATUSES,
  cancellationSpec,
  checkPaymentMethodOf,
  feePercentOf,
  itemCreateSpec,
  itemPrice,
  itemsOf,
  itemUpdateSpec,
  onBehalfOfParam,
  paymentSettingsSpec,
  resolveTrialEnd,
  transferDataOf,
  trialSettingsSpec,
  transferDataSpec,
} from './subscription-params.ts';

function respond(b: Billing, req: ApiRequest, sub: Stripe.Subscription): Stripe.Subscription {
  return applyIncludes(b, sub, req.params.expand);
}

export function registerSubscriptionRoutes(b: Billing): void {
  const { core } = b;
  core.route(
    'POST',
    '/v1/subscriptions',
    {
      required: ['customer', 'items'],
      params: {
        customer: p.string,
        items: p.array(itemCreateSpec),
        application_fee_percent: p.union(p.number, p.enum('')),
        transfer_data: transferDataSpec,
        on_behalf_of: p.string,
        payment_behavior: p.enum('allow_incomplete', 'default_incomplete', 'error_if_incomplete', 'pending_if_incomplete'),
        payment_settings: paymentSettingsSpec,
        default_payment_method: p.string,
        off_session: p.boolean,
        trial_end: p.union(p.enum('now'), p.integer),
        trial_period_days: p.int(0, 730),
        trial_from_plan: p.boolean,
        trial_settings: trialSettingsSpec,
        cancel_at_period_end: p.boolean,
        cancel_at: p.integer,
        collection_method: p.enum('charge_automatically'),
        description: p.string,
        metadata: p.hash,
        proration_behavior: PRORATION,
        billing_mode: { type: p.enum('flexible', 'classic'), flexible: p.any },
      },
    },
    (req) => {
      const pr = req.params;
      const customer = requireCustomer(b, str(pr, 'customer') ?? '', req.account, 'customer');
      const behavior = str(pr, 'payment_behavior') ?? 'allow_incomplete';
      if (behavior === 'pending_if_incomplete')
        throw invalidRequest('payment_behavior=pending_if_incomplete is only used when updating a subscription.', { param: 'payment_behavior' });
      if (str(pr, 'billing_mode.type') === 'classic')
        throw invalidRequest('The emulator bills in flexible mode only (the default since 2025-09-30.clover).', { param: 'billing_mode[type]' });
      const items: NewItem[] = itemsOf(pr.items).map((it, i) => {
        const price = itemPrice(b, req.account, it, `items[${i}]`);
        if (!price) throw missingParam(`items[${i}][price]`);
        return { price, quantity: int(it, 'quantity') ?? 1, metadata: mergeMetadata({}, it) };
      });
      if (items.length === 0) throw missingParam('items');
      const transferData = transferDataOf(b, req) ?? null;
      const feePercent = feePercentOf(req, transferData !== null) ?? null;
      const dpm = str(pr, 'default_payment_method');
      if (dpm) checkPaymentMethodOf(b, req.account, customer.id, dpm);
      const cancelAt = int(pr, 'cancel_at');
      if (cancelAt !== undefined && cancelAt <= core.now()) throw invalidRequest('cancel_at must be in the future.', { param: 'cancel_at' });
      const sub = createSubscription(b, req.account, {
        customer: customer.id,
        items,
        defaultPaymentMethod: dpm ?? null,
        paymentBehavior: behavior as PaymentBehavior,
        offSession: bool(pr, 'off_session') ?? false,
        applicationFeePercent: feePercent,
        transferData,
        onBehalfOf: onBehalfOfParam(b, req) ?? null,
        trialEnd: resolveTrialEnd(b, req, items),
        trialMissingPaymentMethod: str(pr, 'trial_settings.end_behavior.missing_payment_method') ?? 'create_invoice',
        cancelAtPeriodEnd: bool(pr, 'cancel_at_period_end') ?? false,
        cancelAt: cancelAt ?? null,
        description: str(pr, 'description') ?? null,
        metadata: mergeMetadata({}, pr),
        saveDefaultPaymentMethod: str(pr, 'payment_settings.save_default_payment_method') ?? 'off',
      });
      return respond(b, req, sub);
    },
  );

  core.route('GET', '/v1/subscriptions/:id', {}, (req) => respond(b, req, requireSubscription(b, req.pathParams.id ?? '', req.account)));

  core.route(
    'POST',
    '/v1/subscriptions/:id',
    {
      params: {
        items: p.array(itemUpdateSpec),
        proration_behavior: PRORATION,
        proration_date: p.integer,
        billing_cycle_anchor: p.object({ type: p.enum('now', 'unchanged') }, ['type']),
        cancel_at_period_end: p.boolean,
        cancel_at: p.union(p.integer, p.enum('')),
        cancellation_details: cancellationSpec,
        default_payment_method: p.string,
        description: p.string,
        metadata: p.hash,
        application_fee_percent: p.union(p.number, p.enum('')),
        transfer_data: p.union(p.enum(''), transferDataSpec),
        on_behalf_of: p.string,
        off_session: p.boolean,
        payment_behavior: p.enum('allow_incomplete', 'default_incomplete', 'error_if_incomplete', 'pending_if_incomplete'),
        payment_settings: paymentSettingsSpec,
        pause_collection: p.union(
          p.enum(''),
          p.object({ behavior: p.enum('keep_as_draft', 'mark_uncollectible', 'void'), resumes_at: p.integer }, ['behavior']),
        ),
        trial_end: p.union(p.enum('now'), p.integer),
        trial_settings: trialSettingsSpec,
      },
    },
    (req) => {
      const pr = req.params;
      const before = requireSubscription(b, req.pathParams.id ?? '', req.account);
      if (str(pr, 'payment_behavior') === 'pending_if_incomplete') {
        throw invalidRequest('payment_behavior=pending_if_incomplete (pending updates) is not emulated.', { param: 'payment_behavior' });
      }
      const customerId = typeof before.customer === 'string' ? before.customer : before.customer.id;
      const changes: SubscriptionChanges = {
        prorationBehavior: (str(pr, 'proration_behavior') as SubscriptionChanges['prorationBehavior'] | undefined) ?? 'create_prorations',
        prorationDate: int(pr, 'proration_date'),
        resetAnchor: str(pr, 'billing_cycle_anchor.type') === 'now',
        offSession: bool(pr, 'off_session') ?? false,
      };
      if (pr.items !== undefined) {
        changes.items = itemsOf(pr.items).map((it, i): ItemChange => ({
          id: str(it, 'id'),
          price: itemPrice(b, req.account, it, `items[${i}]`),
          quantity: int(it, 'quantity'),
          metadata: it.metadata !== undefined ? mergeMetadata({}, it) : undefined,
          deleted: bool(it, 'deleted'),
        }));
      }
      if (pr.cancel_at_period_end !== undefined) changes.cancelAtPeriodEnd = bool(pr, 'cancel_at_period_end');
      if (pr.cancel_at !== undefined) changes.cancelAt = pr.cancel_at === '' ? null : int(pr, 'cancel_at');
      const cd = obj(pr, 'cancellation_details');
      if (cd && cd.comment !== undefined) changes.cancellationComment = str(cd, 'comment') ?? null;
      if (cd && cd.feedback !== undefined) changes.cancellationFeedback = str(cd, 'feedback') ?? null;
      if (pr.default_payment_method !== undefined) {
        const pm = str(pr, 'default_payment_method') ?? null;
        if (pm) checkPaymentMethodOf(b, req.account, customerId, pm);
        changes.defaultPaymentMethod = pm;
      }
      if (pr.description !== undefined) changes.description = str(pr, 'description') ?? null;
      if (pr.metadata !== undefined) changes.metadata = mergeMetadata(before.metadata, pr);
      const td = transferDataOf(b, req);
      if (td !== undefined) changes.transferData = td;
      const fee = feePercentOf(req, (td !== undefined ? td : before.transfer_data) !== null);
      if (fee !== undefined) changes.applicationFeePercent = fee;
      const obo = onBehalfOfParam(b, req);
      if (obo !== undefined) changes.onBehalfOf = obo;
      const te = getParam(pr, 'trial_end');
      if (te !== undefined) changes.trialEnd = te === 'now' ? 'now' : Number(te);
      if (pr.pause_collection !== undefined) {
        changes.pauseCollection =
          pr.pause_collection === ''
            ? null
            : {
                behavior: str(pr, 'pause_collection.behavior') as Stripe.Subscription.PauseCollection.Behavior,
                resumes_at: int(pr, 'pause_collection.resumes_at') ?? null,
              };
      }
      const save = str(pr, 'payment_settings.save_default_payment_method');
      if (save) changes.saveDefaultPaymentMethod = save;
      return respond(b, req, updateSubscription(b, req.account, before.id, changes));
    },
  );

  core.route('DELETE', '/v1/subscriptions/:id', { params: { cancellation_details: cancellationSpec, invoice_now: p.boolean, prorate: p.boolean } }, (req) => {
    const pr = req.params;
    const feedback = str(pr, 'cancellation_details.feedback');
    const sub = cancelSubscription(b, req.account, req.pathParams.id ?? '', {
      comment: str(pr, 'cancellation_details.comment'),
      feedback,
      prorate: bool(pr, 'prorate') ?? false,
    });
    return respond(b, req, sub);
  });

  core.route(
    'POST',
    '/v1/subscriptions/:id/pause',
    { params: { type: p.enum('subscription'), bill_for: p.any, invoicing_behavior: p.enum('invoice', 'pending_invoice_item') } },
    (req) => respond(b, req, pauseSubscription(b, req.account, req.pathParams.id ?? '')),
  );
  core.route(
    'POST',
    '/v1/subscriptions/:id/resume',
    {
      params: {
        billing_cycle_anchor: p.object({ type: p.enum('now', 'unchanged') }, ['type']),
        payment_behavior: p.enum('resume_on_payment_attempt', 'resume_on_payment_success'),
        proration_behavior: PRORATION,
        proration_date: p.integer,
      },
    },
    (req) =>
      respond(
        b,
        req,
        resumeSubscription(b, req.account, req.pathParams.id ?? '', {
          anchor: (str(req.params, 'billing_cycle_anchor.type') as 'now' | 'unchanged' | undefined) ?? 'now',
          paymentBehavior:
            (str(req.params, 'payment_behavior') as 'resume_on_payment_attempt' | 'resume_on_payment_success' | undefined) ?? 'resume_on_payment_attempt',
          prorationBehavior: (str(req.params, 'proration_behavior') as 'create_prorations' | 'none' | 'always_invoice' | undefined) ?? 'create_prorations',
        }),
      ),
  );

  core.route(
    'GET',
    '/v1/subscriptions',
    {
      list: true,
      params: {
        customer: p.string,
        price: p.string,
        status: p.enum(...STATUSES),
        collection_method: p.enum('charge_automatically', 'send_invoice'),
        current_period_end: p.range,
        current_period_start: p.range,
        test_clock: p.string,
        automatic_tax: p.any,
      },
    },
    (req) => {
      const customer = str(req.params, 'customer');
      const price = str(req.params, 'price');
      const status = str(req.params, 'status');
      const list = b.subscriptions.list(req.account, (s) => {
        if (customer && s.customer !== customer) return false;
        if (price && !s.items.data.some((it) => it.price.id === price)) return false;
        if (status === 'all') return true;
        if (status === 'ended') return s.status === 'canceled' || s.status === 'incomplete_expired';
        if (status) return s.status === status;
        return s.status !== 'canceled' && s.status !== 'incomplete_expired';
      });
      const page = core.paginate(req, list);
      return { ...page, data: page.data.map((s) => applyIncludes(b, s, prefixed(req.params.expand, 'data.'))) };
    },
  );

  // Subscription items (read-only views over the subscription's items).
  const findItem = (account: string, id: string): Stripe.SubscriptionItem => {
    for (const s of b.subscriptions.list(account)) {
      const it = s.items.data.find((x) => x.id === id);
      if (it) return it;
    }
    throw resourceMissing('subscription_item', id);
  };
  core.route('GET', '/v1/subscription_items/:id', {}, (req) => findItem(req.account, req.pathParams.id ?? ''));
  core.route('GET', '/v1/subscription_items', { list: true, required: ['subscription'], params: { subscription: p.string } }, (req) => {
    const sub = requireSubscription(b, str(req.params, 'subscription') ?? '', req.account, 'subscription');
    return core.paginate(req, sub.items.data, `/v1/subscription_items`);
  });
}

/** `expand` paths of list items without their `data.` prefix. */
export function prefixed(expand: ParamValue | undefined, prefix: string): string[] {
  const paths = Array.isArray(expand) ? expand.map(String) : typeof expand === 'string' ? [expand] : [];
  return paths.filter((x) => x.startsWith(prefix)).map((x) => x.slice(prefix.length));
}
