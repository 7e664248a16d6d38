// Country codes (ISO 3166-1 alpha-2) and their names, from the ICU data Node carries, so a typo in
// SHIPPING_COUNTRIES ("UK" for GB, "XX") is caught at start instead of being refused by Stripe at
// a buyer's checkout.
const names = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'code' });

/** Shipping destinations when SHIPPING_COUNTRIES is not set. */
export const DEFAULT_SHIPPING_COUNTRIES = ['US', 'CA', 'GB', 'IE', 'FR', 'DE', 'NL', 'ES', 'IT', 'AU'];

/**
 * Codes ICU names that Stripe's `allowed_countries` refuses: groupings and the reserved UK (the
 * code is GB), and the places Stripe does not ship to (sanctioned, or served by another code).
 */
const NOT_COUNTRIES = new Set([
  'EU',
  'EZ',
  'UN',
  'QO',
  'XA',
  'XB',
  'ZZ',
  'UK',
  'AS',
  'CX',
  'CC',
  'CU',
  'HM',
  'IR',
  'KP',
  'MH',
  'FM',
  'NF',
  'MP',
  'PW',
  'SD',
  'SY',
  'UM',
  'VI',
]);

export function isCountryCode(code: string): boolean {
  if (!/^[A-Z]{2}$/.test(code) || NOT_COUNTRIES.has(code)) return false;
  try {
    return names.of(code) !== code;
  } catch {
    return false;
  }
}

/** "FR" → "France" (the code itself if unknown). */
export function countryName(code: string): string {
  try {
    return names.of(code) ?? code;
  } catch {
    return code;
  }
}

/** SHIPPING_COUNTRIES ("US, CA, GB") → codes, with a problem for every entry that is not a country code. */
export function parseCountryList(raw: string | undefined, name: string, problems: string[]): string[] {
  if (raw === undefined) return DEFAULT_SHIPPING_COUNTRIES;
  const codes = [
    ...new Set(
      raw
        .split(',')
        .map((c) => c.trim().toUpperCase())
        .filter((c) => c !== ''),
    ),
  ];
  const wrong = codes.filter((c) => !isCountryCode(c));
  if (wrong.length > 0)
    problems.push(`${name} must be ISO 3166-1 alpha-2 country codes separated by commas, e.g. US,CA,GB (not a country code: ${wrong.join(', ')})`);
  if (codes.length === 0) problems.push(`${name} must name at least one country`);
  return codes.filter((c) => isCountryCode(c));
}
