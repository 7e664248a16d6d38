import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import { render } from '../http/render.ts';
import { catalogue, findPublicListing, findPublicSeller } from '../listings/listings.ts';
import { galleryOf, withCovers } from '../images/use-cases.ts';

const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const CatalogueQuery = Type.Object({ after: Type.Optional(Type.String({ pattern: UUID_PATTERN })) });
const IdParams = Type.Object({ id: Type.String({ pattern: UUID_PATTERN }) });

export async function publicRoutes(app: FastifyInstance): Promise<void> {
  // The catalogue: newest first, keyset-paginated (`?after=<last id>`), only sellable listings.
  app.get('/', { schema: { querystring: CatalogueQuery } }, async (request, reply) => {
    const { after } = request.query as Static<typeof CatalogueQuery>;
    const page = await catalogue(app.db, after);
    return render(request, reply, 'public/home', { title: 'Marketplace', listings: await withCovers(app.db, page.listings), nextCursor: page.nextCursor, isFirstPage: after === undefined });
  });

  // A listing that is deactivated, or whose seller cannot take payments now, does not exist publicly.
  app.get('/listings/:id', { schema: { params: IdParams } }, async (request, reply) => {
    const listing = await findPublicListing(app.db, (request.params as Static<typeof IdParams>).id);
    if (listing === undefined) return render(request, reply, 'errors/404', {}, 404);
    // `attempt`: a fresh id per rendered buy form, so a double submit of it is one order (issue 6).
    return render(request, reply, 'public/listing', { title: listing.title, listing, gallery: await galleryOf(app.db, listing), attempt: randomUUID() });
  });

  app.get('/sellers/:id', { schema: { params: IdParams } }, async (request, reply) => {
    const seller = await findPublicSeller(app.db, (request.params as Static<typeof IdParams>).id);
    if (seller === undefined) return render(request, reply, 'errors/404', {}, 404);
    return render(request, reply, 'public/seller', { title: seller.name, seller: { ...seller, listings: await withCovers(app.db, seller.listings) } });
  });
}
