// CSRF tokens (double submit: a random secret in a signed, httpOnly cookie, and a token derived from
// it in every form). Each token is also bound to who asked for it: the session id, or "anonymous"
// for a visitor, so a token picked up before signing in (or in another session) is worthless in
// this one. The secret itself is replaced whenever a session starts or ends.
import { createHmac } from 'node:crypto';
import type { FastifyCsrfProtectionOptions } from '@fastify/csrf-protection';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import { cookieName } from './cookie-names.ts';

/** Over http; `__Host-csrf` under https (see ./cookie-names.ts). */
export const CSRF_COOKIE = 'csrf';

export function csrfPluginOptions(config: Config): FastifyCsrfProtectionOptions {
  return {
    cookieKey: cookieName(CSRF_COOKIE, config),
    cookieOpts: { path: '/', httpOnly: true, sameSite: 'lax', signed: true, secure: config.secureCookies },
    getUserInfo: (request) => csrfBinding(request),
    // Its own key, derived from the cookie secret, rather than the cookie-signing key itself.
    csrfOpts: { userInfo: true, hmacKey: createHmac('sha256', config.cookieSecret).update('csrf-token-binding').digest() },
  };
}

function csrfBinding(request: FastifyRequest): string {
  return request.auth === null ? 'anonymous' : `session:${request.auth.session.id}`;
}

/** The token for the forms on the page this request renders. */
export function csrfTokenFor(request: FastifyRequest, reply: FastifyReply): string {
  return reply.generateCsrf({ userInfo: csrfBinding(request) });
}

/**
 * Drops the CSRF secret: at sign-in, sign-up, sign-out and when a session is found dead. Anything
 * this request still renders gets a token from a fresh secret (the new cookie replaces the clearing
 * one in the response).
 */
export function rotateCsrfSecret(request: FastifyRequest, reply: FastifyReply): void {
  const name = cookieName(CSRF_COOKIE, request.server.config);
  delete request.cookies[name];
  reply.clearCookie(name, { path: '/', secure: request.server.config.secureCookies });
}
