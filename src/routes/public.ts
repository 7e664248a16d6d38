// What anyone may see: the catalogue, a listing, a seller's shop.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { randomUUID } from 'node:crypto';
import { buyerCards } from '../customers/cards.ts';
import { found } from '../errors.ts';
import { render } from '../http/render.ts';
import { IdParams, Type, Uuid } from '../http/schemas.ts';
import { galleryOf, withCovers } from '../images/use-cases.ts';
import type { CatalogueSource } from '../listings/catalogue-cache.ts';
import { findPublicListing, findPublicSeller } from '../listings/queries.ts';
import { quantityLimit } from '../orders/rules.ts';
import { cardView } from './card-view.ts';
import { listPublicPlans } from '../subscriptions/plan-queries.ts';

const CatalogueQuery = Type.Object({ after: Type.Optional(Uuid) });

// Browsers ask for /favicon.ico on their own, signed in or not.
const FAVICON = '/static/favicon.svg';
export const publicRoutes: FastifyPluginAsyncTypebox<{ catalogue: CatalogueSource }> = async (app, { catalogue }) => {
  app.get('/favicon.ico', async (_request, reply) => reply.header('cache-control', 'public, max-age=86400').redirect(FAVICON, 301));
  // The catalogue: newest first, keyset-paginated (`?after=<last id>`), only sellable listings;
  // served from a short cache that every change empties (../listings/catalogue-cache.ts).
  app.get('/', { schema: { querystring: CatalogueQuery } }, async (request, reply) => {
    const { after } = request.query;
    const page = await catalogue.page(after);
    return render(request, reply, 'public/home', { listings: page.listings, nextCursor: page.nextCursor, isFirstPage: after === undefined });
  });

  // A listing that is deactivated, or whose seller cannot take payments now, does not exist publicly.
  app.get('/listings/:id', { schema: { params: IdParams } }, async (request, reply) => {
    const listing = found(await findPublicListing(app.db, request.params.id));
    // A signed-in buyer's saved cards become one-click buttons ("Buy with Visa •••• 4242").
    // One click pays at once and cannot ask where to ship: offered for digital listings only.
    const savedCards = request.auth?.user.role === 'buyer' && listing.kind === 'digital' ? (await buyerCards(app.db, request.auth.user.id)).map(cardView) : [];
    // `attempt`: a fresh id per rendered buy form, so a double submit of it is one order (issue 6).
    return render(request, reply, 'public/listing', {
      title: listing.title, listing, gallery: await galleryOf(app.db, listing), attempt: randomUUID(), quantityMax: quantityLimit(listing.stock), savedCards,
    });
  });

  app.get('/sellers/:id', { schema: { params: IdParams } }, async (request, reply) => {
    const seller = found(await findPublicSeller(app.db, request.params.id));
    return render(request, reply, 'public/seller', { title: seller.name, seller: { ...seller, listings: await withCovers(app.db, seller.listings) }, plans: await listPublicPlans(app.db, seller.id) });
  });
};
