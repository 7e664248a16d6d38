// A CSV download: named by what and when, an attachment, never cached. The body is a whole string
// (the admin's bounded exports) or text chunks streamed as they are made (a seller's exports).
import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';

export function sendCsv(reply: FastifyReply, name: string, body: string | AsyncIterable<string>): FastifyReply {
  const day = new Date().toISOString().slice(0, 10);
  reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}-${day}.csv"`);
  return reply.send(typeof body === 'string' ? body : Readable.from(body));
}
