/**
 * Shipping addresses, as Stripe handles them:
 * - `shipping_address_collection[allowed_countries][]` on a Checkout Session makes its hosted page
 *   ask for a shipping address in one of those countries; what the buyer typed is returned as the
 *   session's `collected_information.shipping_details` ({name, address}) and copied onto the
 *   session's PaymentIntent as `shipping` (and from there onto its charge);
 * - `shipping` on a PaymentIntent (`name` and `address[line1]` required) is kept as given.
 */
import type Stripe from 'stripe';
import { str, arr, obj, type Params } from '../../core/params.ts';
import { invalidRequest, missingParam } from '../../core/errors.ts';
import { html, raw, type RawHtml } from '../../core/html.ts';

const COUNTRY = /^[A-Z]{2}$/;

/** `shipping_address_collection` of a session's create params, checked; null when absent. */
export function shippingAddressCollectionOf(pr: Params): Stripe.Checkout.Session.ShippingAddressCollection | null {
  const sac = obj(pr, 'shipping_address_collection');
  if (!sac) return null;
  const countries = (arr(sac, 'allowed_countries') ?? []).map(String);
  if (countries.length === 0) throw missingParam('shipping_address_collection[allowed_countries]');
  countries.forEach((c, i) => {
    if (!COUNTRY.test(c))
      throw invalidRequest(`Invalid shipping_address_collection[allowed_countries][${i}]: must be a two-letter country code (got \`${c}\`).`, {
        param: `shipping_address_collection[allowed_countries][${i}]`,
      });
  });
  return { allowed_countries: countries };
}

/** A PaymentIntent's `shipping` param; undefined when absent, an error when it lacks what Stripe requires. */
export function intentShippingOf(pr: Params): Stripe.PaymentIntent.Shipping | undefined {
  const s = obj(pr, 'shipping');
  if (!s) return undefined;
  const name = str(s, 'name');
  if (!name) throw missingParam('shipping[name]');
  const address = obj(s, 'address');
  if (!address) throw missingParam('shipping[address]');
  if (!str(address, 'line1')) throw missingParam('shipping[address][line1]');
  return {
    address: addressOf((k) => str(address, k)),
    carrier: str(s, 'carrier') ?? null,
    name,
    phone: str(s, 'phone') ?? null,
    tracking_number: str(s, 'tracking_number') ?? null,
  };
}

function addressOf(get: (key: string) => string | undefined): Stripe.Address {
  const value = (key: string) => {
    const v = get(key)?.trim();
    return v ? v : null;
  };
  return {
    city: value('city'),
    country: value('country'),
    line1: value('line1'),
    line2: value('line2'),
    postal_code: value('postal_code'),
    state: value('state'),
  };
}

const FIELDS = ['shipping_name', 'shipping_line1', 'shipping_line2', 'shipping_city', 'shipping_state', 'shipping_postal_code', 'shipping_country'] as const;

/** The hosted page's shipping fields → the details, or what the buyer must fix. */
export function shippingFromForm(
  form: Params,
  collection: Stripe.Checkout.Session.ShippingAddressCollection,
): { details: Stripe.Checkout.Session.CollectedInformation.ShippingDetails } | { error: string } {
  const get = (key: string) => (typeof form[`shipping_${key}`] === 'string' ? String(form[`shipping_${key}`]) : undefined);
  const name = get('name')?.trim() ?? '';
  const address = addressOf(get);
  if (!name || !address.line1 || !address.city || !address.postal_code) return { error: 'Enter your shipping name and address.' };
  if (!address.country || !(collection.allowed_countries as string[]).includes(address.country)) return { error: 'We cannot ship to this country.' };
  return { details: { name, address } };
}

/** The values the buyer typed, to show again with an error. */
export function typedShipping(form: Params): Record<string, string> {
  return Object.fromEntries(FIELDS.map((k) => [k, typeof form[k] === 'string' ? String(form[k]) : '']));
}

/** The session's shipping-address fields on the hosted page (nothing when it does not collect one). */
export function shippingFieldsHtml(s: Stripe.Checkout.Session, typed: Record<string, string> = {}): RawHtml {
  const collection = s.shipping_address_collection;
  if (!collection) return raw('');
  // After a decline or a failed 3DS the page shows the address already given.
  const known = s.collected_information?.shipping_details;
  const before: Record<string, string | null | undefined> = known
    ? { shipping_name: known.name, ...Object.fromEntries(Object.entries(known.address ?? {}).map(([k, v]) => [`shipping_${k}`, v])) }
    : {};
  const value = (k: string) => typed[k] || (before[k] ?? '');
  const input = (key: string, label: string, autocomplete: string, required: boolean) =>
    html`<label
      >${label} <input name="${key}" value="${value(key)}" autocomplete="shipping ${autocomplete}" data-testid="${key}" ${required ? raw('required') : raw('')}
    /></label>`;
  const options = (collection.allowed_countries as string[]).map(
    (c) => html`<option value="${c}" ${value('shipping_country') === c ? raw('selected') : raw('')}>${c}</option>`,
  );
  return html`<fieldset data-testid="shipping-address">
    <legend>Shipping address</legend>
    ${input('shipping_name', 'Full name', 'name', true)} ${input('shipping_line1', 'Address', 'address-line1', true)}
    ${input('shipping_line2', 'Address line 2', 'address-line2', false)} ${input('shipping_city', 'City', 'address-level2', true)}
    ${input('shipping_state', 'State or region', 'address-level1', false)} ${input('shipping_postal_code', 'Postal code', 'postal-code', true)}
    <label
      >Country
      <select name="shipping_country" data-testid="shipping_country">
        ${options}
      </select></label
    >
  </fieldset>`;
}

/** What the page collected, on the session and (as Stripe does) on its PaymentIntent's `shipping`. */
export function collectedInformation(details: Stripe.Checkout.Session.CollectedInformation.ShippingDetails): Stripe.Checkout.Session.CollectedInformation {
  return { business_name: null, individual_name: null, shipping_details: details };
}

export function intentShipping(details: Stripe.Checkout.Session.CollectedInformation.ShippingDetails): Stripe.PaymentIntent.Shipping {
  return { address: details.address, carrier: null, name: details.name, phone: null, tracking_number: null };
}
