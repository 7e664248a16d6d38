// Sign up, log in, log out. Bad input re-renders the form with a message beside each field and the
// input kept (never the password); nothing here answers a person with a 500 or a JSON error.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifySchemaValidationError } from 'fastify';
import { admitLoginAttempt, pruneLoginFailures, recordLoginSuccess, rememberFamiliarAddress, waitMessage } from '../auth/login-throttle.ts';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../auth/passwords.ts';
import { createSession, invalidateSession, sessionIdOf } from '../auth/sessions.ts';
import { signUp, type SignupResult } from '../auth/signup.ts';
import { verifyCredentials } from '../auth/users.ts';
import { beginSessionCookie, clearSessionCookie, readSessionCookie } from '../http/session-cookie.ts';
import type { Role } from '../db/schema.ts';
import { fieldErrorsFrom, keptValues, render, safeLocalPath, setFlash } from '../http/render.ts';
import { Csrf, Text, Type } from '../http/schemas.ts';

const Email = Type.String({ format: 'email', maxLength: 254 });

const SignupBody = Type.Object({
  email: Email,
  password: Text({ minLength: MIN_PASSWORD_LENGTH, maxLength: MAX_PASSWORD_LENGTH }),
  displayName: Text({ minLength: 1, maxLength: 80, notBlank: true }),
  role: Type.Union([Type.Literal('buyer'), Type.Literal('seller')]),
  /** Where the visitor was going when sent to log in ("Log in to buy" → "Create an account"). */
  next: Type.Optional(Text({ maxLength: 2048 })),
  ...Csrf,
});
const SIGNUP_MESSAGES = {
  email: 'Enter a valid email address, like name@example.com',
  password: `Use a password of ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`,
  displayName: 'Enter your name (up to 80 characters)',
  role: 'Choose whether you are buying or selling',
};

const LoginBody = Type.Object({
  email: Email,
  password: Text({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH }),
  next: Type.Optional(Text({ maxLength: 2048 })),
  ...Csrf,
});
const LOGIN_MESSAGES = { email: 'Enter the email address you signed up with', password: 'Enter your password' };

const NextQuery = Type.Object({ next: Type.Optional(Text({ maxLength: 2048 })) });

function signupRefusal(refused: Exclude<SignupResult, { ok: true }>): [Record<string, string>, number] {
  switch (refused.reason) {
    case 'bad_name':
      return [{ displayName: refused.message }, 400];
    case 'name_taken':
      return [{ displayName: 'A seller with this name (or one that looks the same) already exists; choose another' }, 409];
    case 'weak_password':
      return [{ password: refused.message }, 400];
    case 'email_taken':
      return [{ email: 'An account with this email already exists. Log in instead?' }, 409];
    case 'throttled':
      return [{ _form: `Too many sign-up attempts from your network. ${waitMessage(refused.retryAfterSeconds)}` }, 429];
  }
}

/** Where a user lands after signing in, unless they were on their way somewhere. */
export function homeFor(role: Role): string {
  return role === 'admin' ? '/admin' : role === 'seller' ? '/seller' : '/';
}

export const authRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/signup',
    { schema: { querystring: Type.Object({ role: Type.Optional(Text({ maxLength: 20 })), next: Type.Optional(Text({ maxLength: 2048 })) }) } },
    async (request, reply) => {
      const role = request.query.role === 'seller' ? 'seller' : 'buyer';
      return render(request, reply, 'auth/signup', { title: 'Create an account', values: { role, next: safeLocalPath(request.query.next, '') } });
    },
  );

  app.post(
    '/signup',
    {
      schema: { body: SignupBody },
      attachValidation: true,
      config: { rateLimit: { max: 30, timeWindow: '10 minutes' } },
    },
    async (request, reply) => {
      const values = keptValues(request.body);
      if (request.validationError !== undefined) {
        const errors = fieldErrorsFrom(request.validationError.validation as FastifySchemaValidationError[], SIGNUP_MESSAGES);
        return render(request, reply, 'auth/signup', { title: 'Create an account', errors, values }, 400);
      }
      const body = request.body;
      const created = await signUp(
        app.db,
        { email: body.email, password: body.password, role: body.role, displayName: body.displayName },
        request.clientAddress,
      );
      if (!created.ok) {
        const [errors, status] = signupRefusal(created);
        if (created.reason === 'throttled') reply.header('retry-after', created.retryAfterSeconds);
        return render(request, reply, 'auth/signup', { title: 'Create an account', errors, values }, status);
      }
      await rememberFamiliarAddress(app.db, created.user.id, request.clientAddress);
      const { token, session } = await createSession(app.db, created.user.id);
      beginSessionCookie(reply, token, session.expires_at);
      setFlash(reply, 'success', 'Welcome! Your account is ready.');
      return reply.redirect(safeLocalPath(body.next, homeFor(created.user.role)) || homeFor(created.user.role), 303);
    },
  );

  app.get('/login', { schema: { querystring: NextQuery } }, async (request, reply) => {
    const next = safeLocalPath(request.query.next, '');
    return render(request, reply, 'auth/login', { title: 'Log in', values: { next } });
  });

  app.post('/login', { schema: { body: LoginBody }, attachValidation: true }, async (request, reply) => {
    const values = keptValues(request.body);
    if (request.validationError !== undefined) {
      const errors = fieldErrorsFrom(request.validationError.validation as FastifySchemaValidationError[], LOGIN_MESSAGES);
      return render(request, reply, 'auth/login', { title: 'Log in', errors, values }, 400);
    }
    const body = request.body;
    const admission = await admitLoginAttempt(app.db, body.email, request.clientAddress);
    if (!admission.admitted) {
      const errors = { _form: `Too many failed attempts. ${waitMessage(admission.retryAfterSeconds)}` };
      return render(request, reply.header('retry-after', admission.retryAfterSeconds), 'auth/login', { title: 'Log in', errors, values }, 429);
    }
    const user = await verifyCredentials(app.db, body.email, body.password);
    if (user === null) {
      await pruneLoginFailures(app.db);
      const errors = { _form: 'That email and password do not match an account.' };
      return render(request, reply, 'auth/login', { title: 'Log in', errors, values }, 401);
    }
    await recordLoginSuccess(app.db, admission.attempt, user.id);

    // A new session on every login: a session id planted before login is worthless after it.
    const previous = readSessionCookie(request);
    const previousId = previous === undefined ? undefined : sessionIdOf(previous);
    if (previousId !== undefined) await invalidateSession(app.db, previousId);
    const { token, session } = await createSession(app.db, user.id);
    beginSessionCookie(reply, token, session.expires_at);
    return reply.redirect(safeLocalPath(body.next, homeFor(user.role)) || homeFor(user.role), 303);
  });

  app.post('/logout', async (request, reply) => {
    if (request.auth !== null) await invalidateSession(app.db, request.auth.session.id);
    clearSessionCookie(reply);
    setFlash(reply, 'info', 'You are logged out.');
    return reply.redirect('/', 303);
  });
};
