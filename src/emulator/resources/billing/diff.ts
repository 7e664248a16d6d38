/**
 * `data.previous_attributes` of `*.updated` events: the fields that changed, with their old
 * values. Nested objects list only their changed keys (Stripe sends
 * `{invoice_settings: {default_payment_method: null}}`, not the whole settings object); arrays
 * and lists are compared and reported whole.
 */
type Json = unknown;

function isPlainObject(v: Json): v is Record<string, Json> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function same(a: Json, b: Json): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function diffObjects(before: Record<string, Json>, after: Record<string, Json>): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const b = before[key];
    const a = after[key];
    if (same(a, b)) continue;
    // A list object (`{object: 'list', data}`) is reported whole, like arrays.
    if (isPlainObject(a) && isPlainObject(b) && a.object !== 'list' && typeof a.id !== 'string') {
      out[key] = diffObjects(b, a);
    } else {
      out[key] = b === undefined ? null : b;
    }
  }
  return out;
}

/** Changed fields of `after` relative to `before`, with the values they had in `before`. */
export function previousAttributes<T extends object>(before: T, after: T): Record<string, unknown> {
  return diffObjects(before as Record<string, Json>, after as Record<string, Json>);
}

export function hasChanges(prev: Record<string, unknown>): boolean {
  return Object.keys(prev).length > 0;
}
