// What request logs may say. Query strings carry secrets we do not choose: Stripe appends
// `payment_intent_client_secret` to the return URL of the custom flow, and any future provider may
// do the same. So every query value is replaced (the keys stay: they tell what kind of request it
// was), secret-looking tokens are cut out of paths and error messages, and fields with secret names
// are removed wherever they appear in a logged object.
import type { FastifyError, FastifyRequest } from 'fastify';

export const REDACTED = '[redacted]';

// Stripe's formats: client secrets (`pi_…_secret_…`, `seti_…_secret_…`), secret and restricted
// keys, webhook signing secrets. Our own session tokens never appear in URLs.
const SECRET_TOKENS = /(_secret_)[A-Za-z0-9]+|\b(sk|rk)_(live|test)_[A-Za-z0-9]+|\bwhsec_[A-Za-z0-9]+/g;

// A card number: 13 to 19 digits, maybe grouped by spaces or dashes; cut out only if it passes the
// Luhn check, so ids and timestamps that merely have many digits stay readable.
const CARD_LIKE = /\b\d(?:[ -]?\d){12,18}\b/g;

export function redactSecretTokens(text: string): string {
  return text
    .replace(SECRET_TOKENS, (_match, secretInfix: string | undefined) => (secretInfix !== undefined ? `${secretInfix}${REDACTED}` : REDACTED))
    .replace(CARD_LIKE, (match) => (passesLuhn(match.replace(/[ -]/g, '')) ? REDACTED : match));
}

function passesLuhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    sum += digit;
  }
  return sum % 10 === 0;
}

/** `/orders/1/complete?payment_intent=pi_1&payment_intent_client_secret=…` → values replaced. */
export function redactUrl(url: string): string {
  const queryStart = url.indexOf('?');
  const path = redactSecretTokens(queryStart === -1 ? url : url.slice(0, queryStart));
  if (queryStart === -1) return path;
  const keys = url
    .slice(queryStart + 1)
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const key = pair.split('=')[0] ?? '';
      return `${redactSecretTokens(key)}=${REDACTED}`;
    });
  return `${path}?${keys.join('&')}`;
}

/** Fastify's request log line, with the URL redacted and the client address we actually trust. */
export function requestLogSerializer(request: FastifyRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: redactUrl(request.url),
    host: request.host,
    remoteAddress: request.clientAddress,
    remotePort: request.socket?.remotePort,
  };
}

/** Errors by type and message only: no stack traces, and no secret that a message quoted. */
export function errorLogSerializer(error: FastifyError): { type: string; message: string; stack: string; code?: string; statusCode?: number } {
  // pino's type wants a stack; we log an empty one on purpose.
  return { type: error.name, message: redactSecretTokens(String(error.message)), stack: '', code: error.code, statusCode: error.statusCode };
}

/** Fields whose values never reach a log line, at any depth of the logged object. */
const SECRET_FIELDS = [
  'client_secret',
  'payment_intent_client_secret',
  'setup_intent_client_secret',
  'password',
  'secret',
  'token',
  'cookie',
  'authorization',
  'stripe-signature',
];
const SECRET_FIELD_NAMES = new Set(SECRET_FIELDS);
/** One of those names (letters, `_` and `-` only) as a key in a JSON text: in quotes, then a colon. */
const SECRET_KEY_IN_JSON = new RegExp(`"(?:${SECRET_FIELDS.join('|')})":`);

/**
 * pino's `hooks.streamWrite`: a finished JSON log line with the value of every secret-named field
 * replaced, however deep. Nearly no line has one, and for those this is one regular-expression
 * test; only a line that does is parsed and written again. (pino's own `redact` did this for every
 * line, walking every field through its wildcard paths: ~70 µs of each webhook request's two
 * log lines, a tenth of what the request costs.)
 */
export function redactSecretFields(line: string): string {
  if (!SECRET_KEY_IN_JSON.test(line)) return line;
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch {
    // pino only writes JSON; should anything else come, keep none of it rather than a secret.
    return `${JSON.stringify({ msg: 'a log line naming a secret field could not be read and was dropped' })}\n`;
  }
  return `${JSON.stringify(withoutSecretFields(entry))}\n`;
}

function withoutSecretFields(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSecretFields);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, SECRET_FIELD_NAMES.has(key) ? REDACTED : withoutSecretFields(item)]));
}
