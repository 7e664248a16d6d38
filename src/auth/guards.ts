// Route guards: a visitor is sent to log in (and brought back afterwards); a signed-in user with
// the wrong role gets a 403 page. Attach as preHandler on every route that needs a user.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Role } from '../db/schema.ts';
import { render } from '../http/render.ts';

function guard(roles: Role[] | 'any') {
  return async function requireRole(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (request.auth === null) {
      const next = request.method === 'GET' ? request.url : '/';
      await reply.redirect(`/login?next=${encodeURIComponent(next)}`, 303);
      return;
    }
    if (roles !== 'any' && !roles.includes(request.auth.user.role)) {
      await render(request, reply, 'errors/403', { message: `This page is for ${roles.join(' or ')} accounts.` }, 403);
    }
  };
}

export const requireUser = guard('any');
export const requireBuyer = guard(['buyer']);
export const requireSeller = guard(['seller']);
export const requireAdmin = guard(['admin']);
