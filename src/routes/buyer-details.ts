// A buyer changes their name (with their current password; the email changes through
// /account/email, confirmed by a link). Stripe's Customer is told too (src/customers/use-cases.ts: updateBuyerDetails), so receipts and invoices use the new name.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifySchemaValidationError } from 'fastify';
import { MAX_PASSWORD_LENGTH } from '../auth/passwords.ts';
import { updateBuyerDetails } from '../customers/use-cases.ts';
import { isDomainError } from '../errors.ts';
import { fieldErrorsFrom, keptValues, render, setFlash } from '../http/render.ts';
import { Csrf, Text, Type } from '../http/schemas.ts';

const DetailsBody = Type.Object({
  displayName: Text({ minLength: 1, maxLength: 80, notBlank: true }),
  password: Text({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH }),
  ...Csrf,
});
const MESSAGES = { displayName: 'Enter your name (up to 80 characters)', password: 'Enter your current password' };

export const buyerDetailsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/account/details', async (request, reply) => {
    return render(request, reply, 'account/details', { title: 'Your name', values: { email: request.user.email, displayName: request.user.display_name } });
  });

  app.post(
    '/account/details',
    {
      schema: { body: DetailsBody },
      attachValidation: true,
      config: { rateLimit: { max: 10, timeWindow: '10 minutes' } },
    },
    async (request, reply) => {
      const values = keptValues(request.body);
      if (request.validationError !== undefined) {
        const errors = fieldErrorsFrom(request.validationError.validation as FastifySchemaValidationError[], MESSAGES);
        return render(request, reply, 'account/details', { title: 'Your name', errors, values }, 400);
      }
      try {
        // The name only: the email changes through /account/email, confirmed by a link sent to the new address.
        await updateBuyerDetails(app.db, app.stripe, {
          buyerId: request.user.id,
          displayName: request.body.displayName,
          currentPassword: request.body.password,
        });
      } catch (error) {
        if (!isDomainError(error) || error.code !== 'buyer_details_invalid') throw error;
        return render(
          request,
          reply,
          'account/details',
          { title: 'Your name', errors: (error.details as { fields: Record<string, string> }).fields, values },
          400,
        );
      }
      setFlash(reply, 'success', 'Your name is saved.');
      return reply.redirect('/account', 303);
    },
  );
};
