// The client's address, as far as this deployment can know it. Login throttling and per-route rate
// limits count by it, so it must be something the client cannot choose: behind a proxy, the
// left-most X-Forwarded-For entry is written by the client and proves nothing.
import { isIP } from 'node:net';
import type { FastifyRequest } from 'fastify';
import type { ClientAddressSource } from '../config.ts';

/**
 * Fastify's `trustProxy`: only a fixed hop count ever makes Fastify read X-Forwarded-For. Hop 0 is
 * the TCP peer (our proxy), so with one hop the client is the right-most X-Forwarded-For entry.
 */
export function trustProxySetting(source: ClientAddressSource): false | ((address: string, hop: number) => boolean) {
  if (source.kind !== 'hops') return false;
  const { hops } = source;
  return (_address, hop) => hop < hops;
}

export const FLY_CLIENT_IP = 'fly-client-ip';

/**
 * `request.ip` already honours a hop count. On Fly, the edge proxy puts the address it saw in
 * `Fly-Client-IP` (replacing any the client sent); without it (a request over Fly's private
 * network) the TCP peer is the best we have.
 */
export function clientAddressOf(request: FastifyRequest, source: ClientAddressSource): string {
  if (source.kind === 'fly') {
    const header = request.headers[FLY_CLIENT_IP];
    if (typeof header === 'string' && isIP(header.trim()) !== 0) return header.trim();
  }
  return request.ip;
}
