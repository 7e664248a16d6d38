// The rules of a listing, with no database: what a seller may list (the checks a schema cannot
// express, since the price depends on the currency).
import type { ListingKind } from '../db/schema.ts';
import { isSupportedCurrency, MAXIMUM_AMOUNT, minimumCharge, parseMoney, formatMoney, type Currency } from '../money.ts';

export const TITLE_MAX = 120;
export const DESCRIPTION_MAX = 5000;
/** A bound that catches typos (an extra zero run) without limiting any real shop. */
export const STOCK_MAX = 1_000_000;

/** The listing form as submitted (strings), after the schema has checked shapes and lengths. */
export interface ListingForm {
  title: string;
  description?: string | undefined;
  price: string;
  currency: string;
  stock?: string | undefined;
  unlimited?: string | undefined;
  /** 'physical' (shipped: the buyer gives an address) or 'digital'; a form without it lists a physical thing. */
  kind?: ListingKind | undefined;
}

export const LISTING_KINDS: readonly ListingKind[] = ['physical', 'digital'];

export interface ListingInput {
  title: string;
  description: string;
  priceAmount: number;
  currency: Currency;
  /** null = unlimited. */
  stock: number | null;
  kind: ListingKind;
}

/**
 * The checks a schema cannot express: the price depends on the currency (decimals, Stripe's minimum
 * charge, the eight-digit maximum), and stock depends on the "unlimited" box.
 */
export function validateListing(form: ListingForm): { ok: true; value: ListingInput } | { ok: false; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const title = form.title.trim();
  if (title === '') errors.title = `Enter a title (up to ${TITLE_MAX} characters)`;
  const currency = form.currency.toLowerCase();
  let priceAmount = 0;
  if (!isSupportedCurrency(currency)) {
    errors.currency = 'Choose one of the listed currencies';
  } else {
    const parsed = parseMoney(form.price, currency);
    if (!parsed.ok) {
      errors.price = parsed.message;
    } else if (parsed.amount < minimumCharge(currency)) {
      errors.price = `The minimum price in ${currency.toUpperCase()} is ${formatMoney(minimumCharge(currency), currency)} (Stripe's minimum charge)`;
    } else if (parsed.amount > MAXIMUM_AMOUNT) {
      errors.price = `The maximum price in ${currency.toUpperCase()} is ${formatMoney(MAXIMUM_AMOUNT, currency)}`;
    } else {
      priceAmount = parsed.amount;
    }
  }
  let stock: number | null = null;
  if (form.unlimited !== 'on') {
    const text = (form.stock ?? '').trim();
    if (!/^\d+$/.test(text) || Number(text) > STOCK_MAX) {
      errors.stock = `Enter how many you have in stock (0 to ${STOCK_MAX.toLocaleString('en-US')}), or choose "Unlimited"`;
    } else {
      stock = Number(text);
    }
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: { title, description: (form.description ?? '').trim(), priceAmount, currency: currency as Currency, stock, kind: form.kind ?? 'physical' },
  };
}
