/**
 * Products: `POST/GET /v1/products`, `GET/POST/DELETE /v1/products/:id`. `default_price_data`
 * creates the product's first price (`price.created`) and sets `default_price`. A product with
 * prices cannot be deleted ("archive it with `active: false`" is Stripe's answer too).
 */
import type Stripe from 'stripe';
import { p, str, bool, obj, arr, mergeMetadata, type Params } from '../../core/params.ts';
import { invalidRequest, resourceMissing } from '../../core/errors.ts';
import type { Billing } from './context.ts';
import { previousAttributes, hasChanges } from './diff.ts';
import { createPrice, recurringSpec } from './prices.ts';

const dimensions = p.object({ height: p.number, length: p.number, weight: p.number, width: p.number }, ['height', 'length', 'weight', 'width']);
const features = p.array(p.object({ name: p.string }, ['name']));
const common = {
  active: p.boolean,
  description: p.string,
  images: p.array(p.string),
  marketing_features: p.union(p.enum(''), features),
  metadata: p.hash,
  package_dimensions: p.union(p.enum(''), dimensions),
  shippable: p.boolean,
  statement_descriptor: p.string,
  tax_code: p.string,
  unit_label: p.string,
  url: p.string,
};

export function requireProduct(b: Billing, id: string, account: string, param = 'id'): Stripe.Product {
  const prod = b.products.get(id, account);
  if (!prod || b.products.internal(id).deleted === true) throw resourceMissing('product', id, param);
  return prod;
}

function applyCommon(prod: Stripe.Product, pr: Params): void {
  const active = bool(pr, 'active');
  if (active !== undefined) prod.active = active;
  if (pr.description !== undefined) prod.description = str(pr, 'description') ?? null;
  const images = arr(pr, 'images');
  if (images) prod.images = images.map(String);
  if (pr.marketing_features !== undefined) {
    prod.marketing_features = (arr(pr, 'marketing_features') ?? []).map((f) => ({
      name: f && typeof f === 'object' && !Array.isArray(f) ? (str(f, 'name') ?? '') : '',
    }));
  }
  if (pr.metadata !== undefined) prod.metadata = mergeMetadata(prod.metadata, pr);
  if (pr.name !== undefined) {
    const name = str(pr, 'name');
    if (!name) throw invalidRequest('A product name is required.', { param: 'name' });
    prod.name = name;
  }
  if (pr.package_dimensions !== undefined) {
    const d = obj(pr, 'package_dimensions');
    prod.package_dimensions = d ? { height: Number(d.height), length: Number(d.length), weight: Number(d.weight), width: Number(d.width) } : null;
  }
  const shippable = bool(pr, 'shippable');
  if (shippable !== undefined) prod.shippable = shippable;
  if (pr.statement_descriptor !== undefined) {
    const sd = str(pr, 'statement_descriptor') ?? null;
    if (sd && (sd.length < 5 || sd.length > 22 || /[<>\\'"*]/.test(sd))) {
      throw invalidRequest('The statement descriptor must be 5 to 22 characters and may not contain <, >, \\, \', " or *.', { param: 'statement_descriptor' });
    }
    prod.statement_descriptor = sd;
  }
  if (pr.tax_code !== undefined) prod.tax_code = str(pr, 'tax_code') ?? null;
  if (pr.unit_label !== undefined) prod.unit_label = str(pr, 'unit_label') ?? null;
  if (pr.url !== undefined) prod.url = str(pr, 'url') ?? null;
}

export function createProduct(b: Billing, account: string, pr: Params): Stripe.Product {
  const now = b.core.now();
  const wantedId = str(pr, 'id');
  if (wantedId && b.products.get(wantedId)) throw invalidRequest(`Product already exists.`, { code: 'resource_already_exists', param: 'id' });
  const prod: Stripe.Product = {
    id: wantedId ?? b.core.newId('prod'),
    object: 'product',
    active: true,
    created: now,
    default_price: null,
    description: null,
    images: [],
    livemode: false,
    marketing_features: [],
    metadata: {},
    name: '',
    package_dimensions: null,
    shippable: null,
    statement_descriptor: null,
    tax_code: null,
    tax_details: null,
    type: 'service',
    unit_label: null,
    updated: now,
    url: null,
  };
  applyCommon(prod, pr);
  b.products.insert(account, prod);
  const dpd = obj(pr, 'default_price_data');
  if (dpd) {
    const price = createPrice(b, account, dpd, { product: prod.id, paramPrefix: 'default_price_data[' });
    prod.default_price = price.id;
    b.products.save(prod);
  }
  b.core.emitEvent({ type: 'product.created', object: prod, account });
  return prod;
}

export function registerProducts(b: Billing): void {
  const { core } = b;
  core.route(
    'POST',
    '/v1/products',
    {
      required: ['name'],
      params: {
        ...common,
        name: p.string,
        id: p.string,
        type: p.enum('service', 'good'),
        default_price_data: p.object(
          {
            currency: p.string,
            unit_amount: p.integer,
            unit_amount_decimal: p.string,
            recurring: recurringSpec,
            tax_behavior: p.enum('exclusive', 'inclusive', 'unspecified'),
            metadata: p.hash,
          },
          ['currency'],
        ),
      },
    },
    (req) => createProduct(b, req.account, req.params),
  );
  core.route('GET', '/v1/products/:id', {}, (req) => {
    const id = req.pathParams.id ?? '';
    const prod = b.products.require(id, req.account);
    if (b.products.internal(id).deleted === true) return { id, object: 'product', deleted: true };
    return prod;
  });
  core.route('POST', '/v1/products/:id', { params: { ...common, name: p.string, default_price: p.string } }, (req) => {
    const before = requireProduct(b, req.pathParams.id ?? '', req.account);
    const prod: Stripe.Product = structuredClone(before);
    applyCommon(prod, req.params);
    if (req.params.default_price !== undefined) {
      const priceId = str(req.params, 'default_price');
      if (priceId) {
        const price = b.prices.get(priceId, req.account);
        if (!price || price.product !== prod.id) throw invalidRequest(`No such price: '${priceId}'`, { code: 'resource_missing', param: 'default_price' });
        if (!price.active) throw invalidRequest('The default price must be active.', { param: 'default_price' });
      }
      prod.default_price = priceId ?? null;
    }
    const prev = previousAttributes(before, prod);
    if (!hasChanges(prev)) return before;
    prod.updated = core.now();
    const saved = b.products.save(prod);
    core.emitEvent({ type: 'product.updated', object: saved, account: req.account, previousAttributes: prev });
    return saved;
  });
  core.route('DELETE', '/v1/products/:id', {}, (req) => {
    const prod = requireProduct(b, req.pathParams.id ?? '', req.account);
    if (b.prices.list(req.account, (x) => x.product === prod.id).length > 0) {
      throw invalidRequest('This product cannot be deleted because it has one or more user-created prices.', { param: 'id' });
    }
    b.products.setInternal(prod.id, { deleted: true });
    core.emitEvent({ type: 'product.deleted', object: prod, account: req.account });
    return { id: prod.id, object: 'product', deleted: true };
  });
  core.route(
    'GET',
    '/v1/products',
    { list: true, params: { active: p.boolean, ids: p.array(p.string), shippable: p.boolean, type: p.enum('service', 'good'), url: p.string } },
    (req) => {
      const active = bool(req.params, 'active');
      const ids = arr(req.params, 'ids')?.map(String);
      const shippable = bool(req.params, 'shippable');
      const url = str(req.params, 'url');
      return core.paginate(
        req,
        b.products.list(
          req.account,
          (x, internal) =>
            internal.deleted !== true &&
            (active === undefined || x.active === active) &&
            (!ids || ids.includes(x.id)) &&
            (shippable === undefined || x.shippable === shippable) &&
            (!url || x.url === url),
        ),
      );
    },
  );
}

/** `product_data` of a price / `price_data` (a product created on the fly, `product.created`). */
export function createProductFromData(b: Billing, account: string, data: Params): Stripe.Product {
  return createProduct(b, account, data);
}
