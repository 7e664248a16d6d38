// How an audit entry reads to an admin: amounts in money, not minor units ("$12.50", where the
// entry says 1250 and its currency), and people by name next to their id. Pure: the names are
// looked up by the caller (./audit.ts: auditNames).
import { formatMoney } from '../money.ts';

/** Keys whose integer values are amounts in minor units of the object's `currency`. */
const AMOUNT_KEY = /(^|_)(amount|fee|total|net|gross|refunded|reversed|balance)(_|$)/;
/** Keys whose values are user ids (a seller is a user). */
const PERSON_KEY = /(^|_)(seller|buyer|user|actor)_id$/;

/** A copy of an entry's before/after with amounts written as money and people named. */
export function readableAuditValue(value: unknown, names: ReadonlyMap<string, string>, currency?: string): unknown {
  if (Array.isArray(value)) return value.map((item) => readableAuditValue(item, names, currency));
  if (value === null || typeof value !== 'object') return value;
  const object = value as Record<string, unknown>;
  const own = typeof object.currency === 'string' && /^[a-z]{3}$/i.test(object.currency) ? object.currency : currency;
  return Object.fromEntries(
    Object.entries(object).map(([key, item]) => {
      if (own !== undefined && AMOUNT_KEY.test(key) && Number.isSafeInteger(item)) return [key, formatMoney(item as number, own)];
      if (PERSON_KEY.test(key) && typeof item === 'string' && names.has(item)) return [key, `${names.get(item)} (${item})`];
      return [key, readableAuditValue(item, names, own)];
    }),
  );
}

/** Every user id an entry mentions: its target when that is a person, and person keys inside. */
export function personIdsIn(entry: { target_type: string; target_id: string; before: unknown; after: unknown }): string[] {
  const ids = new Set<string>();
  if (entry.target_type === 'seller' || entry.target_type === 'user') ids.add(entry.target_id);
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(walk);
    if (value === null || typeof value !== 'object') return;
    for (const [key, item] of Object.entries(value)) {
      if (PERSON_KEY.test(key) && typeof item === 'string') ids.add(item);
      else walk(item);
    }
  };
  walk(entry.before);
  walk(entry.after);
  return [...ids];
}
