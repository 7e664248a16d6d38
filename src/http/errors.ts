// The one map from a use case's error code to an HTTP status and the words a person reads, and the
// app's error and not-found pages. Routes that show an error beside a form ask `problemOf`; every
// other DomainError reaches the error handler below and gets its page from the same map.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifySchemaValidationError } from 'fastify';
import { isDomainError, type DomainError, type ErrorCode, type ErrorDetails } from '../errors.ts';
import { formatMoney, MAXIMUM_AMOUNT } from '../money.ts';
import { render, setFlash } from './render.ts';
import { textPatternMessage } from './schemas.ts';

interface Entry<C extends ErrorCode> {
  status: number;
  message: (details: ErrorDetails[C]) => string;
}

const fixed = (status: number, text: string) => ({ status, message: () => text });

export const UNKNOWN_OUTCOME =
  "Stripe did not answer in time, so we do not know yet whether this went through. Nothing is recorded as done: press the button again — the same request is sent again and cannot happen twice — or wait for Stripe's event.";
export const ACCOUNT_GONE =
  'Your Stripe account is no longer connected to this marketplace, so it cannot take payments or receive payouts. Contact us to connect it again.';

const MESSAGES: { [C in ErrorCode]: Entry<C> } = {
  not_found: fixed(404, 'There is nothing at this address.'),

  listing_not_for_sale: fixed(404, 'This listing is not for sale.'),
  seller_cannot_take_payments: fixed(409, 'This seller cannot accept payments right now, so this listing cannot be bought. Nothing has been charged.'),
  sold_out: {
    status: 409,
    message: ({ left, asked }) =>
      left === 0
        ? 'Sold out: this listing has no stock left.'
        : `Not enough stock: only ${left} left, fewer than the ${asked} you asked for. Choose ${left === 1 ? '1' : `at most ${left}`} and try again.`,
  },
  order_too_large: {
    status: 422,
    message: ({ currency }) => `That is more than one payment can be (at most ${formatMoney(MAXIMUM_AMOUNT, currency)}); buy fewer.`,
  },
  checkout_form_reused: fixed(409, 'This checkout form was already used. Go back to the listing and try again.'),
  order_not_awaiting_payment: fixed(409, 'This order is no longer waiting for payment.'),
  fulfilment_refused: {
    status: 409,
    message: ({ reason }) =>
      ({
        digital: 'This order is digital: there is nothing to ship.',
        not_paid: 'This order is not paid, so it must not be shipped.',
        refunded: 'This order was refunded in full, so it must not be shipped.',
        not_shipped: 'Mark the order shipped before marking it delivered.',
      })[reason],
  },
  shipping_country_not_served: { status: 422, message: ({ country }) => `We do not ship to ${country}. Choose one of the listed countries.` },
  shipping_address_fixed: fixed(
    409,
    'This order’s payment was already prepared for the address you gave first, so it can no longer be changed: it is shown on the payment page. To ship somewhere else, cancel the order there and buy again.',
  ),
  one_click_needs_address: fixed(
    409,
    'This item is shipped, so we need your address: use "Buy now" or "Pay with card on this site". Nothing has been charged.',
  ),
  too_many_pending_orders: {
    status: 429,
    message: ({ limit }) =>
      `You already have ${limit} orders waiting for payment. Pay for one or cancel it (under My orders) before starting another. Nothing has been charged.`,
  },
  checkout_started_too_late: fixed(409, 'This checkout was not started in time. Nothing has been charged; please start again.'),
  payment_refused: { status: 502, message: ({ reason }) => `The payment could not be started (${reason}). Nothing has been charged.` },
  order_cancel_unanswered: fixed(
    503,
    'Stripe did not answer in time, so your order is not canceled yet. Try again in a moment; if you paid meanwhile, the order shows as paid instead.',
  ),
  payment_start_unanswered: fixed(
    503,
    'Stripe did not answer in time, so the payment has not started. Nothing has been charged, and your order is kept: try again in a moment (it cannot be paid twice).',
  ),

  amount_invalid: { status: 422, message: ({ reason }) => reason },
  amount_not_positive: fixed(422, 'Enter an amount above zero.'),

  refund_form_reused: fixed(422, 'This refund form was already used for a different refund. Reload the order and start again.'),
  order_not_refundable: { status: 422, message: ({ status }) => `This order is ${status.replace('_', ' ')}; only paid orders can be refunded.` },
  order_has_no_payment: fixed(422, 'This order has no Stripe payment to refund.'),
  order_disputed: {
    status: 422,
    message: ({ status }) =>
      `This payment was disputed (${status.replaceAll('_', ' ')}): Stripe does not refund a disputed payment; the dispute decides where the money goes.`,
  },
  refund_exceeds_remaining: {
    status: 422,
    message: ({ left, orderAmount, currency }) =>
      left <= 0
        ? 'Nothing is left to refund on this order.'
        : `You can refund at most ${formatMoney(left, currency)} (the order is ${formatMoney(orderAmount, currency)} and ${formatMoney(orderAmount - left, currency)} is already refunded or being refunded).`,
  },
  refund_refused: { status: 422, message: ({ reason }) => `Stripe refused the refund: ${reason}` },

  refund_request_open: fixed(409, 'A refund request for this order is already waiting for an answer.'),
  refund_request_decided: { status: 409, message: ({ status }) => `This refund request was already ${status}.` },
  refund_request_refund_sent: fixed(
    409,
    'This request was approved and its refund already sent to Stripe, so it can no longer be declined. Press Approve to finish recording it: the same refund is sent, never a second one.',
  ),
  decline_needs_reason: fixed(400, 'Say why the refund is declined: the buyer reads it.'),

  payout_form_reused: fixed(422, 'This payout form was already used for a different payout. Reload the page and start again.'),
  payouts_not_paused: fixed(422, 'Payouts are not paused for this seller.'),

  listing_invalid: fixed(400, 'Some of the listing was not valid; see beside each field.'),
  catalogue_request_invalid: { status: 400, message: ({ message }) => message },

  plan_invalid: fixed(400, 'Some of the plan was not valid; see beside each field.'),
  seller_suspended: fixed(
    409,
    'Your shop is suspended by the marketplace (your dashboard says why), so you cannot create plans or change prices. Existing subscriptions go on as before.',
  ),
  plan_not_available: fixed(409, 'This plan is not open to new subscribers right now. Nothing has been charged.'),
  already_subscribed: fixed(409, 'You already have a subscription to this plan: see My subscriptions.'),
  subscription_not_changeable: fixed(409, 'This subscription can no longer be changed: it has ended or has not started.'),
  buyer_details_invalid: { status: 400, message: ({ fields }) => Object.values(fields).join(' ') },
  card_declined: { status: 402, message: ({ message }) => message },

  password_incorrect: fixed(400, 'That is not your current password.'),
  password_weak: { status: 400, message: ({ message }) => message },
  account_link_invalid: fixed(400, 'This link is not valid any more: it was already used, has expired, or was replaced by a newer one. Ask for a new one.'),
  email_taken: fixed(409, 'Another account uses this email address.'),
  account_deletion_not_allowed: {
    status: 409,
    message: ({ reason }) =>
      reason === 'not_buyer'
        ? 'Only buyer accounts can be deleted here. Sellers and admins: contact the platform.'
        : reason === 'live_subscriptions'
          ? 'You have a subscription that would go on charging your card. Cancel it under My subscriptions first ("Cancel at period end" is enough: it then ends when your account is deleted). One still waiting for its first payment ends by itself within a day if you do not pay it.'
          : 'You have an order waiting for payment. Pay for it or cancel it (under My orders) first.',
  },

  basis_points_out_of_range: fixed(422, 'Basis points must be a whole number from 0 to 10000: 100 bp = 1 %, so 5 % is 500.'),
  fixed_fee_needs_currency: fixed(422, 'A fixed amount needs a currency: choose one, or leave the fixed amount empty.'),
  fixed_fee_invalid: { status: 422, message: ({ reason }) => `Fixed amount: ${reason}.` },
  fixed_fee_unusually_large: {
    status: 422,
    message: ({ formatted }) =>
      `A fixed fee of ${formatted} on every order is unusually large: any order below it would pay its whole amount as the fee. Check the amount, or confirm to save it anyway.`,
  },

  stripe_refused: { status: 422, message: ({ reason }) => reason },
  stripe_outcome_unknown: fixed(422, UNKNOWN_OUTCOME),
  stripe_unavailable: {
    status: 503,
    message: ({ action }) => {
      switch (action) {
        case 'set_up_payouts':
          return 'We could not reach Stripe to set up payouts. Nothing was lost. Please try again in a moment.';
        case 'continue_setup':
          return 'We could not reach Stripe to continue your setup. Please try again in a moment.';
        case 'open_dashboard':
          return 'We could not open your Stripe dashboard just now. Please try again in a moment.';
        default:
          return 'We could not reach Stripe just now. Please try again in a moment.';
      }
    },
  },
  express_dashboard_not_ready: fixed(409, 'Finish setting up payouts first. The Stripe dashboard opens once your details are submitted.'),
  seller_account_gone: fixed(409, ACCOUNT_GONE),
};

export interface Problem {
  code: ErrorCode;
  status: number;
  message: string;
}

export function describe<C extends ErrorCode>(error: DomainError<C>): Problem {
  const entry = MESSAGES[error.code] as Entry<C>;
  return { code: error.code, status: entry.status, message: entry.message(error.details) };
}

/** In a route's catch: the problem to show for a DomainError; anything else is thrown on. */
export function problemOf(error: unknown): Problem {
  if (!isDomainError(error)) throw error;
  return describe(error);
}

/**
 * For a form that acts and goes back: runs `action`, then redirects to `page` with a flash saying
 * how it went: the success message `action` returns, or the problem in this map's words. A
 * not-found is thrown on (the 404 page), as is anything that is not a DomainError.
 */
export async function redirectWithOutcome(reply: FastifyReply, page: string, action: () => Promise<string>): Promise<FastifyReply> {
  try {
    setFlash(reply, 'success', await action());
  } catch (error) {
    const problem = problemOf(error);
    if (problem.code === 'not_found') throw error;
    setFlash(reply, 'error', problem.message);
  }
  return reply.redirect(page, 303);
}

/** The app's not-found page and error page, for every route. */
export function registerErrorPages(app: FastifyInstance): void {
  app.setNotFoundHandler(async (request, reply) => notFound(request, reply));

  app.setErrorHandler(async (error: FastifyError | DomainError, request, reply) => {
    if (isDomainError(error)) {
      if (error.code === 'not_found') return notFound(request, reply);
      const problem = describe(error);
      return errorPage(request, reply, problem.status, problem.message);
    }
    const status = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    return errorPage(request, reply, status, publicMessage(error, status));
  });
}

/** The error handler of the bare JSON endpoints (Stripe's webhooks): a status and safe words, never internals. */
export function registerJsonErrors(app: FastifyInstance): void {
  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    return reply.code(status).send({ error: status >= 500 ? 'Something went wrong on our side.' : error.message });
  });
}

async function notFound(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  if (!wantsHtml(request)) return reply.code(404).send({ error: 'Not found' });
  return render(request, reply, 'errors/404', {}, 404);
}

function wantsHtml(request: FastifyRequest): boolean {
  if (request.url.startsWith('/webhooks/') || request.url.startsWith('/healthz') || request.url.startsWith('/readyz')) return false;
  const accept = request.headers.accept ?? '';
  return accept === '' || accept.includes('text/html') || accept.includes('*/*');
}

/** What a person may be told: never internals for a 5xx. */
function publicMessage(error: FastifyError, status: number): string {
  if (status >= 500) return 'Something went wrong on our side. Please try again in a moment.';
  if (error.code?.startsWith('FST_CSRF')) return 'This form has expired or was not sent from this site. Reload the page and try again.';
  if (error.validation !== undefined) return `The request was not valid: ${error.message}`;
  if (status === 429) return 'Too many attempts. Please wait a little and try again.';
  return error.message;
}

async function errorPage(request: FastifyRequest, reply: FastifyReply, status: number, message: string): Promise<FastifyReply> {
  if (!wantsHtml(request)) return reply.code(status).send({ error: message });
  const template = status === 404 ? 'errors/404' : status === 403 ? 'errors/403' : status >= 500 ? 'errors/500' : 'errors/400';
  try {
    return await render(request, reply, template, { message, status, requestId: request.id }, status);
  } catch {
    // The error page itself failed (e.g. the view engine): fall back to plain text.
    return reply.code(status).type('text/plain').send(message);
  }
}

/**
 * Fastify's message for a request that fails its schema ("body/title must …"), with the field named
 * and a control character called that rather than a quoted regular expression.
 */
export function formatSchemaErrors(errors: FastifySchemaValidationError[], dataVar: string): Error {
  const parts = errors.map((error) => `${dataVar}${error.instancePath || ''} ${textPatternMessage(error) ?? error.message ?? 'is not valid'}`);
  return new Error([...new Set(parts)].join(', '));
}
