/**
 * Prices: `POST/GET /v1/prices`, `GET/POST /v1/prices/:id`. A price's amount, currency and
 * recurrence never change (`PriceUpdateParams` has no `unit_amount`: sending it is a 400
 * `parameter_unknown`); a new price replaces it, and `transfer_lookup_key` moves a lookup key
 * from the old price to the new one atomically. There is no delete: archive with `active: false`.
 * Supported: `per_unit` prices with `unit_amount` (or an integral `unit_amount_decimal`),
 * optionally `recurring` (`licensed`). Tiers, custom amounts, meters and currency options are
 * not emulated.
 */
import type Stripe from 'stripe';
import type { ApiRequest } from '../../core/core.ts';
import { p, str, int, bool, obj, arr, mergeMetadata, type Params } from '../../core/params.ts';
import { invalidRequest, missingParam } from '../../core/errors.ts';
import type { Billing } from './context.ts';
import { previousAttributes, hasChanges } from './diff.ts';
import type { Interval } from './periods.ts';

/** Longest recurring interval Stripe accepts: three years. */
const MAX_INTERVAL_COUNT: Record<Interval, number> = { day: 1095, week: 156, month: 36, year: 3 };

export const recurringSpec = p.object(
  { interval: p.enum('day', 'week', 'month', 'year'), interval_count: p.int(1), usage_type: p.enum('licensed'), trial_period_days: p.int(0, 730) },
  ['interval'],
);
export const productDataSpec = p.object(
  { name: p.string, active: p.boolean, id: p.string, metadata: p.hash, statement_descriptor: p.string, tax_code: p.string, unit_label: p.string },
  ['name'],
);

/** `unit_amount_decimal` as the wire sends it. The SDK turns it into a `Stripe.Decimal`. */
export function decimalString(n: number): Stripe.Decimal {
  return String(n) as unknown as Stripe.Decimal;
}

export function currencyOf(raw: string, param: string): string {
  const c = raw.toLowerCase();
  if (!/^[a-z]{3}$/.test(c)) throw invalidRequest(`Invalid currency: ${raw}.`, { param });
  return c;
}

function recurringOf(v: Params | undefined, param: string): Stripe.Price.Recurring | null {
  if (!v) return null;
  const interval = str(v, 'interval') ?? 'month';
  const count = int(v, 'interval_count') ?? 1;
  if (count > (MAX_INTERVAL_COUNT[interval] ?? 36)) {
    throw invalidRequest('The maximum recurring interval is 3 years (1095 days, 156 weeks or 36 months).', { param: `${param}[interval_count]` });
  }
  return { interval, interval_count: count, meter: null, trial_period_days: int(v, 'trial_period_days') ?? null, usage_type: 'licensed' };
}

function unitAmountOf(pr: Params, param: string): number {
  const unit = int(pr, 'unit_amount');
  const dec = str(pr, 'unit_amount_decimal');
  if (unit !== undefined && dec !== undefined)
    throw invalidRequest('You may only specify one of these parameters: unit_amount, unit_amount_decimal.', { param: `${param}unit_amount_decimal` });
  if (unit !== undefined) {
    if (unit < 0) throw invalidRequest('This value must be greater than or equal to 0.', { param: `${param}unit_amount` });
    return unit;
  }
  if (dec !== undefined) {
    if (!/^\d+$/.test(dec))
      throw invalidRequest('The emulator supports whole minor units only in unit_amount_decimal.', { param: `${param}unit_amount_decimal` });
    return Number(dec);
  }
  throw missingParam(`${param}unit_amount`);
}

function lookupKeyOwner(b: Billing, account: string, key: string): Stripe.Price | undefined {
  return b.prices.list(account, (x) => x.lookup_key === key)[0];
}

/** Take `key` off whichever price has it (`transfer_lookup_key`), emitting `price.updated`. */
function releaseLookupKey(b: Billing, account: string, key: string): void {
  const owner = lookupKeyOwner(b, account, key);
  if (!owner) return;
  const before = { ...owner };
  owner.lookup_key = null;
  const saved = b.prices.save(owner);
  b.core.emitEvent({ type: 'price.updated', object: saved, account, previousAttributes: previousAttributes(before, saved) });
}

function claimLookupKey(b: Billing, account: string, key: string, transfer: boolean, param: string): void {
  if (key.length > 200) throw invalidRequest('Lookup keys may be at most 200 characters long.', { param });
  const owner = lookupKeyOwner(b, account, key);
  if (!owner) return;
  if (!transfer) throw invalidRequest(`A price (\`${owner.id}\`) already uses that lookup key.`, { param });
  releaseLookupKey(b, account, key);
}

/**
 * Build and store a price. `paramPrefix` names fields in errors when the price comes from a
 * nested `price_data` / `default_price_data`.
 */
export function createPrice(b: Billing, account: string, pr: Params, opts: { product: string; paramPrefix?: string; emit?: boolean }): Stripe.Price {
  const prefix = opts.paramPrefix ?? '';
  const currency = currencyOf(str(pr, 'currency') ?? '', `${prefix}currency`);
  const unitAmount = unitAmountOf(pr, prefix);
  const recurring = recurringOf(obj(pr, 'recurring'), `${prefix}recurring`);
  const lookupKey = str(pr, 'lookup_key') ?? null;
  if (lookupKey) claimLookupKey(b, account, lookupKey, bool(pr, 'transfer_lookup_key') ?? false, `${prefix}lookup_key`);
  const price: Stripe.Price = {
    id: b.core.newId('price'),
    object: 'price',
    active: bool(pr, 'active') ?? true,
    billing_scheme: 'per_unit',
    created: b.core.now(),
    currency,
    custom_unit_amount: null,
    livemode: false,
    lookup_key: lookupKey,
    metadata: mergeMetadata({}, pr),
    nickname: str(pr, 'nickname') ?? null,
    product: opts.product,
    recurring,
    tax_behavior: str(pr, 'tax_behavior') ?? 'unspecified',
    tiers_mode: null,
    transform_quantity: null,
    type: recurring ? 'recurring' : 'one_time',
    unit_amount: unitAmount,
    unit_amount_decimal: decimalString(unitAmount),
  };
  b.prices.insert(account, price);
  if (opts.emit !== false) b.core.emitEvent({ type: 'price.created', object: price, account });
  return price;
}

export function requirePrice(b: Billing, id: string, account: string, param = 'id'): Stripe.Price {
  return b.prices.require(id, account, param);
}

export interface PriceHooks {
  /** Create a product from `product_data` (provided by the products module). */
  createProductFromData(account: string, data: Params): Stripe.Product;
  requireProduct(id: string, account: string, param: string): Stripe.Product;
}

export function registerPrices(b: Billing, hooks: PriceHooks): void {
  const { core } = b;
  core.route(
    'POST',
    '/v1/prices',
    {
      required: ['currency'],
      params: {
        currency: p.string,
        active: p.boolean,
        billing_scheme: p.enum('per_unit'),
        lookup_key: p.string,
        metadata: p.hash,
        nickname: p.string,
        product: p.string,
        product_data: productDataSpec,
        recurring: recurringSpec,
        tax_behavior: p.enum('exclusive', 'inclusive', 'unspecified'),
        transfer_lookup_key: p.boolean,
        unit_amount: p.integer,
        unit_amount_decimal: p.string,
      },
    },
    (req) => {
      const productId = str(req.params, 'product');
      const productData = obj(req.params, 'product_data');
      if (productId && productData) throw invalidRequest('You may only specify one of these parameters: product, product_data.', { param: 'product_data' });
      if (!productId && !productData) throw missingParam('product');
      unitAmountOf(req.params, '');
      const product = productId ? hooks.requireProduct(productId, req.account, 'product') : hooks.createProductFromData(req.account, productData ?? {});
      return createPrice(b, req.account, req.params, { product: product.id });
    },
  );
  core.route('GET', '/v1/prices/:id', {}, (req) => requirePrice(b, req.pathParams.id ?? '', req.account, 'price'));
  core.route(
    'POST',
    '/v1/prices/:id',
    {
      params: {
        active: p.boolean,
        lookup_key: p.string,
        metadata: p.hash,
        nickname: p.string,
        tax_behavior: p.enum('exclusive', 'inclusive', 'unspecified'),
        transfer_lookup_key: p.boolean,
      },
    },
    (req) => {
      const before = requirePrice(b, req.pathParams.id ?? '', req.account, 'price');
      const price: Stripe.Price = { ...before };
      const pr = req.params;
      const active = bool(pr, 'active');
      if (active !== undefined) price.active = active;
      if (pr.lookup_key !== undefined) {
        const key = str(pr, 'lookup_key') ?? null;
        if (key && key !== before.lookup_key) claimLookupKey(b, req.account, key, bool(pr, 'transfer_lookup_key') ?? false, 'lookup_key');
        price.lookup_key = key;
      }
      if (pr.metadata !== undefined) price.metadata = mergeMetadata(price.metadata, pr);
      if (pr.nickname !== undefined) price.nickname = str(pr, 'nickname') ?? null;
      const tax = str(pr, 'tax_behavior');
      if (tax !== undefined && tax !== price.tax_behavior) {
        if (price.tax_behavior !== 'unspecified')
          throw invalidRequest('tax_behavior cannot be changed once it is set to exclusive or inclusive.', { param: 'tax_behavior' });
        price.tax_behavior = tax;
      }
      const saved = b.prices.save(price);
      const prev = previousAttributes(before, saved);
      if (hasChanges(prev)) core.emitEvent({ type: 'price.updated', object: saved, account: req.account, previousAttributes: prev });
      return saved;
    },
  );
  core.route(
    'GET',
    '/v1/prices',
    {
      list: true,
      params: {
        active: p.boolean,
        currency: p.string,
        product: p.string,
        type: p.enum('one_time', 'recurring'),
        lookup_keys: p.array(p.string),
        recurring: { interval: p.enum('day', 'week', 'month', 'year'), usage_type: p.enum('licensed', 'metered'), meter: p.string },
      },
    },
    (req: ApiRequest) => {
      const pr = req.params;
      const active = bool(pr, 'active');
      const currency = str(pr, 'currency')?.toLowerCase();
      const product = str(pr, 'product');
      const type = str(pr, 'type');
      const keys = arr(pr, 'lookup_keys')?.map(String);
      if (keys && keys.length > 10) throw invalidRequest('You may pass at most 10 lookup keys.', { param: 'lookup_keys' });
      const interval = str(pr, 'recurring.interval');
      const usage = str(pr, 'recurring.usage_type');
      const list = b.prices.list(
        req.account,
        (x) =>
          (active === undefined || x.active === active) &&
          (!currency || x.currency === currency) &&
          (!product || x.product === product) &&
          (!type || x.type === type) &&
          (!keys || (x.lookup_key !== null && keys.includes(x.lookup_key))) &&
          (!interval || x.recurring?.interval === interval) &&
          (!usage || x.recurring?.usage_type === usage) &&
          (!obj(pr, 'recurring') || x.recurring !== null),
      );
      return core.paginate(req, list);
    },
  );
}
