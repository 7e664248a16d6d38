// What anyone may see: the catalogue, a listing, a seller's shop.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { randomUUID } from 'node:crypto';
import { buyerCards } from '../customers/cards.ts';
import { found } from '../errors.ts';
import { isPlainVisit, render, renderForVisitors } from '../http/render.ts';
import { IdParams, Text, Type, UuidOrEmpty } from '../http/schemas.ts';
import { galleryOf } from '../images/use-cases.ts';
import type { CatalogueSource } from '../listings/catalogue-cache.ts';
import { findPublicListing } from '../listings/queries.ts';
import { CATALOGUE_SORTS, CURSOR_MAX_LENGTH, SEARCH_MAX_LENGTH } from '../listings/search.ts';
import { browseCatalogue, sellerShop } from '../listings/use-cases.ts';
import { quantityLimit } from '../orders/rules.ts';
import { cardView } from './card-view.ts';
import { catalogueView } from './catalogue-view.ts';

// Words, an order, and the opaque page cursor (checked strictly in ../listings/search.ts); an empty
// value is "not given", as a GET form sends its blank fields.
const ShopQuery = {
  q: Type.Optional(Text({ maxLength: SEARCH_MAX_LENGTH })),
  sort: Type.Optional(Type.Enum(['', ...CATALOGUE_SORTS])),
  after: Type.Optional(Text({ maxLength: CURSOR_MAX_LENGTH })),
};
const CatalogueQuery = Type.Object({ ...ShopQuery, seller: Type.Optional(UuidOrEmpty) });
const ShopQuerystring = Type.Object(ShopQuery);

const HOME = 'public/home';
const HTML = 'text/html; charset=utf-8';

// Browsers ask for /favicon.ico on their own, signed in or not.
const FAVICON = '/static/favicon.svg';
export const publicRoutes: FastifyPluginAsyncTypebox<{ catalogue: CatalogueSource }> = async (app, { catalogue }) => {
  app.get('/favicon.ico', async (_request, reply) => reply.header('cache-control', 'public, max-age=86400').redirect(FAVICON, 301));
  // The catalogue: searched (ranked by relevance), newest first or by price, optionally one seller's,
  // keyset-paginated (`?after=<cursor>`), only sellable listings; served from a short cache that
  // every change empties (../listings/catalogue-cache.ts).
  app.get('/', { schema: { querystring: CatalogueQuery } }, async (request, reply) => {
    const { page, sellerName } = await browseCatalogue(app.db, catalogue, request.query);
    // A visitor's page is the same for every visitor: sent as rendered for the first (rendering
    // was most of the page's cost), for as long as the page itself is kept.
    const plain = isPlainVisit(request, reply);
    const kept = plain ? page.visitorHtml.get(HOME) : undefined;
    if (kept !== undefined) return reply.type(HTML).send(kept);
    const view = catalogueView('/', page, page.search.after === undefined);
    const data = { ...view, sellerName, showHero: view.isFirstPage && !view.searching && page.search.sellerId === undefined };
    if (!plain) return render(request, reply, HOME, data);
    const { html, shareable } = await renderForVisitors(request, reply, HOME, data);
    if (!shareable) return reply.type(HTML).send(html);
    // Kept as bytes: each visitor's copy is then written as it is, not encoded again (11 KB a time).
    const bytes = Buffer.from(html);
    page.visitorHtml.set(HOME, bytes);
    return reply.type(HTML).send(bytes);
  });

  // A listing that is deactivated, or whose seller cannot take payments now, does not exist publicly.
  app.get('/listings/:id', { schema: { params: IdParams } }, async (request, reply) => {
    const listing = found(await findPublicListing(app.db, request.params.id));
    // A signed-in buyer's saved cards become one-click buttons ("Buy with Visa •••• 4242").
    // One click pays at once and cannot ask where to ship: offered for digital listings only.
    const savedCards = request.auth?.user.role === 'buyer' && listing.kind === 'digital' ? (await buyerCards(app.db, request.auth.user.id)).map(cardView) : [];
    // `attempt`: a fresh id per rendered buy form, so a double submit of it is one order (issue 6).
    return render(request, reply, 'public/listing', {
      title: listing.title,
      listing,
      gallery: await galleryOf(app.db, listing),
      attempt: randomUUID(),
      quantityMax: quantityLimit(listing.stock),
      savedCards,
    });
  });

  // A seller's shop: the catalogue's search, orders and pages, scoped to them.
  app.get('/sellers/:id', { schema: { params: IdParams, querystring: ShopQuerystring } }, async (request, reply) => {
    const { seller, page, plans } = await sellerShop(app.db, catalogue, request.params.id, request.query);
    return render(request, reply, 'public/seller', {
      title: seller.name,
      seller,
      plans,
      ...catalogueView(`/sellers/${seller.id}`, page, page.search.after === undefined),
    });
  });
};
