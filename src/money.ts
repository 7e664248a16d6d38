// The one place that knows how money is written, read and bounded. Amounts are integers in the
// currency's minor unit everywhere else; nothing outside this module divides by 100.

/** Currencies Stripe treats as zero-decimal: the amount is already in whole units (¥500 is 500). */
const ZERO_DECIMAL = new Set(['bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf']);

/** Currencies sellers may price in. Each needs a minimum below. */
export const SUPPORTED_CURRENCIES = ['usd', 'eur', 'gbp', 'jpy', 'cad', 'aud', 'chf', 'sek'] as const;
export type Currency = (typeof SUPPORTED_CURRENCIES)[number];

/**
 * Stripe's minimum charge per currency, in minor units (stripe.com/docs/currencies#minimum-and-maximum-charge-amounts).
 * A charge below this is rejected by Stripe, so we reject the price up front.
 */
const MINIMUM_CHARGE: Record<Currency, number> = {
  usd: 50,
  eur: 50,
  gbp: 30,
  jpy: 50,
  cad: 50,
  aud: 50,
  chf: 50,
  sek: 300,
};

/** Stripe accepts at most eight digits in an amount. */
export const MAXIMUM_AMOUNT = 99_999_999;

export function isSupportedCurrency(code: string): code is Currency {
  return (SUPPORTED_CURRENCIES as readonly string[]).includes(code);
}

export function minorUnitDigits(currency: string): 0 | 2 {
  return ZERO_DECIMAL.has(currency.toLowerCase()) ? 0 : 2;
}

export function minimumCharge(currency: Currency): number {
  return MINIMUM_CHARGE[currency];
}

export function assertMinorUnits(amount: number): number {
  if (!Number.isSafeInteger(amount)) throw new RangeError(`amount must be a safe integer of minor units, got ${amount}`);
  return amount;
}

/**
 * "12.34" in usd → 1234; "500" in jpy → 500. Returns an error message for anything else.
 *
 * One written form only: digits, and for two-decimal currencies an optional point and one or two
 * decimals. Separators are never guessed: "12,50" is 12.50 in Paris and 1250 in New York, and
 * "1,0,0.00" is nothing at all, so any comma, space or apostrophe is refused with a message saying
 * how to write it, rather than dropped (a listing price has no confirmation step to catch a 100×).
 */
export function parseMoney(input: string, currency: string): { ok: true; amount: number } | { ok: false; message: string } {
  const digits = minorUnitDigits(currency);
  const example = digits === 0 ? '1250' : '1250.50';
  const text = input.trim();
  if (/[,\s'’_]/.test(text)) {
    return {
      ok: false,
      message: `Write the amount without commas, spaces or other separators${digits === 0 ? '' : ', with a point for decimals'}, like ${example}`,
    };
  }
  const pattern = digits === 0 ? /^\d+$/ : /^\d+(\.\d{1,2})?$/;
  if (!pattern.test(text)) {
    return {
      ok: false,
      message:
        digits === 0 ? `Enter a whole number: ${currency.toUpperCase()} has no decimal places` : 'Enter an amount like 12.50, with at most two decimal places',
    };
  }
  const [whole = '0', fraction = ''] = text.split('.');
  const amount = Number(whole) * 10 ** digits + Number(fraction.padEnd(digits, '0') || '0');
  if (!Number.isSafeInteger(amount)) return { ok: false, message: 'That amount is too large' };
  return { ok: true, amount };
}

/** Minor units → the plain decimal a form field shows ("12.50"; "500" for jpy). */
export function toDecimalString(amount: number, currency: string): string {
  const digits = minorUnitDigits(currency);
  if (digits === 0) return String(amount);
  const sign = amount < 0 ? '-' : '';
  const abs = Math.abs(amount);
  return `${sign}${Math.trunc(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** Minor units → what a person reads ("$12.50", "¥500"). */
export function formatMoney(amount: number, currency: string): string {
  const digits = minorUnitDigits(currency);
  return formatterFor(currency, digits).format(digits === 0 ? amount : amount / 100);
}

// Building an Intl.NumberFormat costs about a hundred times more than using one, and a catalogue
// page formats every price on it: keep one per currency.
const formatters = new Map<string, Intl.NumberFormat>();
function formatterFor(currency: string, digits: 0 | 2): Intl.NumberFormat {
  const code = currency.toUpperCase();
  let formatter = formatters.get(code);
  if (formatter === undefined) {
    formatter = new Intl.NumberFormat('en-US', { style: 'currency', currency: code, minimumFractionDigits: digits, maximumFractionDigits: digits });
    formatters.set(code, formatter);
  }
  return formatter;
}
