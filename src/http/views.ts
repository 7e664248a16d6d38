// The Handlebars instance behind every page, with the few helpers templates need. `{{ }}` escapes
// everything; user data is never rendered with triple braces.
import Handlebars from 'handlebars';
import { formatMoney } from '../money.ts';

export function createViewEngine(): typeof Handlebars {
  const hbs = Handlebars.create();
  hbs.registerHelper('money', (amount: unknown, currency: unknown) =>
    typeof amount === 'number' && typeof currency === 'string' ? formatMoney(amount, currency) : '');
  hbs.registerHelper('date', (value: unknown) => {
    const date = value instanceof Date ? value : typeof value === 'string' || typeof value === 'number' ? new Date(value) : null;
    if (date === null || Number.isNaN(date.getTime())) return '';
    return date.toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
  });
  hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  /** Currency codes as people write them: USD, not usd. */
  hbs.registerHelper('upper', (value: unknown) => (typeof value === 'string' ? value.toUpperCase() : ''));
  /** A value inside a URL's query (`?next={{uri next}}`); Handlebars then escapes it for HTML. */
  hbs.registerHelper('uri', (value: unknown) => (typeof value === 'string' ? encodeURIComponent(value) : ''));
  hbs.registerHelper('lookupError', (errors: unknown, field: unknown) =>
    errors !== null && typeof errors === 'object' && typeof field === 'string' ? (errors as Record<string, string>)[field] : undefined);
  hbs.registerHelper('lookupValue', (values: unknown, field: unknown) =>
    values !== null && typeof values === 'object' && typeof field === 'string' ? (values as Record<string, string>)[field] : undefined);
  return hbs;
}
