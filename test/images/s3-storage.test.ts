// Pictures in S3-compatible object storage, against a local S3 server (s3rver) started here: the
// storage speaks the S3 protocol (signed PUT/GET/DELETE, path-style), and the app, configured with
// S3_* variables, stores, serves and removes pictures there instead of under DATA_DIR.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import S3rver from 's3rver';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSeller } from '../../src/sellers/queries.ts';
import { createObjectStorage, type ObjectStorage } from '../../src/storage/storage.ts';
import { buildTestApp, testConfig } from '../helpers/app.ts';
import { signInTo, startWorld, type World } from '../helpers/fixture.ts';
import { addListing } from '../helpers/market.ts';
import { flashAfter, jpegPicture, uploadPicture } from './helpers.ts';

let server: S3rver;
let endpoint: string;
let bucketDirectory: string;
let w: World;
let storage: ObjectStorage;

const s3Env = () => ({
  S3_BUCKET: 'pictures',
  S3_ENDPOINT: endpoint,
  S3_REGION: 'us-east-1',
  // s3rver's built-in account.
  S3_ACCESS_KEY_ID: 'S3RVER',
  S3_SECRET_ACCESS_KEY: 'S3RVER',
  S3_FORCE_PATH_STYLE: 'true',
});

// The world is started by hand: its configuration names the bucket's endpoint, known once s3rver listens.
beforeAll(async () => {
  bucketDirectory = mkdtempSync(join(tmpdir(), 's3rver-'));
  server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: bucketDirectory,
    configureBuckets: [{ name: 'pictures' }],
  });
  const address = await server.run();
  endpoint = `http://127.0.0.1:${address.port}`;
  w = await startWorld({ config: testConfig(s3Env()) });
  storage = createObjectStorage(w.config.storage);
});
afterAll(async () => {
  await w?.close();
  await server?.close();
});

/** A seller signed in on `app` with a physical listing titled `title`. */
async function sellerWithListing(app: FastifyInstance, title: string) {
  const { client, userId } = await signInTo(app, 'seller');
  await ensureSeller(w.db, userId);
  const listing = await addListing(w.db, userId, { title, price: 1500, kind: 'physical' });
  return { client, listing };
}

describe('the S3 storage', () => {
  it('is chosen by S3_BUCKET, with the endpoint, region and keys given', () => {
    expect(w.config.storage).toEqual({
      kind: 's3',
      bucket: 'pictures',
      endpoint,
      region: 'us-east-1',
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
      forcePathStyle: true,
    });
    expect(storage.description).toBe(`bucket pictures at ${endpoint}`);
  });

  it('puts, gets and deletes objects; a missing one is undefined, deleting it twice is fine', async () => {
    const body = Buffer.from('RIFF....WEBPfake bytes');
    await storage.put('listing-images/test/one.webp', body, 'image/webp');
    const read = await storage.get('listing-images/test/one.webp');
    expect(read?.body.equals(body)).toBe(true);
    expect(read?.contentType).toBe('image/webp');
    // It is really the server's object (s3rver keeps each as <key>._S3rver_object on disk).
    expect(readFileSync(join(bucketDirectory, 'pictures/listing-images/test/one.webp._S3rver_object')).equals(body)).toBe(true);
    await storage.delete('listing-images/test/one.webp');
    expect(await storage.get('listing-images/test/one.webp')).toBeUndefined();
    await storage.delete('listing-images/test/one.webp');
  });

  it('refuses keys that are not ours to make', async () => {
    await expect(storage.put('../escape.webp', Buffer.from('x'), 'image/webp')).rejects.toThrow(/not a storage key/);
    await expect(storage.get('/absolute')).rejects.toThrow(/not a storage key/);
  });

  it("reports a refusal with S3's error code, and never the secret", async () => {
    const wrong = createObjectStorage(testConfig({ ...s3Env(), S3_ACCESS_KEY_ID: 'NOT-A-KEY', S3_SECRET_ACCESS_KEY: 'very-secret-value' }).storage);
    const error = await wrong.put('listing-images/test/two.webp', Buffer.from('x'), 'image/webp').catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe('object storage PUT listing-images/test/two.webp failed: HTTP 403 (InvalidAccessKeyId)');
    expect((error as Error).message).not.toContain('very-secret-value');
  });
});

describe('pictures through the app with S3 configured', () => {
  it('an upload lands in the bucket, is served from it, and removing it deletes it there', async () => {
    const { client, listing } = await sellerWithListing(w.app, 'Bucket hat');
    const response = await uploadPicture(client, listing.id, await jpegPicture(800, 600));
    expect(await flashAfter(client, response)).toBe('Picture added.');

    const image = await w.db.selectFrom('listing_images').selectAll().where('listing_id', '=', listing.id).executeTakeFirstOrThrow();
    const inBucket = await storage.get(image.large_key);
    expect((await sharp(inBucket!.body).metadata()).width).toBe(800);
    // Nothing went to local files.
    expect(existsSync(join(w.config.dataDir, 'uploads'))).toBe(false);

    const served = await w.app.inject({ method: 'GET', url: `/images/${image.large_key.slice('listing-images/'.length)}` });
    expect(served.statusCode).toBe(200);
    expect(served.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(served.rawPayload.equals(inBucket!.body)).toBe(true);

    await client.post(`/seller/listings/${listing.id}/images/${image.id}/remove`);
    expect(await storage.get(image.large_key)).toBeUndefined();
    expect(await storage.get(image.thumb_key)).toBeUndefined();
  });

  it('when the bucket cannot be reached, the seller is told to try again and nothing is recorded', async () => {
    const unreachable = testConfig({ ...s3Env(), S3_ENDPOINT: 'http://127.0.0.1:9' });
    const offline = await buildTestApp({ db: w.db, config: unreachable });
    try {
      const { client, listing } = await sellerWithListing(offline, 'Lost hat');
      const response = await uploadPicture(client, listing.id, await jpegPicture(300, 300));
      expect(await flashAfter(client, response)).toBe('We could not save the picture just now. Please try again in a moment.');
      expect(await w.db.selectFrom('listing_images').select('id').where('listing_id', '=', listing.id).execute()).toHaveLength(0);
    } finally {
      await offline.close();
    }
  });
});
