// The admin area: a home page with what needs attention (webhook health, money totals) and the
// webhook event log with filters, each event's payload and error, and replay for failed/dead events.
// Every route requires an admin; replay is a POST, so the app's CSRF hook protects it.
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { requireAdmin } from '../auth/guards.ts';
import type { StripeEventStatus } from '../db/schema.ts';
import { render, setFlash } from '../http/render.ts';
import { adminSummary } from '../admin/money-views.ts';
import { checkWebhookHealth } from '../health/webhook-health.ts';
import { EVENT_STATUSES, findEvent, listEvents, replayEvent } from '../webhooks/inbox.ts';
import { healthView } from './admin-health.ts';

const PAGE_SIZE = 50;
const EVENT_ID = '^evt_[A-Za-z0-9_]{1,250}$';

const EventsQuery = Type.Object({
  status: Type.Optional(Type.Union([Type.Literal(''), ...EVENT_STATUSES.map((s) => Type.Literal(s))])),
  type: Type.Optional(Type.String({ maxLength: 100, pattern: '^[a-z0-9_.]*$' })),
  account: Type.Optional(Type.String({ maxLength: 100, pattern: '^(|platform|acct_[A-Za-z0-9]+)$' })),
  // Keyset cursor: "<received_at ISO>|<event id>" of the last row on the previous page.
  before: Type.Optional(Type.String({ maxLength: 400 })),
});
const EventParams = Type.Object({ id: Type.String({ pattern: EVENT_ID }) });
const CsrfOnlyBody = Type.Object({ _csrf: Type.Optional(Type.String()) });

const STATUS_BADGES: Record<StripeEventStatus, string> = {
  pending: 'badge', processing: 'badge', done: 'badge badge-ok', ignored: 'badge', failed: 'badge badge-warn', dead: 'badge badge-bad',
};

export async function adminRoutes(app: FastifyInstance): Promise<void> {
  app.get('/admin', { preHandler: requireAdmin }, async (request, reply) => {
    const health = await checkWebhookHealth(app.db, app.config.webhookHealth);
    const summary = await adminSummary(app.db);
    return render(request, reply, 'admin/home', { health: healthView(health), summary });
  });

  app.get<{ Querystring: Static<typeof EventsQuery> }>('/admin/events', {
    preHandler: requireAdmin,
    schema: { querystring: EventsQuery },
  }, async (request, reply) => {
    const status = request.query.status === '' ? undefined : request.query.status;
    const type = emptyToUndefined(request.query.type);
    const account = emptyToUndefined(request.query.account);
    const before = parseCursor(request.query.before);
    const rows = await listEvents(app.db, { status, type, account, before, limit: PAGE_SIZE + 1 });
    const page = rows.slice(0, PAGE_SIZE);
    const last = page.at(-1);
    const filters = new URLSearchParams();
    if (status !== undefined) filters.set('status', status);
    if (type !== undefined) filters.set('type', type);
    if (account !== undefined) filters.set('account', account);
    if (rows.length > PAGE_SIZE && last !== undefined) filters.set('before', `${last.received_at.toISOString()}|${last.id}`);
    return render(request, reply, 'admin/events', {
      events: page.map((e) => ({ ...e, badge: STATUS_BADGES[e.status], replayable: e.status === 'failed' || e.status === 'dead' })),
      statuses: EVENT_STATUSES.map((s) => ({ value: s, selected: s === status })),
      filter: { type: type ?? '', account: account ?? '' },
      nextPage: rows.length > PAGE_SIZE ? `/admin/events?${filters.toString()}` : null,
    });
  });

  app.get<{ Params: Static<typeof EventParams> }>('/admin/events/:id', {
    preHandler: requireAdmin,
    schema: { params: EventParams },
  }, async (request, reply) => {
    const event = await findEvent(app.db, request.params.id);
    if (event === undefined) return render(request, reply, 'errors/404', { message: 'No such event in the inbox.' }, 404);
    return render(request, reply, 'admin/event', {
      event: { ...event, badge: STATUS_BADGES[event.status], replayable: event.status === 'failed' || event.status === 'dead' },
      payloadJson: JSON.stringify(event.payload, null, 2),
    });
  });

  app.post<{ Params: Static<typeof EventParams> }>('/admin/events/:id/replay', {
    preHandler: requireAdmin,
    schema: { params: EventParams, body: CsrfOnlyBody },
  }, async (request, reply) => {
    const replayed = await replayEvent(app.db, request.params.id);
    request.log.info({ event: request.params.id, admin: request.auth!.user.id, replayed }, 'admin replayed webhook event');
    if (replayed) setFlash(reply, 'success', 'The event is queued again and will be processed in a moment.');
    else setFlash(reply, 'error', 'Only failed or dead events can be replayed.');
    return reply.redirect(`/admin/events/${encodeURIComponent(request.params.id)}`, 303);
  });
}

function emptyToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function parseCursor(raw: string | undefined): { receivedAt: Date; id: string } | undefined {
  if (raw === undefined || raw === '') return undefined;
  const [iso, id] = raw.split('|');
  const receivedAt = new Date(iso ?? '');
  if (id === undefined || Number.isNaN(receivedAt.getTime())) return undefined;
  return { receivedAt, id };
}
