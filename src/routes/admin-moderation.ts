// Admin moderation (issue 16, point 7): suspend or reinstate a seller, take a listing down or put it
// back, each with a reason the seller is shown and an audit entry; and the CSV exports of orders,
// payouts and the audit log. Registered in the admin area.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { auditCsv, ordersCsv, payoutsCsv } from '../admin/exports.ts';
import { found } from '../errors.ts';
import { actorOf } from '../http/areas.ts';
import { sendCsv } from '../http/csv-download.ts';
import { render, setFlash } from '../http/render.ts';
import { CsrfOnlyBody, Csrf, IdParams, MultilineText, Type } from '../http/schemas.ts';
import { moderationOf, reinstateSeller, restoreListing, suspendSeller, takeDownListing } from '../moderation/use-cases.ts';
import { findSellerWithUser } from '../sellers/queries.ts';

const ReasonBody = Type.Object({ reason: MultilineText({ minLength: 1, maxLength: 1000 }), ...Csrf });
const EXPORTS = { orders: ordersCsv, payouts: payoutsCsv, audit: auditCsv } as const;
const ExportParams = Type.Object({ name: Type.Enum(Object.keys(EXPORTS) as ['orders', 'payouts', 'audit']) });

export const adminModerationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/admin/sellers/:id/moderation', { schema: { params: IdParams } }, async (request, reply) => {
    const seller = found(await findSellerWithUser(app.db, request.params.id));
    return render(request, reply, 'admin/moderation', { title: `Moderation: ${seller.display_name}`, seller, ...(await moderationOf(app.db, seller.id)) });
  });

  app.post('/admin/sellers/:id/suspend', { schema: { params: IdParams, body: ReasonBody } }, async (request, reply) => {
    if (request.body.reason.trim() === '') return backWithError(reply, request.params.id);
    await suspendSeller(app.db, actorOf(request), { sellerId: request.params.id, reason: request.body.reason });
    setFlash(reply, 'success', 'The seller is suspended: their listings are hidden and nothing new can be bought from them.');
    return reply.redirect(`/admin/sellers/${request.params.id}/moderation`, 303);
  });

  app.post('/admin/sellers/:id/reinstate', { schema: { params: IdParams, body: CsrfOnlyBody } }, async (request, reply) => {
    await reinstateSeller(app.db, actorOf(request), request.params.id);
    setFlash(reply, 'success', 'The seller is reinstated.');
    return reply.redirect(`/admin/sellers/${request.params.id}/moderation`, 303);
  });

  app.post('/admin/listings/:id/take-down', { schema: { params: IdParams, body: ReasonBody } }, async (request, reply) => {
    if (request.body.reason.trim() === '') throw Object.assign(new Error('Give a reason: the seller is shown it.'), { statusCode: 400 });
    const sellerId = await takeDownListing(app.db, actorOf(request), { listingId: request.params.id, reason: request.body.reason });
    setFlash(reply, 'success', 'The listing is taken down.');
    return reply.redirect(`/admin/sellers/${sellerId}/moderation`, 303);
  });

  app.post('/admin/listings/:id/restore', { schema: { params: IdParams, body: CsrfOnlyBody } }, async (request, reply) => {
    const sellerId = await restoreListing(app.db, actorOf(request), request.params.id);
    setFlash(reply, 'success', 'The listing is back.');
    return reply.redirect(`/admin/sellers/${sellerId}/moderation`, 303);
  });

  app.get('/admin/exports/:name.csv', { schema: { params: ExportParams } }, async (request, reply) =>
    sendCsv(reply, request.params.name, await EXPORTS[request.params.name](app.db)),
  );
};

function backWithError(reply: FastifyReply, sellerId: string): FastifyReply {
  setFlash(reply, 'error', 'Give a reason: the seller is shown it.');
  return reply.redirect(`/admin/sellers/${sellerId}/moderation`, 303);
}
