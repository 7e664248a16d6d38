/**
 * Wire-format parameters: Stripe's form encoding with bracket notation, and the declarative
 * specs each route uses to accept (and coerce) exactly the parameters Stripe accepts.
 */
import { StripeError, invalidRequest, missingParam } from './errors.ts';

/** A decoded (and after validation, coerced) parameter value. */
export type ParamValue = string | number | boolean | null | ParamValue[] | Params;
export interface Params {
  [key: string]: ParamValue;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** Split `a[b][0][c]` into `['a','b','0','c']`; `a[]` yields `['a','']`. */
function splitKey(key: string): string[] {
  const open = key.indexOf('[');
  if (open <= 0) return [key];
  const parts = [key.slice(0, open)];
  const re = /\[([^\]]*)\]/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(key.slice(open))) !== null) parts.push(m[1] ?? '');
  return parts;
}

/**
 * Parse `application/x-www-form-urlencoded` (or a query string) with bracket notation.
 * Nested keys become objects; numeric and empty (`[]`) segments become arrays.
 */
export function parseForm(input: string): Params {
  const root: Params = {};
  if (!input) return root;
  for (const pair of input.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const rawKey = decode(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decode(pair.slice(eq + 1));
    const path = splitKey(rawKey);
    let node: Params | ParamValue[] = root;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i] ?? '';
      const last = i === path.length - 1;
      const nextSeg = path[i + 1];
      const wantsArray = nextSeg !== undefined && (nextSeg === '' || /^\d+$/.test(nextSeg));
      if (Array.isArray(node)) {
        const idx: number = seg === '' ? node.length : Number(seg);
        if (last) {
          node[idx] = value;
        } else {
          let child: ParamValue | undefined = node[idx];
          if (child === undefined || child === null || typeof child !== 'object') {
            child = wantsArray ? [] : {};
            node[idx] = child;
          }
          node = child;
        }
      } else {
        if (last) {
          node[seg] = value;
        } else {
          let child: ParamValue | undefined = node[seg];
          if (child === undefined || child === null || typeof child !== 'object') {
            child = wantsArray ? [] : {};
            node[seg] = child;
          }
          node = child;
        }
      }
    }
  }
  return compactArrays(root) as Params;
}

/** Remove holes left by sparse indices (`a[0]`, `a[2]`). */
function compactArrays(v: ParamValue): ParamValue {
  if (Array.isArray(v)) return v.filter((x) => x !== undefined).map(compactArrays);
  if (v && typeof v === 'object') {
    const out: Params = {};
    for (const [k, x] of Object.entries(v)) out[k] = compactArrays(x);
    return out;
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// Specs
// ---------------------------------------------------------------------------------------------

export type Spec =
  | { $t: 'string' }
  | { $t: 'integer'; min?: number; max?: number }
  | { $t: 'number' }
  | { $t: 'boolean' }
  | { $t: 'enum'; values: readonly string[] }
  | { $t: 'hash' } // free-form string → string map (metadata)
  | { $t: 'any' }
  | { $t: 'array'; item: Spec }
  | { $t: 'object'; fields: Record<string, Spec>; required?: readonly string[] }
  | { $t: 'union'; specs: readonly Spec[] }
  | { $t: 'removed'; status: number; code: string; message: string };

/** A spec, or a plain record of spec-likes (= an object spec), nested to any depth. */
export type SpecLike = Spec | { [key: string]: SpecLike };

/** Spec builders. A plain record of specs may be passed wherever an object spec is wanted. */
export const p = {
  string: { $t: 'string' } as Spec,
  integer: { $t: 'integer' } as Spec,
  int: (min?: number, max?: number): Spec => ({ $t: 'integer', ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) }),
  number: { $t: 'number' } as Spec,
  boolean: { $t: 'boolean' } as Spec,
  hash: { $t: 'hash' } as Spec,
  any: { $t: 'any' } as Spec,
  enum: (...values: string[]): Spec => ({ $t: 'enum', values }),
  array: (item: SpecLike): Spec => ({ $t: 'array', item: toSpec(item) }),
  object: (fields: Record<string, SpecLike>, required?: readonly string[]): Spec => ({
    $t: 'object',
    fields: Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, toSpec(v)])),
    ...(required ? { required } : {}),
  }),
  union: (...specs: SpecLike[]): Spec => ({ $t: 'union', specs: specs.map(toSpec) }),
  /** A parameter Stripe removed: any use of it is rejected with this code (status 400). */
  removed: (code: string, message: string): Spec => ({ $t: 'removed', status: 400, code, message }),
  /** `created`-style range filter: an integer or `{gt,gte,lt,lte}`. */
  range: {
    $t: 'union',
    specs: [{ $t: 'integer' }, { $t: 'object', fields: { gt: { $t: 'integer' }, gte: { $t: 'integer' }, lt: { $t: 'integer' }, lte: { $t: 'integer' } } }],
  } as Spec,
};

/** `payment_method_types` is rejected by API version 2026-09-30.endive and later (stripe-facts §1). */
export const PAYMENT_METHOD_TYPES_REMOVED: Spec = p.removed(
  'payment_method_types_no_longer_supported',
  'The `payment_method_types` parameter is no longer supported in this API version. Use dynamic payment methods (`automatic_payment_methods`), `excluded_payment_method_types` or `allowed_payment_method_types` instead.',
);

export function isSpec(x: unknown): x is Spec {
  return !!x && typeof x === 'object' && typeof (x as { $t?: unknown }).$t === 'string';
}

export function toSpec(x: SpecLike): Spec {
  return isSpec(x) ? x : p.object(x);
}

function paramName(path: string[]): string {
  if (path.length === 0) return '';
  return (
    path[0] +
    path
      .slice(1)
      .map((s) => `[${s}]`)
      .join('')
  );
}

function describe(v: ParamValue): string {
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** Validate and coerce `value` against `spec`. Throws Stripe's 400s (unknown/invalid/missing). */
export function validate(value: ParamValue, spec: Spec, path: string[]): ParamValue {
  const name = paramName(path);
  switch (spec.$t) {
    case 'removed':
      throw new StripeError({ status: spec.status, type: 'invalid_request_error', code: spec.code, param: name, message: spec.message });
    case 'any':
      return value;
    case 'string':
      if (typeof value === 'object' && value !== null)
        throw invalidRequest(`Invalid string: ${describe(value)}`, { param: name, code: 'parameter_invalid_string' });
      return value === null ? '' : String(value);
    case 'integer': {
      if (value === '') return '';
      if (typeof value === 'object' || !/^-?\d+$/.test(String(value))) {
        throw invalidRequest(`Invalid integer: ${describe(value)}`, { param: name, code: 'parameter_invalid_integer' });
      }
      const n = Number(value);
      if (spec.min !== undefined && n < spec.min) throw invalidRequest(`Invalid ${name}: must be at least ${spec.min}`, { param: name });
      if (spec.max !== undefined && n > spec.max) throw invalidRequest(`Invalid ${name}: must be at most ${spec.max}`, { param: name });
      return n;
    }
    case 'number': {
      if (value === '') return '';
      const n = Number(value);
      if (typeof value === 'object' || !Number.isFinite(n)) throw invalidRequest(`Invalid decimal: ${describe(value)}`, { param: name });
      return n;
    }
    case 'boolean':
      if (value === true || value === 'true') return true;
      if (value === false || value === 'false') return false;
      throw invalidRequest(`Invalid boolean: ${describe(value)}`, { param: name });
    case 'enum':
      if (value === '') return '';
      if (typeof value !== 'string' || !spec.values.includes(value)) {
        throw invalidRequest(`Invalid ${path[path.length - 1] ?? name}: must be one of ${spec.values.join(', ')}`, { param: name });
      }
      return value;
    case 'hash': {
      if (value === '') return '';
      if (typeof value !== 'object' || value === null) throw invalidRequest(`Invalid hash`, { param: name });
      const out: Params = {};
      const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
      for (const [k, v] of entries) {
        if (typeof v === 'object' && v !== null) throw invalidRequest(`Invalid ${name}[${k}]: nested objects are not allowed`, { param: `${name}[${k}]` });
        out[k] = v === null ? '' : String(v);
      }
      return out;
    }
    case 'array': {
      if (value === '') return [];
      let items: ParamValue[];
      if (Array.isArray(value)) items = value;
      else if (value && typeof value === 'object') {
        const keys = Object.keys(value);
        if (!keys.every((k) => /^\d+$/.test(k))) throw invalidRequest(`Invalid array`, { param: name });
        items = keys.sort((a, b) => Number(a) - Number(b)).map((k) => value[k] as ParamValue);
      } else items = [value];
      return items.map((it, i) => validate(it, spec.item, [...path, String(i)]));
    }
    case 'object': {
      if (value === '') return '';
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw invalidRequest(`Invalid object`, { param: name });
      }
      const out: Params = {};
      for (const [k, v] of Object.entries(value)) {
        const child = spec.fields[k];
        if (!child) {
          throw invalidRequest(`Received unknown parameter: ${paramName([...path, k])}`, { param: paramName([...path, k]), code: 'parameter_unknown' });
        }
        out[k] = validate(v, child, [...path, k]);
      }
      for (const r of spec.required ?? []) {
        if (out[r] === undefined || out[r] === '') throw missingParam(paramName([...path, r]));
      }
      return out;
    }
    case 'union': {
      let firstError: unknown;
      for (const s of spec.specs) {
        try {
          return validate(value, s, path);
        } catch (e) {
          firstError ??= e;
        }
      }
      throw firstError;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Typed accessors for validated params
// ---------------------------------------------------------------------------------------------

/** Follow a dotted path (`'a.b.c'`) through params. */
export function getParam(params: Params, path: string): ParamValue | undefined {
  let cur: ParamValue | undefined = params;
  for (const seg of path.split('.')) {
    if (cur === null || cur === undefined || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = cur[seg];
  }
  return cur;
}
export function str(params: Params, path: string): string | undefined {
  const v = getParam(params, path);
  return typeof v === 'string' && v !== '' ? v : undefined;
}
export function int(params: Params, path: string): number | undefined {
  const v = getParam(params, path);
  return typeof v === 'number' ? v : undefined;
}
export function bool(params: Params, path: string): boolean | undefined {
  const v = getParam(params, path);
  return typeof v === 'boolean' ? v : undefined;
}
export function obj(params: Params, path: string): Params | undefined {
  const v = getParam(params, path);
  return v && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
}
export function arr(params: Params, path: string): ParamValue[] | undefined {
  const v = getParam(params, path);
  return Array.isArray(v) ? v : undefined;
}
/** `metadata` param merged Stripe-style into existing metadata (`''` value deletes a key; `metadata=''` clears). */
export function mergeMetadata(existing: Record<string, string>, params: Params, key = 'metadata'): Record<string, string> {
  const v = params[key];
  if (v === undefined) return existing;
  if (v === '') return {};
  const out = { ...existing };
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) {
      if (x === '' || x === null) delete out[k];
      else out[k] = String(x);
    }
  }
  return out;
}
/** Stable JSON for comparing parameter sets (idempotency). */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}
