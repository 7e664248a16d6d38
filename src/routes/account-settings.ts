// A signed-in person's own settings: change the password (their other sessions end), move the
// account to another email (confirmed by a link sent there), and, for buyers, delete the account.
// Each action asks for the current password, so a borrowed or stolen session cannot take the
// account over or destroy it.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest, FastifySchemaValidationError } from 'fastify';
import { changePassword, deleteBuyerAccount, requestEmailChange } from '../accounts/use-cases.ts';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../auth/passwords.ts';
import { isDomainError, type DomainError } from '../errors.ts';
import { problemOf } from '../http/errors.ts';
import { fieldErrorsFrom, keptValues, render, setFlash } from '../http/render.ts';
import { clearSessionCookie } from '../http/session-cookie.ts';
import { Csrf, Text, Type } from '../http/schemas.ts';

const CurrentPassword = Text({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH });
const PasswordBody = Type.Object({
  currentPassword: CurrentPassword,
  newPassword: Text({ minLength: MIN_PASSWORD_LENGTH, maxLength: MAX_PASSWORD_LENGTH }),
  ...Csrf,
});
const EmailBody = Type.Object({ email: Type.String({ format: 'email', maxLength: 254 }), currentPassword: CurrentPassword, ...Csrf });
const DeleteBody = Type.Object({ currentPassword: CurrentPassword, confirm: Type.Optional(Text({ maxLength: 10 })), ...Csrf });

const MESSAGES = {
  currentPassword: 'Enter your current password',
  newPassword: `Use a password of ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`,
  email: 'Enter a valid email address, like name@example.com',
  confirm: 'Tick the box to confirm',
};
const SECRET_FIELDS = ['currentPassword', 'newPassword', '_csrf'];

/** Which field a refusal belongs beside. */
const FIELD_OF: Record<string, string> = { password_incorrect: 'currentPassword', password_weak: 'newPassword' };

export const accountSettingsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  function page(request: FastifyRequest, reply: FastifyReply, view: string, title: string, extra: Record<string, unknown> = {}, status = 200) {
    return render(request, reply, view, { title, values: keptValues(request.body, SECRET_FIELDS), ...extra }, status);
  }
  function refusal(error: unknown): [Record<string, string>, number] {
    const problem = problemOf(error);
    return [{ [FIELD_OF[problem.code] ?? '_form']: problem.message }, problem.status];
  }
  const invalid = (request: FastifyRequest) => fieldErrorsFrom(request.validationError?.validation as FastifySchemaValidationError[], MESSAGES);

  app.get('/account/password', async (request, reply) => page(request, reply, 'account/password', 'Change your password'));
  app.post('/account/password', { schema: { body: PasswordBody }, attachValidation: true }, async (request, reply) => {
    if (request.validationError !== undefined) return page(request, reply, 'account/password', 'Change your password', { errors: invalid(request) }, 400);
    try {
      const { endedSessions } = await changePassword(app.db, {
        userId: request.user.id,
        currentSessionId: request.auth!.session.id,
        currentPassword: request.body.currentPassword,
        newPassword: request.body.newPassword,
      });
      setFlash(
        reply,
        'success',
        `Your password is changed${endedSessions > 0 ? `; ${endedSessions} other session${endedSessions === 1 ? ' was' : 's were'} signed out` : ''}.`,
      );
      return reply.redirect('/account', 303);
    } catch (error) {
      const [errors, status] = refusal(error);
      return page(request, reply, 'account/password', 'Change your password', { errors }, status);
    }
  });

  app.get('/account/email', async (request, reply) => page(request, reply, 'account/email', 'Change your email'));
  app.post(
    '/account/email',
    {
      schema: { body: EmailBody },
      attachValidation: true,
      config: { rateLimit: { max: 10, timeWindow: '10 minutes' } },
    },
    async (request, reply) => {
      if (request.validationError !== undefined) return page(request, reply, 'account/email', 'Change your email', { errors: invalid(request) }, 400);
      try {
        await requestEmailChange(app.db, { userId: request.user.id, currentPassword: request.body.currentPassword, newEmail: request.body.email });
        setFlash(reply, 'info', `We have emailed a link to ${request.body.email.trim()}. Your account keeps its current address until you open it.`);
        return reply.redirect('/account', 303);
      } catch (error) {
        const [errors, status] = refusal(error);
        return page(request, reply, 'account/email', 'Change your email', { errors }, status);
      }
    },
  );

  app.get('/account/delete', async (request, reply) => page(request, reply, 'account/delete', 'Delete your account'));
  app.post('/account/delete', { schema: { body: DeleteBody }, attachValidation: true }, async (request, reply) => {
    if (request.validationError !== undefined) return page(request, reply, 'account/delete', 'Delete your account', { errors: invalid(request) }, 400);
    if (request.body.confirm !== 'yes') return page(request, reply, 'account/delete', 'Delete your account', { errors: { confirm: MESSAGES.confirm } }, 400);
    const userId = request.user.id;
    let deleted;
    try {
      deleted = await deleteBuyerAccount(app.db, app.stripe, { userId, currentPassword: request.body.currentPassword, publicUrl: app.config.publicUrl });
    } catch (error) {
      const [errors, status] = refusal(error);
      // Refused for a subscription: the page links to where it can be canceled.
      const toSubscriptions =
        isDomainError(error) &&
        error.code === 'account_deletion_not_allowed' &&
        (error as DomainError<'account_deletion_not_allowed'>).details.reason === 'live_subscriptions';
      return page(request, reply, 'account/delete', 'Delete your account', { errors, toSubscriptions }, status);
    }
    // The account is gone whatever Stripe said: the person is signed out and told so.
    if (deleted.stripeError !== null)
      request.log.warn({ err: deleted.stripeError, userId }, 'account deleted; its Stripe Customer is not deleted yet (the worker retries)');
    clearSessionCookie(reply);
    setFlash(reply, 'info', 'Your account is deleted. Your past orders stay on record without your name or email.');
    return reply.redirect('/', 303);
  });
};
