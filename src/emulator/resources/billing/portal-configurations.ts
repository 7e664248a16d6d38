/**
 * Customer portal configurations: `POST/GET /v1/billing_portal/configurations`,
 * `GET/POST /v1/billing_portal/configurations/:id`. The emulator seeds one default configuration
 * per state (what the Dashboard's portal settings page saves in a real account): payment method
 * update, invoice history and cancel at period end enabled, plan switching disabled.
 *
 * Rules kept from Stripe: `subscription_update.enabled` needs `default_allowed_updates` and at
 * most 10 `products` (each with its prices); cancel `proration_behavior` other than `none` only
 * with `mode: immediately`, and never `always_invoice`.
 */
import type Stripe from 'stripe';
import { p, str, bool, obj, arr, getParam, mergeMetadata, type Params } from '../../core/params.ts';
import { invalidRequest, missingParam } from '../../core/errors.ts';
import type { Billing } from './context.ts';
import { previousAttributes, hasChanges } from './diff.ts';

const REASONS = ['customer_service', 'low_quality', 'missing_features', 'other', 'switched_service', 'too_complex', 'too_expensive', 'unused'];
const featuresSpec = {
  customer_update: p.object({
    enabled: p.boolean,
    allowed_updates: p.union(p.enum(''), p.array(p.enum('address', 'email', 'name', 'phone', 'shipping', 'tax_id'))),
  }),
  invoice_history: p.object({ enabled: p.boolean }, ['enabled']),
  payment_method_update: p.object({ enabled: p.boolean, payment_method_configuration: p.string }, ['enabled']),
  subscription_cancel: p.object({
    enabled: p.boolean,
    mode: p.enum('at_period_end', 'immediately'),
    proration_behavior: p.enum('always_invoice', 'create_prorations', 'none'),
    cancellation_reason: p.object({ enabled: p.boolean, options: p.union(p.enum(''), p.array(p.enum(...REASONS))) }, ['enabled']),
  }),
  subscription_pause: p.object({ enabled: p.boolean, duration: p.any }),
  subscription_update: p.object({
    enabled: p.boolean,
    default_allowed_updates: p.union(p.enum(''), p.array(p.enum('price', 'promotion_code', 'quantity'))),
    products: p.union(p.enum(''), p.array(p.object({ product: p.string, prices: p.array(p.string), adjustable_quantity: p.any }, ['product', 'prices']))),
    proration_behavior: p.enum('always_invoice', 'create_prorations', 'none'),
    billing_cycle_anchor: p.enum('now', 'unchanged'),
    schedule_at_period_end: p.any,
    trial_update_behavior: p.enum('continue_trial', 'end_trial'),
  }),
};
const writable = {
  business_profile: { headline: p.string, privacy_policy_url: p.string, terms_of_service_url: p.string },
  default_return_url: p.string,
  login_page: p.object({ enabled: p.boolean }, ['enabled']),
  metadata: p.hash,
  name: p.string,
};

export function defaultFeatures(): Stripe.BillingPortal.Configuration.Features {
  return {
    customer_update: { allowed_updates: [], enabled: false },
    invoice_history: { enabled: false },
    payment_method_update: { enabled: false, payment_method_configuration: null },
    subscription_cancel: {
      cancellation_reason: { enabled: false, feedback_options: null, options: [] },
      enabled: false,
      mode: 'at_period_end',
      proration_behavior: 'none',
    },
    subscription_pause: { duration: { interval_options: [], type: 'indefinite' }, enabled: false },
    subscription_update: {
      billing_cycle_anchor: null,
      default_allowed_updates: [],
      enabled: false,
      products: [],
      proration_behavior: 'none',
      schedule_at_period_end: { conditions: [] },
      trial_update_behavior: 'end_trial',
    },
  };
}

function applyFeatures(b: Billing, account: string, f: Stripe.BillingPortal.Configuration.Features, raw: Params): void {
  const cu = obj(raw, 'customer_update');
  if (cu) {
    const enabled = bool(cu, 'enabled');
    if (enabled !== undefined) f.customer_update.enabled = enabled;
    if (cu.allowed_updates !== undefined) f.customer_update.allowed_updates = (arr(cu, 'allowed_updates') ?? []).map(String);
  }
  const ih = bool(raw, 'invoice_history.enabled');
  if (ih !== undefined) f.invoice_history.enabled = ih;
  const pmu = bool(raw, 'payment_method_update.enabled');
  if (pmu !== undefined) f.payment_method_update.enabled = pmu;
  const sc = obj(raw, 'subscription_cancel');
  if (sc) {
    const enabled = bool(sc, 'enabled');
    if (enabled !== undefined) f.subscription_cancel.enabled = enabled;
    const mode = str(sc, 'mode');
    if (mode) f.subscription_cancel.mode = mode;
    const pb = str(sc, 'proration_behavior');
    if (pb) f.subscription_cancel.proration_behavior = pb;
    const cr = obj(sc, 'cancellation_reason');
    if (cr) {
      f.subscription_cancel.cancellation_reason.enabled = bool(cr, 'enabled') ?? f.subscription_cancel.cancellation_reason.enabled;
      if (cr.options !== undefined) f.subscription_cancel.cancellation_reason.options = (arr(cr, 'options') ?? []).map(String);
    }
  }
  const sp = bool(raw, 'subscription_pause.enabled');
  if (sp !== undefined) f.subscription_pause.enabled = sp;
  const su = obj(raw, 'subscription_update');
  if (su) {
    const enabled = bool(su, 'enabled');
    if (enabled !== undefined) f.subscription_update.enabled = enabled;
    if (su.default_allowed_updates !== undefined) f.subscription_update.default_allowed_updates = (arr(su, 'default_allowed_updates') ?? []).map(String);
    if (su.products !== undefined) {
      f.subscription_update.products = (arr(su, 'products') ?? []).map((raw, i) => {
        const item = raw && typeof raw === 'object' && !Array.isArray(raw) ? raw : {};
        const product = str(item, 'product') ?? '';
        if (!b.products.get(product, account))
          throw invalidRequest(`No such product: '${product}'`, { code: 'resource_missing', param: `features[subscription_update][products][${i}][product]` });
        const prices = (arr(item, 'prices') ?? []).map(String);
        for (const priceId of prices) {
          const price = b.prices.get(priceId, account);
          if (!price || price.product !== product)
            throw invalidRequest(`No such price: '${priceId}' for product ${product}`, {
              code: 'resource_missing',
              param: `features[subscription_update][products][${i}][prices]`,
            });
          if (price.type !== 'recurring')
            throw invalidRequest('Portal subscription updates only accept recurring prices.', {
              param: `features[subscription_update][products][${i}][prices]`,
            });
        }
        return { adjustable_quantity: { enabled: false, maximum: null, minimum: 1 }, prices, product };
      });
    }
    const pb = str(su, 'proration_behavior');
    if (pb) f.subscription_update.proration_behavior = pb;
    const anchor = str(su, 'billing_cycle_anchor');
    if (anchor) f.subscription_update.billing_cycle_anchor = anchor;
    const trial = str(su, 'trial_update_behavior');
    if (trial) f.subscription_update.trial_update_behavior = trial;
  }
  checkFeatures(f);
}

function checkFeatures(f: Stripe.BillingPortal.Configuration.Features): void {
  const sc = f.subscription_cancel;
  if (sc.proration_behavior === 'always_invoice')
    throw invalidRequest('features[subscription_cancel][proration_behavior] cannot be always_invoice.', {
      param: 'features[subscription_cancel][proration_behavior]',
    });
  if (sc.mode === 'at_period_end' && sc.proration_behavior !== 'none') {
    throw invalidRequest('features[subscription_cancel][proration_behavior] must be none when mode is at_period_end.', {
      param: 'features[subscription_cancel][proration_behavior]',
    });
  }
  const su = f.subscription_update;
  if (su.enabled) {
    if (su.default_allowed_updates.length === 0) throw missingParam('features[subscription_update][default_allowed_updates]');
    if (!su.products || su.products.length === 0) throw missingParam('features[subscription_update][products]');
  }
  if ((su.products?.length ?? 0) > 10)
    throw invalidRequest('A portal configuration can list at most 10 products.', { param: 'features[subscription_update][products]' });
}

export function createConfiguration(b: Billing, account: string, pr: Params, isDefault: boolean): Stripe.BillingPortal.Configuration {
  const now = b.core.now();
  const features = defaultFeatures();
  applyFeatures(b, account, features, obj(pr, 'features') ?? {});
  const cfg: Stripe.BillingPortal.Configuration = {
    id: b.core.newId('bpc'),
    object: 'billing_portal.configuration',
    active: true,
    application: null,
    business_profile: {
      headline: str(pr, 'business_profile.headline') ?? null,
      privacy_policy_url: str(pr, 'business_profile.privacy_policy_url') ?? null,
      terms_of_service_url: str(pr, 'business_profile.terms_of_service_url') ?? null,
    },
    created: now,
    default_return_url: str(pr, 'default_return_url') ?? null,
    features,
    is_default: isDefault,
    livemode: false,
    login_page: { enabled: bool(pr, 'login_page.enabled') ?? false, url: null },
    metadata: mergeMetadata({}, pr),
    name: str(pr, 'name') ?? null,
    updated: now,
  };
  if (cfg.login_page.enabled) cfg.login_page.url = b.core.pageUrl(`/hosted/portal/login/${cfg.id}`);
  b.portalConfigurations.insert(account, cfg);
  return cfg;
}

/** The configuration a portal session uses: the one named, or the account's default. */
export function configurationFor(b: Billing, account: string, id: string | undefined): Stripe.BillingPortal.Configuration {
  if (id) {
    const cfg = b.portalConfigurations.require(id, account, 'configuration');
    if (!cfg.active) throw invalidRequest(`The configuration ${id} is not active.`, { param: 'configuration' });
    return cfg;
  }
  const def = b.portalConfigurations.list(account, (c) => c.is_default)[0];
  if (!def) {
    throw invalidRequest(
      "You can't create a portal session in test mode until you save your customer portal settings in test mode at https://dashboard.stripe.com/test/settings/billing/portal.",
      { param: 'configuration' },
    );
  }
  return def;
}

/** The seeded default configuration (what a saved Dashboard portal settings page amounts to). */
export function seedDefaultConfiguration(b: Billing): void {
  const account = b.core.platformAccount;
  if (b.portalConfigurations.list(account, (c) => c.is_default).length > 0) return;
  createConfiguration(
    b,
    account,
    {
      features: {
        payment_method_update: { enabled: true },
        invoice_history: { enabled: true },
        subscription_cancel: { enabled: true, mode: 'at_period_end', proration_behavior: 'none' },
        customer_update: { enabled: true, allowed_updates: ['email', 'name'] },
      },
    },
    true,
  );
}

export function registerPortalConfigurations(b: Billing): void {
  const { core } = b;
  core.route('POST', '/v1/billing_portal/configurations', { required: ['features'], params: { ...writable, features: featuresSpec } }, (req) => {
    const cfg = createConfiguration(b, req.account, req.params, false);
    core.emitEvent({ type: 'billing_portal.configuration.created', object: cfg, account: req.account });
    return cfg;
  });
  core.route('GET', '/v1/billing_portal/configurations/:id', {}, (req) =>
    b.portalConfigurations.require(req.pathParams.id ?? '', req.account, 'configuration'),
  );
  core.route('POST', '/v1/billing_portal/configurations/:id', { params: { ...writable, features: featuresSpec, active: p.boolean } }, (req) => {
    const before = b.portalConfigurations.require(req.pathParams.id ?? '', req.account, 'configuration');
    const cfg = structuredClone(before);
    const pr = req.params;
    const active = bool(pr, 'active');
    if (active !== undefined) {
      if (!active && cfg.is_default) throw invalidRequest('The default configuration cannot be deactivated.', { param: 'active' });
      cfg.active = active;
    }
    const bp = obj(pr, 'business_profile');
    if (bp) {
      if (bp.headline !== undefined) cfg.business_profile.headline = str(bp, 'headline') ?? null;
      if (bp.privacy_policy_url !== undefined) cfg.business_profile.privacy_policy_url = str(bp, 'privacy_policy_url') ?? null;
      if (bp.terms_of_service_url !== undefined) cfg.business_profile.terms_of_service_url = str(bp, 'terms_of_service_url') ?? null;
    }
    if (pr.default_return_url !== undefined) cfg.default_return_url = str(pr, 'default_return_url') ?? null;
    const features = obj(pr, 'features');
    if (features) applyFeatures(b, req.account, cfg.features, features);
    const login = getParam(pr, 'login_page.enabled');
    if (typeof login === 'boolean') {
      cfg.login_page = { enabled: login, url: login ? core.pageUrl(`/hosted/portal/login/${cfg.id}`) : null };
    }
    if (pr.metadata !== undefined) cfg.metadata = mergeMetadata(cfg.metadata ?? {}, pr);
    if (pr.name !== undefined) cfg.name = str(pr, 'name') ?? null;
    const prev = previousAttributes(before, cfg);
    if (!hasChanges(prev)) return before;
    cfg.updated = core.now();
    const saved = b.portalConfigurations.save(cfg);
    core.emitEvent({ type: 'billing_portal.configuration.updated', object: saved, account: req.account, previousAttributes: prev });
    return saved;
  });
  core.route('GET', '/v1/billing_portal/configurations', { list: true, params: { active: p.boolean, is_default: p.boolean } }, (req) => {
    const active = bool(req.params, 'active');
    const isDefault = bool(req.params, 'is_default');
    return core.paginate(
      req,
      b.portalConfigurations.list(req.account, (c) => (active === undefined || c.active === active) && (isDefault === undefined || c.is_default === isDefault)),
    );
  });
  core.seed(() => seedDefaultConfiguration(b));
}
