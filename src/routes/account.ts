import type { FastifyInstance } from 'fastify';
import { requireUser } from '../auth/guards.ts';
import { clearSessionCookie } from '../auth/session-cookie.ts';
import { invalidateAllSessions } from '../auth/sessions.ts';
import { render, setFlash } from '../http/render.ts';

export async function accountRoutes(app: FastifyInstance): Promise<void> {
  app.get('/account', { preHandler: requireUser }, async (request, reply) => {
    const auth = request.auth!;
    const sessions = await app.db
      .selectFrom('sessions').select(['id', 'created_at', 'expires_at'])
      .where('user_id', '=', auth.user.id).orderBy('created_at', 'desc').execute();
    return render(request, reply, 'account/show', {
      title: 'Your account',
      sessions: sessions.map((s) => ({ createdAt: s.created_at, expiresAt: s.expires_at, current: s.id === auth.session.id })),
    });
  });

  // Ends every session of this user, this browser's included (a lost laptop, a shared computer).
  app.post('/account/logout-everywhere', { preHandler: requireUser }, async (request, reply) => {
    const count = await invalidateAllSessions(app.db, request.auth!.user.id);
    clearSessionCookie(reply);
    setFlash(reply, 'info', `Signed out of ${count} session${count === 1 ? '' : 's'}.`);
    return reply.redirect('/login', 303);
  });
}
