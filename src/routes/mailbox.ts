// The local mailbox: in offline mode, every message the marketplace wrote to the outbox — what was
// (or would have been) sent — for someone trying the product on their own machine. It holds
// receipts and password-reset links, so it exists only in offline mode and answers only a browser
// on this machine: the TCP peer must be loopback, the request must not have come through a proxy
// (a tunnel to localhost would otherwise look local), and the Host must be a loopback name (a page
// elsewhere cannot reach it by pointing its own domain at 127.0.0.1). Anything else is a 404.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { findOutboxMessage, listOutbox } from '../email/outbox.ts';
import { render } from '../http/render.ts';
import { IdParams } from '../http/schemas.ts';

const LOOPBACK_ADDRESSES = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/;
const LOOPBACK_HOSTS = /^(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])(:\d{1,5})?$/i;

export function isLocalRequest(request: FastifyRequest): boolean {
  const peer = request.socket.remoteAddress ?? '';
  const proxied = request.headers['x-forwarded-for'] !== undefined || request.headers.forwarded !== undefined;
  return LOOPBACK_ADDRESSES.test(peer) && !proxied && LOOPBACK_HOSTS.test(request.headers.host ?? '');
}

export const mailboxRoutes: FastifyPluginAsyncTypebox = async (app) => {
  if (app.config.stripe.mode !== 'offline') return;

  app.addHook('onRequest', async (request, reply) => {
    if (!isLocalRequest(request)) return reply.callNotFound();
  });

  app.get('/dev/mailbox', async (request, reply) => {
    const messages = await listOutbox(app.db, 200);
    return render(request, reply, 'dev/mailbox', {
      title: 'Mailbox',
      smtp: app.config.email.smtpUrl !== undefined,
      messages: messages.map((m) => ({
        id: m.id,
        to: m.to_address,
        subject: m.subject ?? `(${m.template}, not rendered yet)`,
        status: m.status,
        created: m.created_at,
      })),
    });
  });

  app.get('/dev/mailbox/:id', { schema: { params: IdParams } }, async (request, reply) => {
    const message = await findOutboxMessage(app.db, request.params.id);
    if (message === undefined) return reply.callNotFound();
    return render(request, reply, 'dev/mailbox-message', { title: message.subject ?? 'Message', message, from: app.config.email.from });
  });

  // The HTML body on its own, for the message page's frame: no scripts, no requests anywhere.
  app.get('/dev/mailbox/:id/html', { schema: { params: IdParams } }, async (request, reply) => {
    const message = await findOutboxMessage(app.db, request.params.id);
    if (message?.html_body == null) return reply.callNotFound();
    return reply
      .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'self'; sandbox")
      .type('text/html; charset=utf-8')
      .send(message.html_body);
  });
};
