/**
 * Who may talk to the emulator. It has no real authentication (any `sk_test_` key works, the
 * control API has none), so what keeps a web page the developer happens to visit from resetting
 * it, redirecting its webhooks or reading their secrets is:
 * - the `Host` header (API and control API): only loopback names, the configured listen host,
 *   the public URL's host and `allowedHosts`. This defeats DNS rebinding, where a hostile name
 *   resolves to 127.0.0.1 and the browser then treats the emulator as that site.
 * - the `Origin` header (control API): absent (curl, SDKs, tests) or the emulator's own origin.
 *   A cross-site form or `fetch` always carries its origin.
 * - JSON bodies (control API, every method but GET): `Content-Type: application/json`, which a
 *   cross-site page cannot send without a CORS preflight that the emulator never grants.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { StripeError } from './errors.ts';

export interface HostPolicy {
  /** The address the server listens on (`127.0.0.1`, `0.0.0.0`, …). */
  listenHost: string;
  /** `publicUrl` option, when set. */
  publicUrl?: string | undefined;
  /** Extra host names clients use (e.g. a container name). */
  allowedHosts?: readonly string[] | undefined;
}

const WILDCARD_ADDRESSES = new Set(['0.0.0.0', '::', '[::]', '']);

/** Host names (no port, lower case, IPv6 in brackets) the emulator answers to. */
export function allowedHostNames(policy: HostPolicy): Set<string> {
  const names = new Set<string>();
  const add = (name: string | undefined): void => {
    if (name === undefined) return;
    const n = name.toLowerCase();
    if (WILDCARD_ADDRESSES.has(n)) return;
    names.add(n.includes(':') && !n.startsWith('[') ? `[${n}]` : n);
  };
  add(policy.listenHost);
  if (policy.publicUrl) add(new URL(policy.publicUrl).hostname);
  for (const h of policy.allowedHosts ?? []) add(h);
  return names;
}

/** Loopback names: `localhost`, `*.localhost`, 127.0.0.0/8 and `[::1]`. */
export function isLoopbackName(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || /^127(\.\d{1,3}){3}$/.test(h) || h === '[::1]';
}

/** True when `address` (a listen address) only accepts loopback connections. */
export function isLoopbackAddress(address: string): boolean {
  const a = address.toLowerCase();
  return isLoopbackName(a) || a === '::1';
}

/** The host name of a `Host` header value (`name:port`, `[v6]:port`), lower case. */
function hostNameOf(hostHeader: string): string | undefined {
  try {
    return new URL(`http://${hostHeader}`).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

function forbidden(message: string): StripeError {
  return new StripeError({ status: 403, type: 'invalid_request_error', code: 'emulator_request_refused', message });
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** Refuse a request whose `Host` the emulator does not answer to (throws 403). */
export function checkHost(headers: IncomingHttpHeaders, allowed: ReadonlySet<string>): void {
  const host = headerValue(headers.host);
  const name = host ? hostNameOf(host) : undefined;
  if (name !== undefined && (isLoopbackName(name) || allowed.has(name))) return;
  throw forbidden(
    `The Stripe emulator does not answer to the host '${host ?? ''}'. It answers to loopback names (localhost, 127.0.0.1, [::1]), its listen host and publicUrl, and the allowedHosts option.`,
  );
}

function isSameOrigin(origin: string, host: string | undefined): boolean {
  if (!URL.canParse(origin)) return false;
  const o = new URL(origin);
  return (o.protocol === 'http:' || o.protocol === 'https:') && o.host.toLowerCase() === (host ?? '').toLowerCase();
}

/** Control API: same-origin or no `Origin`, and JSON bodies for everything but GET (throws 403/415). */
export function checkControlRequest(method: string, headers: IncomingHttpHeaders): void {
  const origin = headerValue(headers.origin);
  if (origin !== undefined) {
    if (!isSameOrigin(origin, headerValue(headers.host)))
      throw forbidden(`The emulator's control API refuses requests from other origins (Origin: ${origin}).`);
  }
  if (method !== 'GET' && method !== 'HEAD') {
    const contentType = (headerValue(headers['content-type']) ?? '').split(';')[0]?.trim().toLowerCase();
    if (contentType !== 'application/json') {
      throw new StripeError({
        status: 415,
        type: 'invalid_request_error',
        code: 'emulator_request_refused',
        message: `The emulator's control API takes JSON: send Content-Type: application/json (got '${contentType ?? ''}'), with an empty body or a JSON object.`,
      });
    }
  }
}
