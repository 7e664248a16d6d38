/** Events (`/v1/events`) and webhook endpoints (`/v1/webhook_endpoints`). */
import type Stripe from 'stripe';
import type { EmulatorCore } from '../../core/core.ts';
import { p, str, arr, bool, mergeMetadata } from '../../core/params.ts';
import { invalidRequest } from '../../core/errors.ts';
import { randomToken } from '../../core/ids.ts';
import { API_VERSION } from '../../core/events.ts';

function typeMatches(pattern: string, type: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return type.startsWith(pattern.slice(0, -1));
  return pattern === type;
}

export function registerPlatform(core: EmulatorCore): void {
  const events = core.collection<Stripe.Event>('event');
  const endpoints = core.collection<Stripe.WebhookEndpoint>('webhook_endpoint');

  core.route('GET', '/v1/events', { list: true, params: { type: p.string, types: p.array(p.string), delivery_success: p.boolean } }, (req) => {
    const type = str(req.params, 'type');
    const types = (arr(req.params, 'types') ?? []).filter((t): t is string => typeof t === 'string');
    if (type && types.length) throw invalidRequest('You may only specify one of these parameters: type, types.', { param: 'types' });
    if (types.length > 20) throw invalidRequest('You may specify at most 20 event types.', { param: 'types' });
    const deliverySuccess = bool(req.params, 'delivery_success');
    const delivered = new Set(
      core
        .publicDeliveries()
        .filter((d) => d.status === 'succeeded')
        .map((d) => d.event),
    );
    const list = events.list(req.account, (e) => {
      if (type && !typeMatches(type, e.type)) return false;
      if (types.length && !types.some((t) => typeMatches(t, e.type))) return false;
      if (deliverySuccess === true && !delivered.has(e.id)) return false;
      if (deliverySuccess === false && (e.pending_webhooks === 0 || delivered.has(e.id))) return false;
      return true;
    });
    return core.paginate(req, list, '/v1/events');
  });

  core.route('GET', '/v1/events/:id', {}, (req) => events.require(req.pathParams.id ?? '', req.account, 'id'));

  // Webhook endpoints created through the API also receive deliveries.
  core.addWebhookTargets((evt) =>
    endpoints
      .list(core.platformAccount, (we, internal) => {
        if (we.status !== 'enabled') return false;
        if (Boolean(internal.connect) !== Boolean(evt.account)) return false;
        return we.enabled_events.some((t) => typeMatches(t, evt.type));
      })
      .map((we) => ({ endpoint: we.id, url: we.url, secret: String(endpoints.internal(we.id).secret) })),
  );

  const endpointSpec = {
    url: p.string,
    enabled_events: p.array(p.string),
    description: p.string,
    metadata: p.hash,
  };

  core.route(
    'POST',
    '/v1/webhook_endpoints',
    { required: ['url', 'enabled_events'], params: { ...endpointSpec, connect: p.boolean, api_version: p.string } },
    (req) => {
      if (!req.isPlatform) throw invalidRequest('Webhook endpoints are managed by the platform.');
      const url = str(req.params, 'url') ?? '';
      if (!/^https?:\/\//.test(url)) throw invalidRequest(`Invalid URL: ${url}`, { param: 'url', code: 'url_invalid' });
      const secret = `whsec_${randomToken(32)}`;
      const we: Stripe.WebhookEndpoint = {
        id: core.newId('we'),
        object: 'webhook_endpoint',
        api_version: str(req.params, 'api_version') ?? API_VERSION,
        application: null,
        created: core.now(),
        description: str(req.params, 'description') ?? null,
        enabled_events: (arr(req.params, 'enabled_events') ?? []).map(String),
        livemode: false,
        metadata: mergeMetadata({}, req.params),
        status: 'enabled',
        url,
      };
      endpoints.insert(core.platformAccount, we, { internal: { secret, connect: bool(req.params, 'connect') ?? false } });
      return { ...we, secret };
    },
  );
  core.route('GET', '/v1/webhook_endpoints', { list: true }, (req) => core.paginate(req, endpoints.list(core.platformAccount), '/v1/webhook_endpoints'));
  core.route('GET', '/v1/webhook_endpoints/:id', {}, (req) => endpoints.require(req.pathParams.id ?? '', core.platformAccount));
  core.route('POST', '/v1/webhook_endpoints/:id', { params: { ...endpointSpec, disabled: p.boolean } }, (req) => {
    const we = endpoints.require(req.pathParams.id ?? '', core.platformAccount);
    const url = str(req.params, 'url');
    if (url) we.url = url;
    const ev = arr(req.params, 'enabled_events');
    if (ev) we.enabled_events = ev.map(String);
    if (req.params.description !== undefined) we.description = str(req.params, 'description') ?? null;
    we.metadata = mergeMetadata(we.metadata, req.params);
    const disabled = bool(req.params, 'disabled');
    if (disabled !== undefined) we.status = disabled ? 'disabled' : 'enabled';
    return endpoints.save(we);
  });
  core.route('DELETE', '/v1/webhook_endpoints/:id', {}, (req) => {
    const we = endpoints.require(req.pathParams.id ?? '', core.platformAccount);
    endpoints.delete(we.id);
    const deleted: Stripe.DeletedWebhookEndpoint = { id: we.id, object: 'webhook_endpoint', deleted: true };
    return deleted;
  });
}
