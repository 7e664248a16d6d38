import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Random base62 string. */
export function randomToken(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[(bytes[i] ?? 0) % 62];
  return out;
}

/**
 * The single id generator: `newId('po')` → `po_1…` (Stripe-like: prefix, `_1`, 23 base62 chars).
 * Prefixes: acct, evt, po, txn, ch, pi, pm, py, re, tr, trr, fee, fr, du, cs, ba, we, req, link …
 */
export function newId(prefix: string): string {
  return `${prefix}_1${randomToken(23)}`;
}
