/**
 * Customer portal sessions: `POST /v1/billing_portal/sessions` → `url` of the hosted portal
 * stand-in (portal-page.ts). The URL works for one hour of emulator time (Stripe's sessions are
 * short-lived: create one per visit). `flow_data` deep-links into one flow
 * (`payment_method_update`, `subscription_cancel`, `subscription_update`,
 * `subscription_update_confirm`) and `after_completion` says where the buyer goes afterwards.
 */
import type Stripe from 'stripe';
import { p, str, int, obj, arr, type Params } from '../../core/params.ts';
import { invalidRequest, missingParam } from '../../core/errors.ts';
import { randomToken } from '../../core/ids.ts';
import type { Billing } from './context.ts';
import { requireCustomer } from './customers.ts';
import { configurationFor } from './portal-configurations.ts';
import { requireSubscription } from './subscription-status.ts';

export const PORTAL_SESSION_TTL = 3600;

export interface PortalSessionInternal {
  token: string;
  expiresAt: number;
}

const LIVE: Stripe.Subscription.Status[] = ['active', 'trialing', 'past_due', 'unpaid', 'paused', 'incomplete'];

function flowSubscription(b: Billing, account: string, customer: string, id: string, param: string): Stripe.Subscription {
  const sub = requireSubscription(b, id, account, param);
  if (sub.customer !== customer) throw invalidRequest(`The subscription ${id} does not belong to customer ${customer}.`, { param });
  if (!LIVE.includes(sub.status)) throw invalidRequest(`The subscription ${id} is ${sub.status}.`, { param });
  return sub;
}

function afterCompletion(raw: Params | undefined): Stripe.BillingPortal.Session.Flow.AfterCompletion {
  const type = (raw ? str(raw, 'type') : undefined) ?? 'portal_homepage';
  if (type === 'redirect') {
    const url = raw ? str(raw, 'redirect.return_url') : undefined;
    if (!url) throw missingParam('flow_data[after_completion][redirect][return_url]');
    return { hosted_confirmation: null, redirect: { return_url: url }, type };
  }
  if (type === 'hosted_confirmation') {
    return { hosted_confirmation: { custom_message: (raw ? str(raw, 'hosted_confirmation.custom_message') : undefined) ?? null }, redirect: null, type };
  }
  return { hosted_confirmation: null, redirect: null, type };
}

function flowOf(b: Billing, account: string, customer: string, cfg: Stripe.BillingPortal.Configuration, raw: Params): Stripe.BillingPortal.Session.Flow {
  const type = str(raw, 'type') ?? '';
  const flow: Stripe.BillingPortal.Session.Flow = {
    after_completion: afterCompletion(obj(raw, 'after_completion')),
    customer_update: null,
    subscription_cancel: null,
    subscription_pause: null,
    subscription_update: null,
    subscription_update_confirm: null,
    type,
  };
  const needs = (feature: keyof Stripe.BillingPortal.Configuration.Features): void => {
    if (!cfg.features[feature].enabled)
      throw invalidRequest(`This flow needs the ${feature} feature, which is disabled in the portal configuration ${cfg.id}.`, { param: 'flow_data[type]' });
  };
  switch (type) {
    case 'payment_method_update':
      needs('payment_method_update');
      break;
    case 'subscription_cancel': {
      needs('subscription_cancel');
      const id = str(raw, 'subscription_cancel.subscription');
      if (!id) throw missingParam('flow_data[subscription_cancel][subscription]');
      flowSubscription(b, account, customer, id, 'flow_data[subscription_cancel][subscription]');
      flow.subscription_cancel = { retention: null, subscription: id };
      break;
    }
    case 'subscription_update': {
      needs('subscription_update');
      const id = str(raw, 'subscription_update.subscription');
      if (!id) throw missingParam('flow_data[subscription_update][subscription]');
      flowSubscription(b, account, customer, id, 'flow_data[subscription_update][subscription]');
      flow.subscription_update = { subscription: id };
      break;
    }
    case 'subscription_update_confirm': {
      const id = str(raw, 'subscription_update_confirm.subscription');
      if (!id) throw missingParam('flow_data[subscription_update_confirm][subscription]');
      const sub = flowSubscription(b, account, customer, id, 'flow_data[subscription_update_confirm][subscription]');
      const items = arr(raw, 'subscription_update_confirm.items') ?? [];
      if (items.length !== 1)
        throw invalidRequest('flow_data[subscription_update_confirm][items] must contain exactly one item.', {
          param: 'flow_data[subscription_update_confirm][items]',
        });
      const item = items[0] && typeof items[0] === 'object' && !Array.isArray(items[0]) ? items[0] : {};
      const itemId = str(item, 'id') ?? '';
      if (!sub.items.data.some((x) => x.id === itemId))
        throw invalidRequest(`No such subscription item: '${itemId}'`, {
          code: 'resource_missing',
          param: 'flow_data[subscription_update_confirm][items][0][id]',
        });
      const price = str(item, 'price') ?? null;
      if (price && !b.prices.get(price, account))
        throw invalidRequest(`No such price: '${price}'`, { code: 'resource_missing', param: 'flow_data[subscription_update_confirm][items][0][price]' });
      const quantity = int(item, 'quantity');
      flow.subscription_update_confirm = { discounts: null, items: [{ id: itemId, price, ...(quantity !== undefined ? { quantity } : {}) }], subscription: id };
      break;
    }
    default:
      throw invalidRequest(
        `The emulator supports flow_data[type] payment_method_update, subscription_cancel, subscription_update and subscription_update_confirm (got ${type}).`,
        { param: 'flow_data[type]' },
      );
  }
  return flow;
}

export function registerPortalSessions(b: Billing): void {
  const { core } = b;
  core.route(
    'POST',
    '/v1/billing_portal/sessions',
    {
      required: ['customer'],
      params: {
        customer: p.string,
        return_url: p.string,
        configuration: p.string,
        locale: p.string,
        on_behalf_of: p.string,
        flow_data: p.object(
          {
            type: p.string,
            after_completion: p.any,
            subscription_cancel: p.any,
            subscription_update: p.any,
            subscription_update_confirm: p.any,
            subscription_pause: p.any,
            customer_update: p.any,
          },
          ['type'],
        ),
      },
    },
    (req) => {
      const pr = req.params;
      const customer = requireCustomer(b, str(pr, 'customer') ?? '', req.account, 'customer');
      const cfg = configurationFor(b, req.account, str(pr, 'configuration'));
      const returnUrl = str(pr, 'return_url') ?? cfg.default_return_url;
      if (returnUrl && !/^https?:\/\//i.test(returnUrl)) throw invalidRequest('Not a valid URL', { code: 'url_invalid', param: 'return_url' });
      const obo = str(pr, 'on_behalf_of') ?? null;
      if (obo && !core.getAccount(obo)) throw invalidRequest(`No such account: '${obo}'`, { code: 'resource_missing', param: 'on_behalf_of' });
      const fd = obj(pr, 'flow_data');
      const flow = fd ? flowOf(b, req.account, customer.id, cfg, fd) : null;
      if (flow?.after_completion.type === 'portal_homepage' && !returnUrl && fd) {
        // Stripe needs a way back to the integration from the homepage.
        throw missingParam('return_url');
      }
      const token = randomToken(32);
      const now = core.now();
      const session: Stripe.BillingPortal.Session = {
        id: core.newId('bps'),
        object: 'billing_portal.session',
        configuration: cfg.id,
        created: now,
        customer: customer.id,
        customer_account: null,
        flow,
        livemode: false,
        locale: str(pr, 'locale') ?? null,
        on_behalf_of: obo,
        return_url: returnUrl,
        url: core.pageUrl(`/hosted/portal/${token}`),
      };
      const internal: PortalSessionInternal = { token, expiresAt: now + PORTAL_SESSION_TTL };
      b.portalSessions.insert(req.account, session, { internal: internal as unknown as Record<string, unknown> });
      core.emitEvent({ type: 'billing_portal.session.created', object: session, account: req.account });
      return session;
    },
  );
}

/** The live session behind a portal URL token, and its account. */
export function sessionForToken(b: Billing, token: string): { session: Stripe.BillingPortal.Session; account: string } | undefined {
  const session = b.portalSessions.list(undefined, (_s, internal) => internal.token === token)[0];
  if (!session) return undefined;
  const internal = b.portalSessions.internal(session.id) as unknown as PortalSessionInternal;
  if (internal.expiresAt < b.core.now()) return undefined;
  return { session, account: b.portalSessions.ownerOf(session.id) ?? b.core.platformAccount };
}
