// Account links that arrive by email, for visitors: "forgot my password" (ask for a link, then set a
// new password with it) and confirming a new email address. The token rides in the query string,
// which the request log redacts; the pages carry it on in a hidden field. The forms answer alike
// whether or not an account has the address typed, so they tell no one who has an account.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifySchemaValidationError } from 'fastify';
import { checkResetToken, confirmEmailChange, emailChangeOf, requestPasswordReset, resetPassword } from '../accounts/use-cases.ts';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../auth/passwords.ts';
import { problemOf } from '../http/errors.ts';
import { fieldErrorsFrom, render, setFlash } from '../http/render.ts';
import { Csrf, Text, Type } from '../http/schemas.ts';

const Token = Text({ maxLength: 100 });
const TokenQuery = Type.Object({ token: Type.Optional(Token) });

const ForgotBody = Type.Object({ email: Type.String({ format: 'email', maxLength: 254 }), ...Csrf });
const ResetBody = Type.Object({
  token: Token,
  password: Text({ minLength: MIN_PASSWORD_LENGTH, maxLength: MAX_PASSWORD_LENGTH }),
  ...Csrf,
});
const ConfirmBody = Type.Object({ token: Token, ...Csrf });

const SENT = 'If an account uses that address, we have emailed it a link to reset the password. The link works once, for an hour.';

export const accountRecoveryRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/password-reset', async (request, reply) => render(request, reply, 'auth/forgot', { title: 'Reset your password', values: {} }));

  app.post(
    '/password-reset',
    {
      schema: { body: ForgotBody },
      attachValidation: true,
      config: { rateLimit: { max: 10, timeWindow: '10 minutes' } },
    },
    async (request, reply) => {
      if (request.validationError !== undefined) {
        const errors = fieldErrorsFrom(request.validationError.validation as FastifySchemaValidationError[], {
          email: 'Enter a valid email address, like name@example.com',
        });
        return render(request, reply, 'auth/forgot', { title: 'Reset your password', errors, values: {} }, 400);
      }
      await requestPasswordReset(app.db, request.body.email);
      setFlash(reply, 'info', SENT);
      return reply.redirect('/login', 303);
    },
  );

  app.get('/password-reset/new', { schema: { querystring: TokenQuery } }, async (request, reply) => {
    const token = request.query.token ?? '';
    const usable = await checkResetToken(app.db, token);
    return render(request, reply, 'auth/reset', { title: 'Choose a new password', token, usable }, usable ? 200 : 400);
  });

  app.post(
    '/password-reset/new',
    {
      schema: { body: ResetBody },
      attachValidation: true,
      config: { rateLimit: { max: 20, timeWindow: '10 minutes' } },
    },
    async (request, reply) => {
      const token = typeof (request.body as { token?: unknown }).token === 'string' ? request.body.token : '';
      if (request.validationError !== undefined) {
        const errors = fieldErrorsFrom(request.validationError.validation as FastifySchemaValidationError[], {
          password: `Use a password of ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`,
        });
        return render(request, reply, 'auth/reset', { title: 'Choose a new password', token, usable: true, errors }, 400);
      }
      try {
        await resetPassword(app.db, { token, password: request.body.password });
      } catch (error) {
        const problem = problemOf(error);
        const usable = problem.code !== 'account_link_invalid';
        return render(request, reply, 'auth/reset', { title: 'Choose a new password', token, usable, errors: { password: problem.message } }, problem.status);
      }
      setFlash(reply, 'success', 'Your password is changed, and every session of your account was signed out. Log in with the new password.');
      return reply.redirect('/login', 303);
    },
  );

  app.get('/email-change/confirm', { schema: { querystring: TokenQuery } }, async (request, reply) => {
    const token = request.query.token ?? '';
    const newEmail = await emailChangeOf(app.db, token);
    return render(request, reply, 'account/email-confirm', { title: 'Confirm your new email', token, newEmail }, newEmail === undefined ? 400 : 200);
  });

  app.post('/email-change/confirm', { schema: { body: ConfirmBody } }, async (request, reply) => {
    try {
      const changed = await confirmEmailChange(app.db, app.stripe, request.body.token);
      if (changed.stripeError !== null)
        request.log.warn(
          { err: changed.stripeError, userId: changed.userId },
          'email changed; its Stripe Customer was not updated (passed on when next needed)',
        );
      setFlash(reply, 'success', `Your account now uses ${changed.email}.`);
      return reply.redirect(request.auth === null ? '/login' : '/account', 303);
    } catch (error) {
      const problem = problemOf(error);
      return render(request, reply, 'account/email-confirm', { title: 'Confirm your new email', token: '', error: problem.message }, problem.status);
    }
  });
};
