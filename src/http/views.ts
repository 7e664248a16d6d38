// The Handlebars instance behind every page, with the few helpers templates need. `{{ }}` escapes
// everything; user data is never rendered with triple braces.
import Handlebars from 'handlebars';
import { formatMoney } from '../money.ts';

const CODE_WORDS: Record<string, string> = {
  not_started: 'Not started',
  onboarding_incomplete: 'Setup not finished',
  pending_verification: 'Being verified',
  restricted: 'Action needed',
  enabled: 'Enabled',
  rejected: 'Rejected',
  'requirements.past_due': 'Required information is overdue',
  'requirements.pending_verification': 'Stripe is verifying information',
  payment_failed: 'Payment failed',
  pending: 'Pending',
  needs_response: 'Response needed',
  under_review: 'Under review',
  warning_needs_response: 'Inquiry: response needed',
  warning_under_review: 'Inquiry under review',
  warning_closed: 'Inquiry closed',
};

export function codeWords(code: string): string {
  const known = CODE_WORDS[code];
  if (known !== undefined) return known;
  const text = code
    .replace(/^requirements\./, 'requirements ')
    .replace(/[._]/g, ' ')
    .trim();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function createViewEngine(): typeof Handlebars {
  const hbs = Handlebars.create();
  hbs.registerHelper('money', (amount: unknown, currency: unknown) =>
    typeof amount === 'number' && typeof currency === 'string' ? formatMoney(amount, currency) : '',
  );
  hbs.registerHelper('date', (value: unknown) => {
    const date = value instanceof Date ? value : typeof value === 'string' || typeof value === 'number' ? new Date(value) : null;
    if (date === null || Number.isNaN(date.getTime())) return '';
    return date.toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
  });
  hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  /** A stored code (account state, status, interval) in words: "onboarding_incomplete" → "Onboarding incomplete". */
  hbs.registerHelper('words', (value: unknown) => (typeof value === 'string' ? codeWords(value) : ''));
  /** Currency codes as people write them: USD, not usd. */
  hbs.registerHelper('upper', (value: unknown) => (typeof value === 'string' ? value.toUpperCase() : ''));
  /** A value inside a URL's query (`?next={{uri next}}`); Handlebars then escapes it for HTML. */
  hbs.registerHelper('uri', (value: unknown) => (typeof value === 'string' ? encodeURIComponent(value) : ''));
  hbs.registerHelper('lookupError', (errors: unknown, field: unknown) =>
    errors !== null && typeof errors === 'object' && typeof field === 'string' ? (errors as Record<string, string>)[field] : undefined,
  );
  hbs.registerHelper('lookupValue', (values: unknown, field: unknown) =>
    values !== null && typeof values === 'object' && typeof field === 'string' ? (values as Record<string, string>)[field] : undefined,
  );
  return hbs;
}
