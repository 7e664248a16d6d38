// Any signed-in user's own account: their sessions, and signing out everywhere.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { invalidateAllSessions, listUserSessions } from '../auth/sessions.ts';
import { render, setFlash } from '../http/render.ts';
import { CsrfOnlyBody } from '../http/schemas.ts';
import { clearSessionCookie } from '../http/session-cookie.ts';

export const accountRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/account', async (request, reply) => {
    const current = request.auth?.session.id;
    const sessions = await listUserSessions(app.db, request.user.id);
    return render(request, reply, 'account/show', {
      title: 'Your account',
      sessions: sessions.map((s) => ({ createdAt: s.created_at, expiresAt: s.expires_at, current: s.id === current })),
    });
  });

  // Ends every session of this user, this browser's included (a lost laptop, a shared computer).
  app.post('/account/logout-everywhere', { schema: { body: CsrfOnlyBody } }, async (request, reply) => {
    const count = await invalidateAllSessions(app.db, request.user.id);
    clearSessionCookie(reply);
    setFlash(reply, 'info', `Signed out of ${count} session${count === 1 ? '' : 's'}.`);
    return reply.redirect('/login', 303);
  });
};
