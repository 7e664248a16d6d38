// The admin area's home (what needs attention: webhook health, money totals), the webhook event log (filters, each event's payload
// and error, replay of failed/dead events), the policy switches and the audit log. Registered inside
// the admin area: its guard has run before any of these.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { auditNames, listAudit } from '../admin/audit.ts';
import { personIdsIn, readableAuditValue } from '../admin/audit-view.ts';
import { adminSummary } from '../admin/money-views.ts';
import { getSettings, saveSettings, SETTINGS, type SettingKey } from '../admin/settings.ts';
import { readCursor } from '../admin/list-filters.ts';
import { cursorText } from '../db/paging.ts';
import type { StripeEventStatus } from '../db/schema.ts';
import { found } from '../errors.ts';
import { actorOf } from '../http/areas.ts';
import { render, setFlash } from '../http/render.ts';
import { Csrf, CsrfOnlyBody, OnOff, Text, Type } from '../http/schemas.ts';
import { checkWebhookHealth } from '../health/webhook-health.ts';
import { EVENT_STATUSES, findEvent, listEvents, replayEvent } from '../webhooks/inbox.ts';
import { healthView } from './health-view.ts';

const EVENT_ID = '^evt_[A-Za-z0-9_]{1,250}$';

const EventsQuery = Type.Object({
  status: Type.Optional(Type.Enum(['', ...EVENT_STATUSES])),
  type: Type.Optional(Type.String({ maxLength: 100, pattern: '^[a-z0-9_.]*$' })),
  account: Type.Optional(Type.String({ maxLength: 100, pattern: '^(|platform|acct_[A-Za-z0-9]+)$' })),
  // Keyset cursor: "<received_at ISO>|<event id>" of the last row on the previous page; read
  // strictly by the handler, which answers a bad one with the list and a message.
  before: Type.Optional(Text({ maxLength: 400 })),
});
const EventParams = Type.Object({ id: Type.String({ pattern: EVENT_ID }) });
const SettingsBody = Type.Object({
  'refunds.refund_application_fee': OnOff,
  'disputes.recover_from_seller': OnOff,
  ...Csrf,
});
const AuditQuery = Type.Object({
  target_type: Type.Optional(Type.String({ maxLength: 40, pattern: '^[a-z_]*$' })),
  target_id: Type.Optional(Type.String({ maxLength: 100, pattern: '^[A-Za-z0-9_-]*$' })),
  before: Type.Optional(Type.String({ pattern: '^\\d{0,18}$' })),
});
const AUDIT_PAGE_SIZE = 50;

const STATUS_BADGES: Record<StripeEventStatus, string> = {
  pending: 'badge',
  processing: 'badge',
  done: 'badge badge-ok',
  ignored: 'badge',
  failed: 'badge badge-warn',
  dead: 'badge badge-bad',
};

export const adminRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/admin', async (request, reply) => {
    const health = await checkWebhookHealth(app.db, app.config.webhookHealth);
    const summary = await adminSummary(app.db);
    return render(request, reply, 'admin/home', { health: healthView(health), summary });
  });

  // ---- Webhook events ----
  app.get('/admin/events', { schema: { querystring: EventsQuery } }, async (request, reply) => {
    const status = request.query.status === '' ? undefined : request.query.status;
    const type = emptyToUndefined(request.query.type);
    const account = emptyToUndefined(request.query.account);
    const form = { statuses: EVENT_STATUSES.map((s) => ({ value: s, selected: s === status })), filter: { type: type ?? '', account: account ?? '' } };
    const before = readCursor(request.query.before, new RegExp(EVENT_ID));
    if (!before.ok) return render(request, reply, 'admin/events', { ...form, events: [], filterError: before.message, nextPage: null }, 400);
    const page = await listEvents(app.db, { status, type, account, before: before.value });
    const filters = new URLSearchParams();
    if (status !== undefined) filters.set('status', status);
    if (type !== undefined) filters.set('type', type);
    if (account !== undefined) filters.set('account', account);
    if (page.next !== null) filters.set('before', cursorText(page.next));
    return render(request, reply, 'admin/events', {
      ...form,
      events: page.rows.map((e) => ({ ...e, badge: STATUS_BADGES[e.status], replayable: e.status === 'failed' || e.status === 'dead' })),
      nextPage: page.next !== null ? `/admin/events?${filters.toString()}` : null,
    });
  });

  app.get('/admin/events/:id', { schema: { params: EventParams } }, async (request, reply) => {
    const event = found(await findEvent(app.db, request.params.id));
    return render(request, reply, 'admin/event', {
      event: { ...event, badge: STATUS_BADGES[event.status], replayable: event.status === 'failed' || event.status === 'dead' },
      payloadJson: JSON.stringify(event.payload, null, 2),
    });
  });

  app.post('/admin/events/:id/replay', { schema: { params: EventParams, body: CsrfOnlyBody } }, async (request, reply) => {
    const replayed = await replayEvent(app.db, request.params.id);
    request.log.info({ event: request.params.id, admin: request.user.id, replayed }, 'admin replayed webhook event');
    if (replayed) setFlash(reply, 'success', 'The event is queued again and will be processed in a moment.');
    else setFlash(reply, 'error', 'Only failed or dead events can be replayed.');
    return reply.redirect(`/admin/events/${encodeURIComponent(request.params.id)}`, 303);
  });

  // ---- Policy switches ----
  app.get('/admin/policies', async (request, reply) => {
    const settings = await getSettings(app.db);
    return render(request, reply, 'admin/policies', { settings: (Object.keys(SETTINGS) as SettingKey[]).map((key) => ({ key, on: settings[key] })) });
  });

  app.post('/admin/policies', { schema: { body: SettingsBody } }, async (request, reply) => {
    await saveSettings(app.db, actorOf(request), {
      'refunds.refund_application_fee': request.body['refunds.refund_application_fee'] === 'on',
      'disputes.recover_from_seller': request.body['disputes.recover_from_seller'] === 'on',
    });
    setFlash(reply, 'success', 'Policies saved.');
    return reply.redirect('/admin/policies', 303);
  });

  // ---- Audit log ----
  app.get('/admin/audit', { schema: { querystring: AuditQuery } }, async (request, reply) => {
    const q = request.query;
    const rows = await listAudit(app.db, {
      targetType: q.target_type || undefined,
      targetId: q.target_id || undefined,
      beforeId: q.before ? Number(q.before) : undefined,
      limit: AUDIT_PAGE_SIZE + 1,
    });
    const page = rows.slice(0, AUDIT_PAGE_SIZE);
    const next = new URLSearchParams();
    if (q.target_type) next.set('target_type', q.target_type);
    if (q.target_id) next.set('target_id', q.target_id);
    if (rows.length > AUDIT_PAGE_SIZE) next.set('before', String(page.at(-1)!.id));
    const names = await auditNames(app.db, page.flatMap(personIdsIn));
    return render(request, reply, 'admin/audit', {
      // Indented and wrapped in its cell: one long JSON line made the page 2,400 px wide. Amounts
      // read as money and people by name (an entry keeps minor units and ids).
      entries: page.map((e) => ({
        ...e,
        targetName: names.get(e.target_id) ?? null,
        actionWords: e.action.replace(/[._]/g, ' ').replace(/^./, (c) => c.toUpperCase()),
        beforeJson: e.before === null ? '—' : JSON.stringify(readableAuditValue(e.before, names), null, 2),
        afterJson: e.after === null ? '—' : JSON.stringify(readableAuditValue(e.after, names), null, 2),
      })),
      filter: { target_type: q.target_type ?? '', target_id: q.target_id ?? '' },
      nextPage: rows.length > AUDIT_PAGE_SIZE ? `/admin/audit?${next.toString()}` : null,
    });
  });
};

function emptyToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
