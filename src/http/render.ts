// Rendering pages with what every page needs (current user, CSRF token, flash message, offline
// banner), and turning schema validation failures into messages beside form fields.
import type { FastifyReply, FastifyRequest, FastifySchemaValidationError } from 'fastify';
import { cookieName } from './cookie-names.ts';
import { csrfTokenFor } from './csrf.ts';
import { readSessionCookie } from './session-cookie.ts';
import { textPatternMessage } from './schemas.ts';

/** Over http; `__Host-flash` under https (see ./cookie-names.ts). */
const FLASH_COOKIE = 'flash';

export type FlashKind = 'success' | 'error' | 'info';

export function setFlash(reply: FastifyReply, kind: FlashKind, message: string): void {
  reply.setCookie(cookieName(FLASH_COOKIE, reply.server.config), JSON.stringify({ kind, message }), {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    signed: true,
    secure: reply.server.config.secureCookies,
    maxAge: 60,
  });
}

function takeFlash(request: FastifyRequest, reply: FastifyReply): { kind: FlashKind; message: string } | undefined {
  const name = cookieName(FLASH_COOKIE, reply.server.config);
  const raw = request.cookies[name];
  if (raw === undefined) return undefined;
  reply.clearCookie(name, { path: '/', secure: reply.server.config.secureCookies });
  const unsigned = request.unsignCookie(raw);
  if (!unsigned.valid || unsigned.value === null) return undefined;
  try {
    const parsed = JSON.parse(unsigned.value) as { kind?: unknown; message?: unknown };
    if ((parsed.kind === 'success' || parsed.kind === 'error' || parsed.kind === 'info') && typeof parsed.message === 'string') {
      return { kind: parsed.kind, message: parsed.message };
    }
  } catch {
    // A tampered or stale flash is simply not shown.
  }
  return undefined;
}

/**
 * The page's CSRF token, made only if the template prints it: a page with no form (the catalogue,
 * a listing, for a visitor) then sets no CSRF cookie and spends nothing on the token. Handlebars
 * turns a value into text with toString() when it prints `{{csrfToken}}`, after the page data has
 * been copied around, so the token is made at that moment, once, and the cookie with it.
 */
function lazyCsrfToken(request: FastifyRequest, reply: FastifyReply): { toString(): string; made(): boolean } {
  let token: string | undefined;
  return { toString: () => (token ??= csrfTokenFor(request, reply)), made: () => token !== undefined };
}

function pageData(request: FastifyRequest, reply: FastifyReply, data: Record<string, unknown>, csrfToken: ReturnType<typeof lazyCsrfToken>) {
  const user = request.auth?.user ?? null;
  const { config } = reply.server;
  return {
    ...data,
    currentUser: user === null ? null : { id: user.id, email: user.email, displayName: user.display_name, role: user.role },
    isBuyer: user?.role === 'buyer',
    isSeller: user?.role === 'seller',
    isAdmin: user?.role === 'admin',
    csrfToken,
    flash: takeFlash(request, reply),
    offlineMode: config.stripe.mode === 'offline',
    testMode: config.stripe.mode === 'test',
  };
}

export async function render(
  request: FastifyRequest,
  reply: FastifyReply,
  template: string,
  data: Record<string, unknown> = {},
  statusCode = 200,
): Promise<FastifyReply> {
  return reply.code(statusCode).view(template, pageData(request, reply, data, lazyCsrfToken(request, reply)));
}

/**
 * A visitor's request that any other visitor's would render the same: not signed in, no session
 * cookie to clear, no flash message to show. Only such a page may be kept and sent to others.
 */
export function isPlainVisit(request: FastifyRequest, reply: FastifyReply): boolean {
  return request.auth === null && readSessionCookie(request) === undefined && request.cookies[cookieName(FLASH_COOKIE, reply.server.config)] === undefined;
}

/**
 * A plain visit's page as text, to keep and send again (see isPlainVisit); `shareable` is false
 * when rendering made something of this visitor's own (a CSRF token and its cookie), which must
 * never reach anyone else.
 */
export async function renderForVisitors(
  request: FastifyRequest,
  reply: FastifyReply,
  template: string,
  data: Record<string, unknown>,
): Promise<{ html: string; shareable: boolean }> {
  const csrfToken = lazyCsrfToken(request, reply);
  const html = await reply.viewAsync(template, pageData(request, reply, data, csrfToken));
  return { html, shareable: isPlainVisit(request, reply) && !csrfToken.made() };
}

export type FieldErrors = Record<string, string>;

/**
 * Maps schema errors to one message per field. `messages` gives the plain words for each field;
 * a field without one gets a generic but still specific message.
 */
export function fieldErrorsFrom(errors: FastifySchemaValidationError[] | undefined, messages: Record<string, string>): FieldErrors {
  const result: FieldErrors = {};
  // A control character is named as such, ahead of the field's usual words (which would not say what is wrong).
  const ordered = [...(errors ?? [])].sort((a, b) => Number(textPatternMessage(b) !== undefined) - Number(textPatternMessage(a) !== undefined));
  for (const error of ordered) {
    const missing = (error.params as { missingProperty?: unknown } | undefined)?.missingProperty;
    const field = typeof missing === 'string' ? missing : (error.instancePath.replace(/^\//, '').split('/')[0] ?? '');
    if (field === '' || result[field] !== undefined) continue;
    const textProblem = textPatternMessage(error);
    result[field] = textProblem !== undefined ? `This field ${textProblem}` : (messages[field] ?? `This field ${error.message ?? 'is not valid'}`);
  }
  if (Object.keys(result).length === 0 && (errors?.length ?? 0) > 0) result._form = 'Some of the input was not valid; please check the form.';
  return result;
}

/** Form values to show again after an error; passwords are never echoed back. */
export function keptValues(body: unknown, omit: string[] = ['password', '_csrf']): Record<string, string> {
  const values: Record<string, string> = {};
  if (body === null || typeof body !== 'object') return values;
  for (const [key, value] of Object.entries(body)) {
    if (!omit.includes(key) && typeof value === 'string') values[key] = value;
  }
  return values;
}

/** Only local paths may be redirect targets: `/x` yes; `//evil`, `/\evil`, `https://evil` no. */
export function safeLocalPath(candidate: unknown, fallback = '/'): string {
  if (typeof candidate !== 'string' || !candidate.startsWith('/')) return fallback;
  if (candidate.startsWith('//') || candidate.startsWith('/\\') || /[\r\n\t]/.test(candidate)) return fallback;
  try {
    const parsed = new URL(candidate, 'http://local.invalid');
    if (parsed.origin !== 'http://local.invalid') return fallback;
    const normalised = parsed.pathname + parsed.search;
    // Normalising can itself make a scheme-relative URL: `/.//evil.example` and `/a/..//evil`
    // become `//evil…`, which a browser reads as another host. Judge what will be sent.
    if (normalised.startsWith('//')) return fallback;
    return normalised;
  } catch {
    return fallback;
  }
}
