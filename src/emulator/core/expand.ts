/**
 * `expand[]` on responses: any string field whose value is the id of a stored object is replaced
 * by that object. Paths nest with dots (`latest_charge.balance_transaction`); arrays are walked,
 * so `data.x` expands inside lists.
 */
import type { ParamValue } from './params.ts';
import type { Store } from './store.ts';

export function expandPaths(v: ParamValue | undefined): string[] {
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string' && x !== '');
  return typeof v === 'string' && v ? [v] : [];
}

/** Expands `paths` in `value` (a fresh JSON copy the caller owns) and returns it. */
export function expandResponse(store: Store, value: unknown, paths: string[]): unknown {
  for (const path of paths) expandPath(store, value, path.split('.'));
  return value;
}

function expandPath(store: Store, node: unknown, segs: string[]): void {
  if (!node || typeof node !== 'object' || segs.length === 0) return;
  if (Array.isArray(node)) {
    for (const x of node) expandPath(store, x, segs);
    return;
  }
  const obj = node as Record<string, unknown>;
  const [head, ...rest] = segs;
  if (head === undefined) return;
  let v = obj[head];
  if (typeof v === 'string') {
    const rec = store.getRecord(v);
    if (rec) {
      v = JSON.parse(JSON.stringify(rec.data)) as unknown;
      obj[head] = v;
    }
  }
  if (rest.length > 0) expandPath(store, v, rest);
}
