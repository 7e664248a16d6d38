// The signed-in parts of the site. Each area is one encapsulated plugin whose guard runs in
// `onRequest`, before the body is read, the CSRF token checked or the schema validated: a visitor is
// sent to log in (and brought back afterwards), a signed-in user of another role gets the 403 page,
// and neither ever sees what an area's forms would have said about their input. Past the guard,
// `request.user` is the signed-in user, typed, for every route of the area.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Role } from '../db/schema.ts';
import { render } from './render.ts';

export type AreaRoles = readonly Role[] | 'any';

export function guard(roles: AreaRoles) {
  return async function requireRole(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    if (request.auth === null) {
      const next = request.method === 'GET' ? request.url : '/';
      return reply.redirect(`/login?next=${encodeURIComponent(next)}`, 303);
    }
    if (roles !== 'any' && !roles.includes(request.auth.user.role)) {
      return render(request, reply, 'errors/403', { message: `This page is for ${roles.join(' or ')} accounts.` }, 403);
    }
    request.user = request.auth.user;
    return undefined;
  };
}

/** An area: `routes` registered behind one guard for `roles`. */
export function area(roles: AreaRoles, ...routes: FastifyPluginAsyncTypebox[]): FastifyPluginAsyncTypebox {
  return async function signedInArea(app) {
    app.addHook('onRequest', guard(roles));
    for (const areaRoutes of routes) await app.register(areaRoutes);
  };
}

/** Who is acting, for the audit log: the area's signed-in user. */
export function actorOf(request: FastifyRequest): { id: string; email: string } {
  return { id: request.user.id, email: request.user.email };
}
