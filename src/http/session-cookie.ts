import type { FastifyReply, FastifyRequest } from 'fastify';
import { SESSION_COOKIE } from '../auth/sessions.ts';
import { cookieName } from './cookie-names.ts';
import { rotateCsrfSecret } from './csrf.ts';

/** The session token this browser sent, if any. */
export function readSessionCookie(request: FastifyRequest): string | undefined {
  return request.cookies[cookieName(SESSION_COOKIE, request.server.config)];
}

/** Sends the cookie again for the same session (its expiry moved). */
export function setSessionCookie(reply: FastifyReply, token: string, expiresAt: Date): void {
  reply.setCookie(cookieName(SESSION_COOKIE, reply.server.config), token, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: reply.server.config.secureCookies,
    expires: expiresAt,
  });
}

/** A new session (sign-in, sign-up): its cookie, and a CSRF secret that no earlier page saw. */
export function beginSessionCookie(reply: FastifyReply, token: string, expiresAt: Date): void {
  setSessionCookie(reply, token, expiresAt);
  rotateCsrfSecret(reply.request, reply);
}

/** The session ended (sign-out, or found expired or unknown): its cookie and its CSRF secret go. */
export function clearSessionCookie(reply: FastifyReply): void {
  reply.clearCookie(cookieName(SESSION_COOKIE, reply.server.config), { path: '/', httpOnly: true, sameSite: 'lax', secure: reply.server.config.secureCookies });
  rotateCsrfSecret(reply.request, reply);
}
