// The seller's side: the dashboard with the true account state, Stripe-hosted onboarding (start,
// refresh, return), the Express dashboard, the seller's own listings and orders. Registered inside
// the seller area; every listing is looked up within the signed-in seller's own, so another seller's
// listing is a 404.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest, FastifySchemaValidationError } from 'fastify';
import type { Listing, Seller } from '../db/schema.ts';
import { DomainError, found } from '../errors.ts';
import { ACCOUNT_GONE, problemOf } from '../http/errors.ts';
import { fieldErrorsFrom, keptValues, render, setFlash } from '../http/render.ts';
import { Csrf, CsrfOnlyBody, IdParams, MultilineText, Text, Type } from '../http/schemas.ts';
import { isUuid } from '../ids.ts';
import { findOwnListing } from '../listings/queries.ts';
import { DESCRIPTION_MAX, STOCK_MAX, TITLE_MAX } from '../listings/rules.ts';
import { activateListing, addListing, editListing } from '../listings/use-cases.ts';
import { SUPPORTED_CURRENCIES, toDecimalString } from '../money.ts';
import { picturesForEditing } from '../images/use-cases.ts';
import { sellerOrderDetail, sellerOrdersPage } from '../orders/seller-orders.ts';
import { deriveAccountState, factsFromStored, type AccountStateView } from '../sellers/account-state.ts';
import {
  checkAccountNow,
  continueOnboarding,
  COUNTRY_CODES,
  openExpressDashboard,
  returnFromOnboarding,
  sellerDashboard,
  startOnboarding,
  SUPPORTED_COUNTRIES,
} from '../sellers/use-cases.ts';
import { listOrderRefundRequests } from '../refund-requests/queries.ts';
import { moderationOf } from '../moderation/use-cases.ts';
import { orderView } from './order-view.ts';

const StartPayoutsBody = Type.Object({
  country: Type.Enum(COUNTRY_CODES),
  ...Csrf,
});

// Shapes and lengths here; what depends on the currency (decimals, minimum, maximum) in validateListing.
const ListingBody = Type.Object({
  title: Text({ minLength: 1, maxLength: TITLE_MAX, notBlank: true }),
  description: Type.Optional(MultilineText({ maxLength: DESCRIPTION_MAX })),
  price: Text({ minLength: 1, maxLength: 20 }),
  currency: Type.Enum(SUPPORTED_CURRENCIES),
  stock: Type.Optional(Text({ maxLength: 12 })),
  // A radio: 'on' = unlimited, 'off' = limited to `stock`.
  unlimited: Type.Optional(Type.Union([Type.Literal('on'), Type.Literal('off')])),
  kind: Type.Optional(Type.Union([Type.Literal('physical'), Type.Literal('digital')])),
  ...Csrf,
});
const LISTING_MESSAGES = {
  title: `Enter a title (1 to ${TITLE_MAX} characters)`,
  description: `Keep the description under ${DESCRIPTION_MAX.toLocaleString('en-US')} characters`,
  price: 'Enter a price, like 12.50',
  currency: 'Choose one of the listed currencies',
  stock: `Enter how many you have in stock (0 to ${STOCK_MAX.toLocaleString('en-US')}), or choose "Unlimited"`,
  unlimited: 'Choose unlimited or limited stock',
  kind: 'Choose whether you ship this or it is digital',
};

export const sellerRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const onboardingUrls = {
    refreshUrl: `${app.config.publicUrl}/seller/payouts/refresh`,
    returnUrl: `${app.config.publicUrl}/seller/payouts/return`,
  };

  app.get('/seller', async (request, reply) =>
    renderDashboard(request, reply, await sellerDashboard(app.db, request.user.id), { moderation: await moderationOf(app.db, request.user.id) }),
  );

  // "Set up payouts" / "Continue setup": one account per seller, then a fresh single-use Account
  // Link. 303 so the browser follows with a GET to Stripe.
  app.post(
    '/seller/payouts/start',
    {
      schema: { body: StartPayoutsBody },
      attachValidation: true,
      config: { rateLimit: { max: 20, timeWindow: '1 minute' } },
    },
    async (request, reply) => {
      const user = request.user;
      if (request.validationError !== undefined) {
        return renderDashboard(
          request,
          reply,
          await sellerDashboard(app.db, user.id),
          { errors: { country: 'Choose the country where you or your business are based' } },
          400,
        );
      }
      // Safe to retry after any failure: the stored request and the idempotency key give the same account next time.
      return toStripeOrBack(reply, () =>
        startOnboarding(app.db, app.stripe, { sellerId: user.id, country: request.body.country, email: user.email, urls: onboardingUrls }),
      );
    },
  );

  // Stripe sends the seller here when a link expired or was already used. A new link, silently: the
  // seller never sees a dead end. GET because it is Stripe's redirect; it only acts on the signed-in
  // seller's own account and changes nothing but minting a link.
  app.get('/seller/payouts/refresh', { config: { rateLimit: { max: 20, timeWindow: '1 minute' } } }, async (request, reply) =>
    toStripeOrBack(reply, async () => {
      const url = await continueOnboarding(app.db, app.stripe, request.user.id, onboardingUrls);
      if (url === undefined) setFlash(reply, 'info', 'Choose your country to set up payouts.');
      return url ?? '/seller';
    }),
  );

  // Back from Stripe. Coming back proves nothing: re-read the account and show what it really is.
  app.get('/seller/payouts/return', async (request, reply) => {
    const back = await returnFromOnboarding(app.db, app.stripe, request.user.id);
    if (back === undefined) return reply.redirect('/seller', 303);
    if (back.notice === 'account_gone') return renderDashboard(request, reply, back.dashboard, { notice: ACCOUNT_GONE });
    // The last state we know, said to be possibly out of date; the webhook will catch up.
    if (back.notice === 'stale')
      return renderDashboard(request, reply, back.dashboard, {
        notice: 'We could not reach Stripe to check your account just now, so this status may be out of date. Reload the page in a moment.',
      });
    // Said once, then the plain dashboard: a reload must not claim Stripe told us this "just now".
    setFlash(reply, 'info', 'Welcome back from Stripe. The status below is what Stripe told us just now.');
    return reply.redirect('/seller', 303);
  });

  // Ask Stripe now instead of waiting for the webhook (e.g. while verification is pending).
  app.post('/seller/payouts/check', { schema: { body: CsrfOnlyBody }, config: { rateLimit: { max: 10, timeWindow: '1 minute' } } }, async (request, reply) =>
    toStripeOrBack(reply, async () => {
      await checkAccountNow(app.db, app.stripe, request.user.id);
      setFlash(reply, 'info', 'Checked with Stripe just now: the status below is up to date.');
      return '/seller';
    }),
  );

  // A login link is a one-time credential into the seller's Express dashboard: minted on a POST
  // (CSRF-checked) and only for an account whose details were submitted.
  app.post(
    '/seller/payouts/dashboard',
    { schema: { body: CsrfOnlyBody }, config: { rateLimit: { max: 20, timeWindow: '1 minute' } } },
    async (request, reply) => toStripeOrBack(reply, () => openExpressDashboard(app.db, app.stripe, request.user.id)),
  );

  /** Redirects where `go` says (Stripe's page, or back); a problem it meets is told on the dashboard. */
  async function toStripeOrBack(reply: FastifyReply, go: () => Promise<string>): Promise<FastifyReply> {
    try {
      return reply.redirect(await go(), 303);
    } catch (error) {
      const problem = problemOf(error);
      if (problem.code === 'stripe_unavailable') reply.log.warn({ err: error }, 'Stripe call failed');
      setFlash(reply, 'error', problem.message);
      return reply.redirect('/seller', 303);
    }
  }

  // ---- Listings ----
  app.get('/seller/listings/new', async (request, reply) =>
    renderListingForm(request, reply, { mode: 'new', values: { currency: 'usd', unlimited: 'off', kind: 'physical' } }),
  );

  app.post('/seller/listings', { schema: { body: ListingBody }, attachValidation: true }, async (request, reply) => {
    const values = keptValues(request.body);
    if (request.validationError !== undefined) {
      return renderListingForm(
        request,
        reply,
        { mode: 'new', values, errors: fieldErrorsFrom(request.validationError.validation as FastifySchemaValidationError[], LISTING_MESSAGES) },
        400,
      );
    }
    try {
      const { listing, sellerEnabled } = await addListing(app.db, request.user.id, request.body);
      setFlash(reply, 'success', `“${listing.title}” is listed.${sellerEnabled ? '' : ' Buyers will see it once your payouts are set up.'}`);
      return reply.redirect('/seller', 303);
    } catch (error) {
      return renderListingForm(request, reply, { mode: 'new', values, errors: listingErrors(error) }, 400);
    }
  });

  app.get('/seller/listings/:id/edit', { schema: { params: IdParams } }, async (request, reply) => {
    const listing = found(await findOwnListing(app.db, request.user.id, request.params.id));
    return renderListingForm(request, reply, { mode: 'edit', listing, values: formValuesOf(listing) });
  });

  app.post('/seller/listings/:id', { schema: { params: IdParams, body: ListingBody }, attachValidation: true }, async (request, reply) => {
    // With attachValidation a bad id lands here too, and is simply not found.
    const id = request.params.id;
    const listing = found(isUuid(id) ? await findOwnListing(app.db, request.user.id, id) : undefined);
    const values = keptValues(request.body);
    if (request.validationError !== undefined) {
      return renderListingForm(
        request,
        reply,
        { mode: 'edit', listing, values, errors: fieldErrorsFrom(request.validationError.validation as FastifySchemaValidationError[], LISTING_MESSAGES) },
        400,
      );
    }
    try {
      const saved = await editListing(app.db, request.user.id, id, request.body);
      setFlash(reply, 'success', `“${saved.title}” is saved.`);
      return reply.redirect('/seller', 303);
    } catch (error) {
      return renderListingForm(request, reply, { mode: 'edit', listing, values, errors: listingErrors(error) }, 400);
    }
  });

  for (const [action, active] of [
    ['deactivate', false],
    ['activate', true],
  ] as const) {
    app.post(`/seller/listings/:id/${action}`, { schema: { params: IdParams, body: CsrfOnlyBody } }, async (request, reply) => {
      const listing = await activateListing(app.db, request.user.id, request.params.id, active);
      setFlash(reply, 'success', active ? `“${listing.title}” is active again.` : `“${listing.title}” is deactivated; buyers no longer see it.`);
      return reply.redirect('/seller', 303);
    });
  }

  // ---- Orders ----
  app.get('/seller/orders', async (request, reply) => {
    const orders = (await sellerOrdersPage(app.db, request.user.id)).map((o) => ({ ...orderView(o), money: o.money }));
    return render(request, reply, 'seller/orders', { title: 'Orders', orders });
  });

  app.get('/seller/orders/:id', { schema: { params: IdParams } }, async (request, reply) => {
    const detail = await sellerOrderDetail(app.db, request.user.id, request.params.id);
    const refundRequests = await listOrderRefundRequests(app.db, detail.order.id);
    return render(request, reply, 'seller/order', {
      title: `Order ${detail.order.id.slice(0, 8)}`,
      ...detail,
      order: orderView(detail.order),
      refundRequests,
      decideBase: `/seller/orders/${detail.order.id}/refund-requests`,
    });
  });

  async function renderDashboard(
    request: FastifyRequest,
    reply: FastifyReply,
    dashboard: { seller: Seller; listings: Listing[] },
    extra: { returned?: boolean; errors?: Record<string, string>; notice?: string; moderation?: Awaited<ReturnType<typeof moderationOf>> } = {},
    status = 200,
  ): Promise<FastifyReply> {
    const { seller, listings } = dashboard;
    const account = seller.stripe_account_id === null ? null : deriveAccountState(factsFromStored(seller));
    return render(
      request,
      reply,
      'seller/dashboard',
      {
        title: 'Seller dashboard',
        returned: extra.returned ?? false,
        notice: extra.notice,
        moderation: extra.moderation,
        errors: extra.errors ?? {},
        account: account ?? deriveAccountState(null),
        badgeClass: badgeClassFor(account),
        hasAccount: seller.stripe_account_id !== null,
        canOpenDashboard: seller.stripe_account_id !== null && seller.details_submitted,
        countries: SUPPORTED_COUNTRIES.map(([code, name]) => ({ code, name, selected: code === (seller.account_country ?? 'US') })),
        isLive: seller.account_state === 'enabled',
        listings: listings.map((l) => ({ ...l, stockText: l.stock === null ? 'Unlimited' : String(l.stock) })),
      },
      status,
    );
  }

  async function renderListingForm(
    request: FastifyRequest,
    reply: FastifyReply,
    data: { mode: 'new' | 'edit'; listing?: Listing; values: Record<string, string>; errors?: Record<string, string> },
    status = 200,
  ): Promise<FastifyReply> {
    return render(
      request,
      reply,
      'seller/listing-form',
      {
        title: data.mode === 'new' ? 'New listing' : `Edit ${data.listing?.title ?? 'listing'}`,
        isNew: data.mode === 'new',
        action: data.mode === 'new' ? '/seller/listings' : `/seller/listings/${data.listing?.id ?? ''}`,
        values: data.values,
        errors: data.errors ?? {},
        currencies: SUPPORTED_CURRENCIES.map((c) => ({ code: c, label: c.toUpperCase(), selected: c === data.values.currency })),
        titleMax: TITLE_MAX,
        descriptionMax: DESCRIPTION_MAX,
        pictures: data.listing === undefined ? null : await picturesForEditing(app.db, data.listing),
      },
      status,
    );
  }
};

/** The field messages of an invalid listing; any other failure is not the form's business. */
function listingErrors(error: unknown): Record<string, string> {
  if (error instanceof DomainError && error.code === 'listing_invalid') return (error as DomainError<'listing_invalid'>).details.fields;
  throw error;
}

function badgeClassFor(account: AccountStateView | null): string {
  switch (account?.state) {
    case 'enabled':
      return 'badge-ok';
    case 'rejected':
      return 'badge-bad';
    case 'restricted':
      return account.pastDue ? 'badge-bad' : 'badge-warn';
    case undefined:
    case 'not_started':
      return '';
    default:
      return 'badge-warn';
  }
}

function formValuesOf(listing: Listing): Record<string, string> {
  return {
    title: listing.title,
    description: listing.description,
    price: toDecimalString(listing.price_amount, listing.currency),
    currency: listing.currency,
    stock: listing.stock === null ? '' : String(listing.stock),
    unlimited: listing.stock === null ? 'on' : 'off',
    kind: listing.kind,
  };
}
