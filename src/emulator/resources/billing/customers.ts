/**
 * Customers: `POST/GET /v1/customers`, `GET/POST/DELETE /v1/customers/:id`,
 * `GET /v1/customers/:id/payment_methods[/:pm]`. A deleted customer is kept as a tombstone:
 * retrieving it returns `{id, object: 'customer', deleted: true}` as Stripe does; it is gone from
 * lists and can no longer be updated or billed. Deleting a customer cancels its subscriptions.
 */
import type Stripe from 'stripe';
import type { ApiRequest } from '../../core/core.ts';
import { p, str, int, obj, arr, mergeMetadata, type Params } from '../../core/params.ts';
import { invalidRequest, resourceMissing } from '../../core/errors.ts';
import { randomToken } from '../../core/ids.ts';
import type { Billing } from './context.ts';
import { previousAttributes, hasChanges } from './diff.ts';
import { attachPaymentMethod } from './payment-methods.ts';

const address = { city: p.string, country: p.string, line1: p.string, line2: p.string, postal_code: p.string, state: p.string };
const invoiceSettingsSpec = {
  custom_fields: p.union(p.enum(''), p.array({ name: p.string, value: p.string })),
  default_payment_method: p.string,
  footer: p.string,
  rendering_options: p.any,
};
const TEST_CLOCKS_UNSUPPORTED = 'Test clocks are not emulated: the whole emulator runs on one clock. Advance it with POST /_emulator/clock/advance instead.';
const writable = {
  address: p.union(p.enum(''), address),
  balance: p.integer,
  description: p.string,
  email: p.string,
  invoice_prefix: p.string,
  invoice_settings: invoiceSettingsSpec,
  metadata: p.hash,
  name: p.string,
  next_invoice_sequence: p.int(1),
  phone: p.string,
  preferred_locales: p.array(p.string),
  shipping: p.union(p.enum(''), { address, name: p.string, phone: p.string }),
  tax_exempt: p.enum('none', 'exempt', 'reverse', ''),
  test_clock: p.removed('parameter_unknown', TEST_CLOCKS_UNSUPPORTED),
};

export function isDeleted(b: Billing, id: string): boolean {
  return b.customers.get(id) !== undefined && b.customers.internal(id).deleted === true;
}

/** A live (not deleted) customer of `account`, or Stripe's 404 naming `param`. */
export function requireCustomer(b: Billing, id: string, account: string, param = 'id'): Stripe.Customer {
  const c = b.customers.get(id, account);
  if (!c || isDeleted(b, id)) throw resourceMissing('customer', id, param);
  return c;
}

function addressOf(v: Params | undefined): Stripe.Address | null {
  if (!v) return null;
  return {
    city: str(v, 'city') ?? null,
    country: str(v, 'country') ?? null,
    line1: str(v, 'line1') ?? null,
    line2: str(v, 'line2') ?? null,
    postal_code: str(v, 'postal_code') ?? null,
    state: str(v, 'state') ?? null,
  };
}

function shippingOf(v: Params | undefined): Stripe.Customer.Shipping | null {
  if (!v) return null;
  return { address: addressOf(obj(v, 'address')) ?? undefined, name: str(v, 'name') ?? '', phone: str(v, 'phone') ?? null };
}

function customFieldsOf(pr: Params): Stripe.Customer.InvoiceSettings.CustomField[] | null {
  const v = arr(pr, 'invoice_settings.custom_fields');
  if (!v) return null;
  return v.map((f) =>
    f && typeof f === 'object' && !Array.isArray(f) ? { name: str(f, 'name') ?? '', value: str(f, 'value') ?? '' } : { name: '', value: '' },
  );
}

/** The customer's default PM must be one of its attached payment methods. */
function checkDefaultPaymentMethod(b: Billing, account: string, customerId: string, pmId: string): void {
  const pm = b.pay.pms.get(pmId, account);
  if (!pm || pm.customer !== customerId) throw notCustomersPaymentMethod(pmId);
}

function notCustomersPaymentMethod(pmId: string): Error {
  return invalidRequest(`The customer does not have a payment method with the ID ${pmId}. The payment method must be attached to the customer.`, {
    code: 'resource_missing',
    param: 'invoice_settings[default_payment_method]',
  });
}

/** Apply create/update params to a customer (shared by both routes). */
function applyWritable(b: Billing, account: string, c: Stripe.Customer, pr: Params): void {
  if (pr.address !== undefined) c.address = pr.address === '' ? null : addressOf(obj(pr, 'address'));
  const balance = int(pr, 'balance');
  if (balance !== undefined) c.balance = balance;
  if (pr.description !== undefined) c.description = str(pr, 'description') ?? null;
  if (pr.email !== undefined) c.email = str(pr, 'email') ?? null;
  const prefix = str(pr, 'invoice_prefix');
  if (prefix !== undefined) {
    if (!/^[A-Z0-9]{3,12}$/.test(prefix)) throw invalidRequest('Invoice prefix must be 3 to 12 uppercase letters or numbers.', { param: 'invoice_prefix' });
    c.invoice_prefix = prefix;
  }
  const settings = obj(pr, 'invoice_settings');
  if (settings) {
    const next = { ...c.invoice_settings };
    if (settings.default_payment_method !== undefined) {
      const pmId = str(settings, 'default_payment_method');
      if (pmId) checkDefaultPaymentMethod(b, account, c.id, pmId);
      next.default_payment_method = pmId ?? null;
    }
    if (settings.footer !== undefined) next.footer = str(settings, 'footer') ?? null;
    if (settings.custom_fields !== undefined) next.custom_fields = customFieldsOf(pr);
    c.invoice_settings = next;
  }
  if (pr.metadata !== undefined) c.metadata = mergeMetadata(c.metadata, pr);
  if (pr.name !== undefined) c.name = str(pr, 'name') ?? null;
  const seq = int(pr, 'next_invoice_sequence');
  if (seq !== undefined) c.next_invoice_sequence = seq;
  if (pr.phone !== undefined) c.phone = str(pr, 'phone') ?? null;
  const locales = arr(pr, 'preferred_locales');
  if (locales) c.preferred_locales = locales.map(String);
  if (pr.shipping !== undefined) c.shipping = pr.shipping === '' ? null : shippingOf(obj(pr, 'shipping'));
  if (pr.tax_exempt !== undefined) c.tax_exempt = str(pr, 'tax_exempt') ?? 'none';
}

export function createCustomer(b: Billing, account: string, pr: Params): Stripe.Customer {
  const c: Stripe.Customer = {
    id: b.core.newId('cus'),
    object: 'customer',
    address: null,
    balance: 0,
    created: b.core.now(),
    currency: null,
    default_source: null,
    delinquent: false,
    description: null,
    discount: null,
    email: null,
    invoice_prefix: randomToken(8)
      .toUpperCase()
      .replace(/[^A-Z0-9]/g, 'X'),
    invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
    livemode: false,
    metadata: {},
    name: null,
    next_invoice_sequence: 1,
    phone: null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: 'none',
    test_clock: null,
  };
  // `invoice_settings[default_payment_method]` may name the method attached by `payment_method`
  // in the same request (a new customer has no other); anything else is refused before creating.
  const pmToAttach = str(pr, 'payment_method');
  const defaultPm = str(pr, 'invoice_settings.default_payment_method');
  if (defaultPm && defaultPm !== pmToAttach) throw notCustomersPaymentMethod(defaultPm);
  const settings = obj(pr, 'invoice_settings');
  const { default_payment_method: _pm, ...otherSettings } = settings ?? {};
  applyWritable(b, account, c, { ...pr, ...(settings ? { invoice_settings: otherSettings } : {}) });
  b.customers.insert(account, c);
  if (pmToAttach) {
    const pm = attachPaymentMethod(b, account, pmToAttach, c.id);
    if (defaultPm) b.customers.update(c.id, (x) => void (x.invoice_settings.default_payment_method = pm.id));
  }
  const created = requireCustomer(b, c.id, account);
  b.core.emitEvent({ type: 'customer.created', object: created, account });
  return created;
}

export function updateCustomer(b: Billing, account: string, id: string, pr: Params, opts: { emit?: boolean } = {}): Stripe.Customer {
  const before = requireCustomer(b, id, account);
  const after = requireCustomer(b, id, account);
  applyWritable(b, account, after, pr);
  const saved = b.customers.save(after);
  const prev = previousAttributes(before, saved);
  if (hasChanges(prev) && opts.emit !== false) b.core.emitEvent({ type: 'customer.updated', object: saved, account, previousAttributes: prev });
  return saved;
}

/** The payment method subscriptions and invoices of this customer fall back to. */
export function customerDefaultPaymentMethod(c: Stripe.Customer): string | null {
  const pm = c.invoice_settings.default_payment_method;
  return typeof pm === 'string' ? pm : (pm?.id ?? null);
}

export interface CustomerDeletionHooks {
  /** Cancel the customer's subscriptions (provided by the subscriptions module). */
  cancelSubscriptionsOf(account: string, customerId: string): void;
}

export function registerCustomers(b: Billing, hooks: CustomerDeletionHooks): void {
  const { core } = b;
  core.route('POST', '/v1/customers', { params: { ...writable, payment_method: p.string } }, (req) => createCustomer(b, req.account, req.params));
  core.route('GET', '/v1/customers/:id', {}, (req) => {
    const id = req.pathParams.id ?? '';
    const c = b.customers.get(id, req.account);
    if (!c) throw resourceMissing('customer', id);
    if (isDeleted(b, id)) return { id, object: 'customer', deleted: true };
    return c;
  });
  core.route('POST', '/v1/customers/:id', { params: { ...writable, default_source: p.string } }, (req) => {
    if (req.params.default_source !== undefined) {
      throw invalidRequest('Sources are not emulated; use invoice_settings[default_payment_method] with a PaymentMethod.', { param: 'default_source' });
    }
    return updateCustomer(b, req.account, req.pathParams.id ?? '', req.params);
  });
  core.route('DELETE', '/v1/customers/:id', {}, (req) => {
    const c = requireCustomer(b, req.pathParams.id ?? '', req.account);
    hooks.cancelSubscriptionsOf(req.account, c.id);
    b.customers.setInternal(c.id, { deleted: true });
    core.emitEvent({ type: 'customer.deleted', object: c, account: req.account });
    return { id: c.id, object: 'customer', deleted: true };
  });
  core.route('GET', '/v1/customers', { list: true, params: { email: p.string, test_clock: p.string } }, (req: ApiRequest) => {
    const email = str(req.params, 'email');
    return core.paginate(
      req,
      b.customers.list(req.account, (c, internal) => internal.deleted !== true && (email ? c.email === email : true)),
    );
  });
  core.route(
    'GET',
    '/v1/customers/:id/payment_methods',
    { list: true, params: { type: p.string, allow_redisplay: p.enum('always', 'limited', 'unspecified') } },
    (req) => {
      const c = requireCustomer(b, req.pathParams.id ?? '', req.account);
      const type = str(req.params, 'type');
      const redisplay = str(req.params, 'allow_redisplay');
      const pms = b.pay.pms.list(
        req.account,
        (pm) => pm.customer === c.id && (type ? pm.type === type : true) && (redisplay ? pm.allow_redisplay === redisplay : true),
      );
      return core.paginate(req, pms, `/v1/customers/${c.id}/payment_methods`);
    },
  );
  core.route('GET', '/v1/customers/:id/payment_methods/:pm', {}, (req) => {
    const c = requireCustomer(b, req.pathParams.id ?? '', req.account);
    const pm = b.pay.pms.get(req.pathParams.pm ?? '', req.account);
    if (!pm || pm.customer !== c.id) throw resourceMissing('PaymentMethod', req.pathParams.pm ?? '');
    return pm;
  });
}
