// The seller's side: the dashboard with the true account state, Stripe-hosted onboarding (start,
// refresh, return), the Express dashboard, and the seller's own listings. Every route requires a
// seller; every listing query is scoped to the signed-in seller, so another seller's listing is a 404.
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchemaValidationError } from 'fastify';
import Stripe from 'stripe';
import { requireSeller } from '../auth/guards.ts';
import type { Listing, Seller } from '../db/schema.ts';
import { fieldErrorsFrom, keptValues, render, setFlash } from '../http/render.ts';
import {
  createListing, DESCRIPTION_MAX, findOwnListing, listSellerListings, setListingActive, STOCK_MAX, TITLE_MAX, updateListing, validateListing,
} from '../listings/listings.ts';
import { SUPPORTED_CURRENCIES, toDecimalString } from '../money.ts';
import { picturesForEditing } from '../images/use-cases.ts';
import { deriveAccountState, factsFromStored, type AccountStateView } from '../sellers/account-state.ts';
import {
  COUNTRY_CODES, createDashboardLink, createOnboardingLink, ensureConnectedAccount, ensureSeller, SUPPORTED_COUNTRIES, syncAccountFromStripe,
} from '../sellers/onboarding.ts';

const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const ListingParams = Type.Object({ id: Type.String({ pattern: UUID_PATTERN }) });
const Csrf = { _csrf: Type.Optional(Type.String()) };

const StartPayoutsBody = Type.Object({
  country: Type.Union(COUNTRY_CODES.map((code) => Type.Literal(code))),
  ...Csrf,
});
const CsrfOnlyBody = Type.Object(Csrf);

// Shapes and lengths here; what depends on the currency (decimals, minimum, maximum) in validateListing.
const ListingBody = Type.Object({
  title: Type.String({ minLength: 1, maxLength: TITLE_MAX, pattern: '\\S' }),
  description: Type.Optional(Type.String({ maxLength: DESCRIPTION_MAX })),
  price: Type.String({ minLength: 1, maxLength: 20 }),
  currency: Type.Union(SUPPORTED_CURRENCIES.map((c) => Type.Literal(c))),
  stock: Type.Optional(Type.String({ maxLength: 12 })),
  // A radio: 'on' = unlimited, 'off' = limited to `stock`.
  unlimited: Type.Optional(Type.Union([Type.Literal('on'), Type.Literal('off')])),
  ...Csrf,
});
const LISTING_MESSAGES = {
  title: `Enter a title (1 to ${TITLE_MAX} characters)`,
  description: `Keep the description under ${DESCRIPTION_MAX.toLocaleString('en-US')} characters`,
  price: 'Enter a price, like 12.50',
  currency: 'Choose one of the listed currencies',
  stock: `Enter how many you have in stock (0 to ${STOCK_MAX.toLocaleString('en-US')}), or choose "Unlimited"`,
  unlimited: 'Choose unlimited or limited stock',
};

export async function sellerRoutes(app: FastifyInstance): Promise<void> {
  const onboardingUrls = {
    refreshUrl: `${app.config.publicUrl}/seller/payouts/refresh`,
    returnUrl: `${app.config.publicUrl}/seller/payouts/return`,
  };

  app.get('/seller', { preHandler: requireSeller }, async (request, reply) => {
    const seller = await ensureSeller(app.db, request.auth!.user.id);
    return renderDashboard(request, reply, seller, { returned: false });
  });

  // "Set up payouts" / "Continue setup": one account per seller (see ensureConnectedAccount), then a
  // fresh single-use Account Link. 303 so the browser follows with a GET to Stripe.
  app.post('/seller/payouts/start', {
    preHandler: requireSeller,
    schema: { body: StartPayoutsBody },
    attachValidation: true,
    config: { rateLimit: { max: 20, timeWindow: '1 minute' } },
  }, async (request, reply) => {
    const user = request.auth!.user;
    if (request.validationError !== undefined) {
      const seller = await ensureSeller(app.db, user.id);
      return renderDashboard(request, reply, seller, { returned: false, errors: { country: 'Choose the country where you or your business are based' } }, 400);
    }
    const body = request.body as Static<typeof StartPayoutsBody>;
    try {
      const { accountId } = await ensureConnectedAccount(app.db, app.stripe, { sellerId: user.id, country: body.country, email: user.email });
      const link = await createOnboardingLink(app.stripe, accountId, onboardingUrls);
      return reply.redirect(link.url, 303);
    } catch (error) {
      // Safe to retry: the stored request and the idempotency key give the same account next time.
      return stripeUnavailable(request, reply, error, 'We could not reach Stripe to set up payouts. Nothing was lost. Please try again in a moment.');
    }
  });

  // Stripe sends the seller here when a link expired or was already used. A new link, silently: the
  // seller never sees a dead end. GET because it is Stripe's redirect; it only acts on the signed-in
  // seller's own account and changes nothing but minting a link.
  app.get('/seller/payouts/refresh', { preHandler: requireSeller, config: { rateLimit: { max: 20, timeWindow: '1 minute' } } }, async (request, reply) => {
    const seller = await ensureSeller(app.db, request.auth!.user.id);
    if (seller.stripe_account_id === null) {
      setFlash(reply, 'info', 'Choose your country to set up payouts.');
      return reply.redirect('/seller', 303);
    }
    try {
      const link = await createOnboardingLink(app.stripe, seller.stripe_account_id, onboardingUrls);
      return reply.redirect(link.url, 303);
    } catch (error) {
      return stripeUnavailable(request, reply, error, 'We could not reach Stripe to continue your setup. Please try again in a moment.');
    }
  });

  // Back from Stripe. Coming back proves nothing: re-read the account and show what it really is.
  app.get('/seller/payouts/return', { preHandler: requireSeller }, async (request, reply) => {
    const sellerId = request.auth!.user.id;
    const before = await ensureSeller(app.db, sellerId);
    if (before.stripe_account_id === null) return reply.redirect('/seller', 303);
    try {
      await syncAccountFromStripe(app.db, app.stripe, before.stripe_account_id);
    } catch (error) {
      if (isAccountGone(error)) return renderDashboard(request, reply, await ensureSeller(app.db, sellerId), { returned: false, notice: ACCOUNT_GONE });
      // Show the last state we know, and say it may be out of date; the webhook will catch up.
      if (!isStripeOutage(error)) throw error;
      const seller = await ensureSeller(app.db, sellerId);
      return renderDashboard(request, reply, seller, { returned: false, notice: 'We could not reach Stripe to check your account just now, so this status may be out of date. Reload the page in a moment.' });
    }
    const seller = await ensureSeller(app.db, sellerId);
    return renderDashboard(request, reply, seller, { returned: true });
  });

  // Ask Stripe now instead of waiting for the webhook (e.g. while verification is pending).
  app.post('/seller/payouts/check', { preHandler: requireSeller, schema: { body: CsrfOnlyBody }, config: { rateLimit: { max: 10, timeWindow: '1 minute' } } }, async (request, reply) => {
    const seller = await ensureSeller(app.db, request.auth!.user.id);
    try {
      if (seller.stripe_account_id !== null) await syncAccountFromStripe(app.db, app.stripe, seller.stripe_account_id);
    } catch (error) {
      if (isAccountGone(error)) {
        setFlash(reply, 'error', ACCOUNT_GONE);
        return reply.redirect('/seller', 303);
      }
      return stripeUnavailable(request, reply, error, 'We could not reach Stripe just now. Please try again in a moment.');
    }
    return reply.redirect('/seller', 303);
  });

  // A login link is a one-time credential into the seller's Express dashboard: minted on a POST
  // (CSRF-checked) and only for an account whose details were submitted (Stripe refuses otherwise).
  app.post('/seller/payouts/dashboard', { preHandler: requireSeller, schema: { body: CsrfOnlyBody }, config: { rateLimit: { max: 20, timeWindow: '1 minute' } } }, async (request, reply) => {
    const seller = await ensureSeller(app.db, request.auth!.user.id);
    if (seller.stripe_account_id === null || !seller.details_submitted) {
      setFlash(reply, 'error', 'Finish setting up payouts first. The Stripe dashboard opens once your details are submitted.');
      return reply.redirect('/seller', 303);
    }
    try {
      return reply.redirect(await createDashboardLink(app.stripe, seller.stripe_account_id), 303);
    } catch (error) {
      return stripeUnavailable(request, reply, error, 'We could not open your Stripe dashboard just now. Please try again in a moment.');
    }
  });

  app.get('/seller/listings/new', { preHandler: requireSeller }, async (request, reply) =>
    renderListingForm(request, reply, { mode: 'new', values: { currency: 'usd', unlimited: 'off' } }));

  app.post('/seller/listings', { preHandler: requireSeller, schema: { body: ListingBody }, attachValidation: true }, async (request, reply) => {
    const values = keptValues(request.body);
    if (request.validationError !== undefined) {
      return renderListingForm(request, reply, { mode: 'new', values, errors: fieldErrorsFrom(request.validationError.validation as FastifySchemaValidationError[], LISTING_MESSAGES) }, 400);
    }
    const checked = validateListing(request.body as Static<typeof ListingBody>);
    if (!checked.ok) return renderListingForm(request, reply, { mode: 'new', values, errors: checked.errors }, 400);
    const seller = await ensureSeller(app.db, request.auth!.user.id);
    await createListing(app.db, seller.id, checked.value);
    setFlash(reply, 'success', `“${checked.value.title}” is listed.${seller.account_state === 'enabled' ? '' : ' Buyers will see it once your payouts are set up.'}`);
    return reply.redirect('/seller', 303);
  });

  app.get('/seller/listings/:id/edit', { preHandler: requireSeller, schema: { params: ListingParams } }, async (request, reply) => {
    const { id } = request.params as Static<typeof ListingParams>;
    const listing = await findOwnListing(app.db, request.auth!.user.id, id);
    if (listing === undefined) return notFound(request, reply);
    return renderListingForm(request, reply, { mode: 'edit', listing, values: formValuesOf(listing) });
  });

  app.post('/seller/listings/:id', { preHandler: requireSeller, schema: { params: ListingParams, body: ListingBody }, attachValidation: true }, async (request, reply) => {
    // Params are validated too; with attachValidation a bad id lands here, and is simply not found.
    const id = (request.params as { id?: string }).id ?? '';
    const sellerId = request.auth!.user.id;
    const listing = new RegExp(UUID_PATTERN).test(id) ? await findOwnListing(app.db, sellerId, id) : undefined;
    if (listing === undefined) return notFound(request, reply);
    const values = keptValues(request.body);
    if (request.validationError !== undefined) {
      return renderListingForm(request, reply, { mode: 'edit', listing, values, errors: fieldErrorsFrom(request.validationError.validation as FastifySchemaValidationError[], LISTING_MESSAGES) }, 400);
    }
    const checked = validateListing(request.body as Static<typeof ListingBody>);
    if (!checked.ok) return renderListingForm(request, reply, { mode: 'edit', listing, values, errors: checked.errors }, 400);
    await updateListing(app.db, sellerId, id, checked.value);
    setFlash(reply, 'success', `“${checked.value.title}” is saved.`);
    return reply.redirect('/seller', 303);
  });

  for (const [action, active] of [['deactivate', false], ['activate', true]] as const) {
    app.post(`/seller/listings/:id/${action}`, { preHandler: requireSeller, schema: { params: ListingParams, body: CsrfOnlyBody } }, async (request, reply) => {
      const { id } = request.params as Static<typeof ListingParams>;
      const listing = await setListingActive(app.db, request.auth!.user.id, id, active);
      if (listing === undefined) return notFound(request, reply);
      setFlash(reply, 'success', active ? `“${listing.title}” is active again.` : `“${listing.title}” is deactivated; buyers no longer see it.`);
      return reply.redirect('/seller', 303);
    });
  }

  async function renderDashboard(
    request: FastifyRequest, reply: FastifyReply, seller: Seller,
    extra: { returned: boolean; errors?: Record<string, string>; notice?: string }, status = 200,
  ): Promise<FastifyReply> {
    const account = seller.stripe_account_id === null ? null : deriveAccountState(factsFromStored(seller));
    const listings = await listSellerListings(app.db, seller.id);
    return render(request, reply, 'seller/dashboard', {
      title: 'Seller dashboard',
      returned: extra.returned,
      notice: extra.notice,
      errors: extra.errors ?? {},
      account: account ?? deriveAccountState(null),
      badgeClass: badgeClassFor(account),
      hasAccount: seller.stripe_account_id !== null,
      canOpenDashboard: seller.stripe_account_id !== null && seller.details_submitted,
      countries: SUPPORTED_COUNTRIES.map(([code, name]) => ({ code, name, selected: code === (seller.account_country ?? 'US') })),
      isLive: seller.account_state === 'enabled',
      listings: listings.map((l) => ({ ...l, stockText: l.stock === null ? 'Unlimited' : String(l.stock) })),
    }, status);
  }

  async function renderListingForm(
    request: FastifyRequest, reply: FastifyReply,
    data: { mode: 'new' | 'edit'; listing?: Listing; values: Record<string, string>; errors?: Record<string, string> }, status = 200,
  ): Promise<FastifyReply> {
    return render(request, reply, 'seller/listing-form', {
      title: data.mode === 'new' ? 'New listing' : `Edit ${data.listing?.title ?? 'listing'}`,
      isNew: data.mode === 'new',
      action: data.mode === 'new' ? '/seller/listings' : `/seller/listings/${data.listing?.id ?? ''}`,
      values: data.values,
      errors: data.errors ?? {},
      currencies: SUPPORTED_CURRENCIES.map((c) => ({ code: c, label: c.toUpperCase(), selected: c === data.values.currency })),
      titleMax: TITLE_MAX,
      descriptionMax: DESCRIPTION_MAX,
      pictures: data.listing === undefined ? null : await picturesForEditing(app.db, data.listing),
    }, status);
  }
}

function badgeClassFor(account: AccountStateView | null): string {
  switch (account?.state) {
    case 'enabled': return 'badge-ok';
    case 'rejected': return 'badge-bad';
    case 'restricted': return account.pastDue ? 'badge-bad' : 'badge-warn';
    case undefined: case 'not_started': return '';
    default: return 'badge-warn';
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
  };
}

/** Stripe unreachable, failing or rate-limiting us: tell the seller plainly and keep them on the dashboard. */
const ACCOUNT_GONE = 'Your Stripe account is no longer connected to this marketplace, so it cannot take payments or receive payouts. Contact us to connect it again.';

/** The account was disconnected from our platform (or deleted): Stripe no longer lets us read it. */
function isAccountGone(error: unknown): boolean {
  if (error instanceof Stripe.errors.StripePermissionError) return true;
  return error instanceof Stripe.errors.StripeInvalidRequestError && (error.statusCode === 404 || error.code === 'account_invalid');
}

function isStripeOutage(error: unknown): boolean {
  return error instanceof Stripe.errors.StripeConnectionError || error instanceof Stripe.errors.StripeAPIError
    || error instanceof Stripe.errors.StripeRateLimitError;
}

async function stripeUnavailable(request: FastifyRequest, reply: FastifyReply, error: unknown, message: string): Promise<FastifyReply> {
  if (!isStripeOutage(error)) throw error;
  request.log.warn({ err: error }, 'Stripe call failed');
  setFlash(reply, 'error', message);
  return reply.redirect('/seller', 303);
}

/** The same page for "does not exist" and "not yours": nothing tells a seller another's ids exist. */
async function notFound(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  return render(request, reply, 'errors/404', {}, 404);
}
