// Listing pictures over HTTP: the seller uploads (multipart), removes and reorders pictures of their
// own listing from its edit page (inside the seller area), and anyone fetches the renditions at
// content-hashed URLs.
//
// The upload is the one form whose body is multipart, so the app-wide CSRF hook (which reads
// `_csrf` from a parsed body) cannot check it; the route says so in its config and checks the token
// itself as the first part of the stream, before a byte of the file is read. The form puts `_csrf`
// before the file input, which is the order browsers send fields in. Multipart is accepted by the
// routes of this plugin only: anywhere else it is a 415.
import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../errors.ts';
import { setFlash } from '../http/render.ts';
import { Csrf, CsrfOnlyBody, Type, Uuid } from '../http/schemas.ts';
import { tooLarge } from '../images/processing.ts';
import { MAX_UPLOAD_BYTES } from '../images/rules.ts';
import { IMAGE_FILE_PATTERN, IMAGE_ID_PATTERN, storageKeyOf } from '../images/urls.ts';
import { addListingPicture, checkRoomForPicture, moveListingPicture, removeListingPicture } from '../images/use-cases.ts';
import type { ObjectStorage } from '../storage/storage.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route verifies the CSRF token itself (multipart bodies are not parsed before the app-wide hook). */
    csrfCheckedInHandler?: boolean;
  }
}

export interface ImageRoutesOptions {
  storage: ObjectStorage;
}

const ListingParams = Type.Object({ id: Uuid });
const PictureParams = Type.Object({ id: Uuid, imageId: Uuid });
const ImageFileParams = Type.Object({ imageId: Type.String({ pattern: IMAGE_ID_PATTERN }), file: Type.String({ pattern: IMAGE_FILE_PATTERN }) });
const MoveBody = Type.Object({ direction: Type.Union([Type.Literal('earlier'), Type.Literal('later')]), ...Csrf });

/** A year: the name changes whenever the bytes do, so a cached copy is never stale. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** Anyone fetches a picture's renditions. */
export const publicImageRoutes: FastifyPluginAsyncTypebox<ImageRoutesOptions> = async (app, { storage }) => {
  app.get('/images/:imageId/:file', { schema: { params: ImageFileParams } }, async (request, reply) => {
    const { imageId, file } = request.params;
    const etag = `"${file.slice(file.indexOf('-') + 1, file.indexOf('.'))}"`;
    reply.header('cache-control', IMMUTABLE).header('etag', etag);
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    const object = await storage.get(storageKeyOf(imageId, file));
    if (object === undefined) {
      reply.removeHeader('cache-control').removeHeader('etag');
      return reply.callNotFound();
    }
    return reply.type(object.contentType).send(object.body);
  });
};

/** The seller's own listing's pictures (registered inside the seller area: its guard runs before the upload is read). */
export function sellerImageRoutes(storage: ObjectStorage): FastifyPluginAsyncTypebox {
  return async (app) => {
    await app.register(multipart, {
      // One file and the CSRF token, nothing else; the file stops being read at the size limit.
      limits: { fileSize: MAX_UPLOAD_BYTES, files: 1, fields: 1, parts: 2, fieldSize: 256, headerPairs: 20 },
      throwFileSizeLimit: true,
    });

    app.post(
      '/seller/listings/:id/images',
      {
        schema: { params: ListingParams },
        config: { csrfCheckedInHandler: true, rateLimit: { max: 30, timeWindow: '1 minute' } },
      },
      async (request, reply) => {
        const sellerId = request.user.id;
        const { id } = request.params;
        const back = `/seller/listings/${id}/edit#pictures`;
        if (!request.isMultipart()) return reply.code(400).send({ error: 'Send the picture as multipart/form-data.' });

        const room = await checkRoomForPicture(app.db, sellerId, id);
        if (!room.ok) {
          if (room.reason === 'not_found') throw new DomainError('not_found');
          setFlash(reply, 'error', room.message);
          return reply.redirect(back, 303);
        }
        const upload = await readPictureUpload(app, request, reply);
        if (upload === 'answered') return reply;
        if (!upload.ok) {
          setFlash(reply, 'error', upload.message);
          return reply.redirect(back, 303);
        }
        const added = await addListingPicture(app.db, storage, { sellerId, listingId: id, upload: upload.bytes });
        if (!added.ok) {
          if (added.reason === 'not_found') throw new DomainError('not_found');
          if (added.reason === 'storage_unavailable')
            request.log.error({ err: 'cause' in added ? added.cause : undefined }, 'could not store a listing picture');
          setFlash(reply, 'error', added.message);
          return reply.redirect(back, 303);
        }
        setFlash(reply, 'success', 'Picture added.');
        return reply.redirect(back, 303);
      },
    );

    app.post('/seller/listings/:id/images/:imageId/remove', { schema: { params: PictureParams, body: CsrfOnlyBody } }, async (request, reply) => {
      const { id, imageId } = request.params;
      const removed = await removeListingPicture(app.db, storage, { sellerId: request.user.id, listingId: id, imageId });
      if (!removed.ok) throw new DomainError('not_found');
      if (!removed.filesRemoved) request.log.warn({ imageId }, 'picture removed; its files could not be deleted from storage');
      setFlash(reply, 'success', 'Picture removed.');
      return reply.redirect(`/seller/listings/${id}/edit#pictures`, 303);
    });

    app.post('/seller/listings/:id/images/:imageId/move', { schema: { params: PictureParams, body: MoveBody } }, async (request, reply) => {
      const { id, imageId } = request.params;
      const moved = await moveListingPicture(app.db, { sellerId: request.user.id, listingId: id, imageId, direction: request.body.direction });
      if (!moved.ok) throw new DomainError('not_found');
      return reply.redirect(`/seller/listings/${id}/edit#pictures`, 303);
    });
  };
}

type UploadRead = { ok: true; bytes: Buffer } | { ok: false; message: string } | 'answered';

/**
 * Reads `_csrf` then the `picture` file from the multipart stream. The token is verified the moment
 * it arrives (a file part before it fails the check), so a forged request never gets its file read.
 * 'answered': the CSRF check has already sent the 403.
 */
async function readPictureUpload(app: FastifyInstance, request: FastifyRequest, reply: FastifyReply): Promise<UploadRead> {
  let csrfPassed = false;
  const checkCsrf = (token: string | undefined): boolean => {
    request.body = { _csrf: token };
    app.csrfProtection(request, reply, () => {
      csrfPassed = true;
    });
    return csrfPassed;
  };
  try {
    for await (const part of request.parts()) {
      if (part.type === 'field') {
        if (part.fieldname !== '_csrf' || csrfPassed) return { ok: false, message: 'The upload form was not as expected. Reload the page and try again.' };
        if (!checkCsrf(typeof part.value === 'string' ? part.value : undefined)) return 'answered';
        continue;
      }
      if (!csrfPassed && !checkCsrf(undefined)) return 'answered';
      if (part.fieldname !== 'picture') return { ok: false, message: 'The upload form was not as expected. Reload the page and try again.' };
      return { ok: true, bytes: await part.toBuffer() };
    }
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'FST_REQ_FILE_TOO_LARGE') return { ok: false, message: tooLarge().message };
    if (code === 'FST_FILES_LIMIT' || code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT') return { ok: false, message: 'Upload one picture at a time.' };
    throw error;
  }
  if (!csrfPassed && !checkCsrf(undefined)) return 'answered';
  return { ok: false, message: 'Choose a picture to upload.' };
}
