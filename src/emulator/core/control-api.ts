/**
 * The control API (`/_emulator/…`): how tests and developers drive the emulator (clock,
 * webhook endpoints and delivery modes, faults, logs, reset). The HTTP side here reads JSON
 * bodies only; guard.ts has already checked Host, Origin and the content type.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StripeError, invalidRequest } from './errors.ts';
import { parseForm } from './params.ts';
import { drain, readBody, sendError, sendJson, asStripeError } from './http-io.ts';
import { isFaultKind } from './faults.ts';
import { FAULT_KINDS, type Fault } from './types.ts';
import type { WebhookConfig } from './webhooks.ts';
import type { EmulatorCore } from './core.ts';

export async function handleControlRequest(core: EmulatorCore, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const method = (req.method ?? 'GET').toUpperCase();
  const path = url.pathname;
  let body: Record<string, unknown>;
  try {
    body = method === 'GET' ? (await drain(req), {}) : parseJsonObject(await readBody(req));
  } catch (err) {
    return sendError(res, asStripeError(err));
  }
  const match = core.registry.controls.match(method, path);
  if (!match) {
    return sendError(res, new StripeError({ status: 404, type: 'invalid_request_error', message: `Unknown control endpoint (${method}: ${path}).` }));
  }
  try {
    const query = parseForm(url.search.slice(1));
    const out = await match.handler({ method, path, pathParams: match.pathParams, query, form: {}, headers: req.headers, body });
    sendJson(res, 200, JSON.stringify(out ?? { ok: true }, null, 2));
  } catch (err) {
    sendError(res, asStripeError(err));
  }
}

/** An empty body is `{}`; anything else must be a JSON object. */
function parseJsonObject(raw: string): Record<string, unknown> {
  if (!raw.trim()) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalidRequest('Control API: body is not valid JSON.');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalidRequest('Control API: the body must be a JSON object.');
  return parsed as Record<string, unknown>;
}

/** Webhook endpoints as the control API shows them: the URL and the secret's last four characters. */
function webhookConfigView(config: WebhookConfig): Record<'platform' | 'connect', { url: string; secret_last4: string } | null> {
  const view = (ep: WebhookConfig['platform']) => (ep ? { url: ep.url, secret_last4: ep.secret.slice(-4) } : null);
  return { platform: view(config.platform), connect: view(config.connect) };
}

function endpointFrom(v: unknown): WebhookConfig['platform'] {
  if (v === null || v === '') return null;
  if (!v || typeof v !== 'object') throw invalidRequest('endpoint must be {url, secret} or null');
  const o = v as Record<string, unknown>;
  if (typeof o.url !== 'string' || typeof o.secret !== 'string') throw invalidRequest('endpoint needs url and secret strings');
  return { url: o.url, secret: o.secret };
}

function faultFrom(body: Record<string, unknown>): Omit<Fault, 'id'> {
  const kind = String(body.kind ?? '500');
  if (!isFaultKind(kind)) throw invalidRequest(`Invalid kind: ${kind} (one of ${FAULT_KINDS.join(', ')})`, { param: 'kind' });
  if (typeof body.path !== 'string' || !body.path.startsWith('/')) throw invalidRequest('path is required (e.g. /v1/payouts)', { param: 'path' });
  const f: Omit<Fault, 'id'> = { path: body.path, kind, count: Number(body.count ?? 1) };
  if (!Number.isInteger(f.count) || f.count < 1) throw invalidRequest('count must be a positive integer', { param: 'count' });
  if (typeof body.method === 'string' && body.method) f.method = body.method.toUpperCase();
  if (body.holdMs !== undefined || body.hold_ms !== undefined) {
    f.holdMs = Number(body.holdMs ?? body.hold_ms);
    if (!Number.isFinite(f.holdMs) || f.holdMs < 0) throw invalidRequest('holdMs must be a non-negative number of milliseconds', { param: 'holdMs' });
  }
  return f;
}

/** The core's own control endpoints (resource modules add theirs with `core.control`). */
export function registerCoreControls(core: EmulatorCore): void {
  core.control('GET', '/_emulator/health', () => ({ ok: true, platform_account: core.platformAccount, now: core.clock.now(), url: core.url }));
  core.control('GET', '/_emulator/clock', () => ({ now: core.clock.now(), offset: core.clock.offset }));
  core.control('POST', '/_emulator/clock/advance', async ({ body }) => {
    let seconds = Number(body.seconds ?? 0) + Number(body.minutes ?? 0) * 60 + Number(body.hours ?? 0) * 3600 + Number(body.days ?? 0) * 86400;
    if (body.to !== undefined) seconds = Number(body.to) - core.clock.now();
    if (!Number.isFinite(seconds) || seconds < 0) throw invalidRequest('seconds must be a non-negative number (time only moves forward)', { param: 'seconds' });
    const now = await core.advanceClock(seconds);
    return { now, offset: core.clock.offset };
  });

  // Secrets are write-only here: whoever configures an endpoint already knows its secret.
  core.control('GET', '/_emulator/webhooks', () => webhookConfigView(core.delivery.config));
  core.control('POST', '/_emulator/webhooks', ({ body }) => {
    if ('platform' in body) core.delivery.config.platform = endpointFrom(body.platform);
    if ('connect' in body) core.delivery.config.connect = endpointFrom(body.connect);
    core.stateChanged();
    return webhookConfigView(core.delivery.config);
  });

  core.control('GET', '/_emulator/delivery', () => core.delivery.getMode());
  core.control('POST', '/_emulator/delivery', ({ body }) => {
    const mode = String(body.mode ?? 'normal');
    if (mode !== 'normal' && mode !== 'duplicate' && mode !== 'reorder' && mode !== 'drop' && mode !== 'delay')
      throw invalidRequest(`Invalid mode: ${mode}`, { param: 'mode' });
    const num = (k: string): number | undefined => (body[k] === undefined ? undefined : Number(body[k]));
    const types = Array.isArray(body.types) ? body.types.map(String) : undefined;
    core.delivery.setMode({ mode, count: num('count'), delayMs: num('delayMs') ?? num('delay_ms'), copies: num('copies'), batch: num('batch'), types });
    return core.delivery.getMode();
  });
  core.control('POST', '/_emulator/delivery/flush', async () => {
    await core.flushDeliveries();
    return { ok: true, deliveries: core.publicDeliveries().length };
  });
  core.control('GET', '/_emulator/deliveries', ({ query }) => {
    let list = core.publicDeliveries();
    if (typeof query.event === 'string') list = list.filter((d) => d.event === query.event);
    if (typeof query.status === 'string') list = list.filter((d) => d.status === query.status);
    if (typeof query.endpoint === 'string') list = list.filter((d) => d.endpoint === query.endpoint);
    if (typeof query.type === 'string') list = list.filter((d) => d.event_type === query.type);
    return { object: 'list', data: list };
  });
  core.control('DELETE', '/_emulator/deliveries', () => {
    core.delivery.clearLog();
    return { ok: true };
  });

  core.control('GET', '/_emulator/faults', () => ({ object: 'list', data: core.faults.list() }));
  core.control('POST', '/_emulator/faults', ({ body }) => core.addFault(faultFrom(body)));
  // Requests held by a `delay` fault go on at once (for a test that holds one until it is ready).
  core.control('POST', '/_emulator/faults/release', () => ({ released: core.faults.release() }));
  core.control('DELETE', '/_emulator/faults', () => {
    core.faults.clear();
    return { ok: true };
  });

  core.control('GET', '/_emulator/requests', ({ query }) => {
    let list = core.requests();
    if (typeof query.path === 'string') list = list.filter((r) => r.path === query.path);
    return { object: 'list', data: list };
  });
  core.control('POST', '/_emulator/reset', () => {
    core.reset();
    return { ok: true };
  });
}
