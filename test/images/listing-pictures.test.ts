// Listing pictures over HTTP against real PostgreSQL, real sharp and files under DATA_DIR: what a
// seller may upload (checked by content, size and pixel count), the eight-picture bound, who may
// change a listing's pictures, and where buyers see them.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { sql } from 'kysely';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { processPicture } from '../../src/images/processing.ts';
import { ensureSeller } from '../../src/sellers/queries.ts';
import { TestClient } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';
import { addListing, createSeller } from '../helpers/market.ts';
import { waitFor } from '../helpers/webhooks.ts';
import { flashAfter, hugeBlankPng, jpegPicture, postMultipart, uploadPicture } from './helpers.ts';

const w = useWorld({ emulator: true });

/** A seller signed in (enabled through Connect onboarding if asked) with a physical listing titled `title`. */
async function sellerWithListing(
  title = 'Hand-thrown mug',
  options: { enabled?: boolean } = {},
): Promise<{ client: TestClient; sellerId: string; listingId: string }> {
  const { client, userId: sellerId } = await w.signIn('seller');
  await ensureSeller(w.db, sellerId);
  if (options.enabled) await createSeller(w, { userId: sellerId });
  const listing = await addListing(w.db, sellerId, { title, price: 2400, stock: 3, kind: 'physical' });
  return { client, sellerId, listingId: listing.id };
}

const imagesOf = (listingId: string) => w.db.selectFrom('listing_images').selectAll().where('listing_id', '=', listingId).orderBy('position').execute();

async function storedFiles(): Promise<string[]> {
  const root = w.config.storage.kind === 'files' ? w.config.storage.dir : '';
  try {
    return (await readdir(root, { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name).slice(root.length + 1))
      .sort();
  } catch {
    return [];
  }
}

describe('uploading a picture', () => {
  it('takes a real photo: upright, stripped of its metadata, in two WebP sizes, served with year-long cache headers', async () => {
    const { client, listingId } = await sellerWithListing();
    // 1200 × 900 as stored, with EXIF saying "turn 90° clockwise" and a description that must not leak.
    const photo = await sharp(await jpegPicture(1200, 900, [10, 120, 200], { ImageDescription: 'taken at 12 Private Lane' }))
      .withMetadata({ orientation: 6 })
      .jpeg()
      .toBuffer();
    const response = await uploadPicture(client, listingId, photo);
    expect(response.statusCode).toBe(303);
    expect(response.location).toBe(`/seller/listings/${listingId}/edit#pictures`);
    expect(await flashAfter(client, response)).toBe('Picture added.');

    const [image, ...others] = await imagesOf(listingId);
    expect(others).toHaveLength(0);
    expect(image).toMatchObject({ position: 0, bytes: photo.length, thumb_width: 480, thumb_height: 360, large_width: 900, large_height: 1200 });
    expect(image!.thumb_key).toMatch(new RegExp(`^listing-images/${image!.id}/thumb-[0-9a-f]{16}\\.webp$`));
    expect(await storedFiles()).toEqual([image!.large_key, image!.thumb_key].sort());

    for (const [key, width, height] of [
      [image!.thumb_key, 480, 360],
      [image!.large_key, 900, 1200],
    ] as const) {
      const served = await w.app.inject({ method: 'GET', url: `/images/${key.slice('listing-images/'.length)}` });
      expect(served.statusCode).toBe(200);
      expect(served.headers['content-type']).toBe('image/webp');
      expect(served.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      const hash = /-([0-9a-f]{16})\.webp$/.exec(key)![1]!;
      expect(served.headers.etag).toBe(`"${hash}"`);
      const metadata = await sharp(served.rawPayload).metadata();
      expect([metadata.format, metadata.width, metadata.height]).toEqual(['webp', width, height]);
      expect(metadata.exif).toBeUndefined();
      // The name is the content: the hash in it is the hash of these bytes.
      const { createHash } = await import('node:crypto');
      expect(createHash('sha256').update(served.rawPayload).digest('hex').slice(0, 16)).toBe(hash);
      const again = await w.app.inject({ method: 'GET', url: `/images/${key.slice('listing-images/'.length)}`, headers: { 'if-none-match': `"${hash}"` } });
      expect(again.statusCode).toBe(304);
    }
  });

  it('refuses a text file named like a photo, judging by its bytes', async () => {
    const { client, listingId } = await sellerWithListing();
    const before = await storedFiles();
    const response = await uploadPicture(client, listingId, {
      filename: 'holiday.jpg',
      contentType: 'image/jpeg',
      bytes: Buffer.from('Dear diary, today I went to the beach.\n'.repeat(50)),
    });
    expect(await flashAfter(client, response)).toBe('This file is not a picture we can use. Upload a JPEG, PNG, WebP or GIF image.');
    expect(await imagesOf(listingId)).toHaveLength(0);
    expect(await storedFiles()).toEqual(before);
  });

  it('refuses a file whose signature says JPEG but whose header is PNG', async () => {
    const png = await sharp({ create: { width: 200, height: 200, channels: 3, background: '#c33' } })
      .png()
      .toBuffer();
    const disguised = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), png]);
    const result = await processPicture(disguised);
    expect(result).toMatchObject({ ok: false, reason: 'not_a_picture' });
  });

  it('refuses a file over 10 MB without keeping any of it', async () => {
    const { client, listingId } = await sellerWithListing();
    const before = await storedFiles();
    const oversized = Buffer.concat([await jpegPicture(300, 200), Buffer.alloc(10 * 1024 * 1024)]);
    const response = await uploadPicture(client, listingId, oversized);
    expect(await flashAfter(client, response)).toBe('This file is larger than 10 MB. Choose a smaller picture.');
    expect(await imagesOf(listingId)).toHaveLength(0);
    expect(await storedFiles()).toEqual(before);
  });

  it('refuses a decompression bomb (100 megapixels in a few kilobytes) from its header, before decoding it', async () => {
    const bomb = hugeBlankPng(10_000, 10_000);
    expect(bomb.length).toBeLessThan(100 * 1024);
    const { client, listingId } = await sellerWithListing();
    const response = await uploadPicture(client, listingId, { filename: 'tiny.png', contentType: 'image/png', bytes: bomb });
    expect(await flashAfter(client, response)).toBe(
      'This picture is 10,000 × 10,000 pixels (100 megapixels); the most we take is 40 megapixels. Resize it and try again.',
    );
    expect(await imagesOf(listingId)).toHaveLength(0);
  });

  it('refuses a picture smaller than 64 pixels on a side', async () => {
    const { client, listingId } = await sellerWithListing();
    const response = await uploadPicture(client, listingId, await jpegPicture(300, 40));
    expect(await flashAfter(client, response)).toBe('This picture is only 300 × 40 pixels; use one at least 64 pixels on each side.');
  });

  it('refuses the same picture twice on one listing', async () => {
    const { client, listingId } = await sellerWithListing();
    const photo = await jpegPicture(400, 300);
    await uploadPicture(client, listingId, photo);
    const response = await uploadPicture(client, listingId, photo);
    expect(await flashAfter(client, response)).toBe('This picture is already on the listing.');
    expect(await imagesOf(listingId)).toHaveLength(1);
    expect(await storedFiles()).toHaveLength((await sql<{ n: number }>`select count(*)::int * 2 as n from listing_images`.execute(w.db)).rows[0]!.n);
  });
});

describe('eight pictures at most', () => {
  it('refuses the ninth, before reading it', async () => {
    const { client, listingId } = await sellerWithListing();
    for (let i = 0; i < 8; i++) {
      const response = await uploadPicture(client, listingId, await jpegPicture(160, 120, [i * 30, 50, 90]));
      expect(await flashAfter(client, response)).toBe('Picture added.');
    }
    const edit = await client.get(`/seller/listings/${listingId}/edit`);
    expect(edit.body).toContain('This listing has 8 pictures, the most it can have.');
    expect(edit.body).not.toContain('enctype="multipart/form-data"');

    // Not even a picture: the refusal names the limit, because the file is never looked at.
    const ninth = await uploadPicture(client, listingId, Buffer.from('not looked at'));
    expect(await flashAfter(client, ninth)).toBe('A listing can have at most 8 pictures. Remove one to add another.');
    expect((await imagesOf(listingId)).map((i) => i.position)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('holds when two uploads race for the last place: one is added, the other refused', async () => {
    const { client, listingId } = await sellerWithListing();
    for (let i = 0; i < 7; i++) await uploadPicture(client, listingId, await jpegPicture(160, 120, [i * 30, 200, 10]));
    // Hold the listing's row so both uploads arrive at their transaction together, then let go.
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let holding!: () => void;
    const held = new Promise<void>((resolve) => {
      holding = resolve;
    });
    const holder = w.db.transaction().execute(async (trx) => {
      await trx.selectFrom('listings').select('id').where('id', '=', listingId).forUpdate().execute();
      holding();
      await released;
    });
    await held;
    let settled = 0;
    const racing = [
      [1, 2, 3],
      [101, 102, 103],
    ].map(async (tint) => {
      const response = await uploadPicture(client, listingId, await jpegPicture(160, 120, tint as [number, number, number]));
      settled += 1;
      return response;
    });
    // Both are waiting for the row (or, were the lock missing, already done).
    await waitFor(
      async () =>
        settled === 2 ||
        (
          await sql<{ n: number }>`
      select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`.execute(w.db)
        ).rows[0]!.n >= 2,
    );
    release();
    await holder;
    const [a, b] = await Promise.all(racing);
    expect([a!.statusCode, b!.statusCode]).toEqual([303, 303]);
    // (Both share one cookie jar, so each answer's flash is read from its own Set-Cookie.)
    const flashOf = (r: typeof a) => /"message":"([^"]*)"/.exec(decodeURIComponent(String(r!.headers['set-cookie'])))?.[1];
    expect([flashOf(a), flashOf(b)].sort()).toEqual(['A listing can have at most 8 pictures. Remove one to add another.', 'Picture added.']);
    expect(await imagesOf(listingId)).toHaveLength(8);
    // The refused upload's files were removed again: two per row, nothing left over.
    const rows = await sql<{ n: number }>`select count(*)::int as n from listing_images`.execute(w.db);
    expect(await storedFiles()).toHaveLength(rows.rows[0]!.n * 2);
  });

  it('is a rule of the database too: a ninth row cannot be written', async () => {
    const { client, listingId } = await sellerWithListing();
    await uploadPicture(client, listingId, await jpegPicture(160, 120));
    const [row] = await imagesOf(listingId);
    await expect(
      w.db
        .insertInto('listing_images')
        .values({ ...row!, id: crypto.randomUUID(), content_hash: 'f'.repeat(64), position: 8 })
        .execute(),
    ).rejects.toThrow(/check/);
  });
});

describe('whose pictures', () => {
  it('another seller can neither add to, reorder nor remove from my listing', async () => {
    const mine = await sellerWithListing();
    await uploadPicture(mine.client, mine.listingId, await jpegPicture(400, 300, [1, 1, 1]));
    await uploadPicture(mine.client, mine.listingId, await jpegPicture(400, 300, [90, 1, 1]));
    const [first, second] = await imagesOf(mine.listingId);
    const filesBefore = await storedFiles();

    const other = await sellerWithListing('Someone else');
    const add = await uploadPicture(other.client, mine.listingId, await jpegPicture(400, 300, [7, 7, 7]));
    expect(add.statusCode).toBe(404);
    expect((await other.client.post(`/seller/listings/${mine.listingId}/images/${first!.id}/remove`)).statusCode).toBe(404);
    expect((await other.client.post(`/seller/listings/${mine.listingId}/images/${second!.id}/move`, { direction: 'earlier' })).statusCode).toBe(404);
    // Their own listing id with my picture's id does not reach my picture either.
    expect((await other.client.post(`/seller/listings/${other.listingId}/images/${first!.id}/remove`)).statusCode).toBe(404);

    expect((await imagesOf(mine.listingId)).map((i) => i.id)).toEqual([first!.id, second!.id]);
    expect(await imagesOf(other.listingId)).toHaveLength(0);
    expect(await storedFiles()).toEqual(filesBefore);
  });

  it('a buyer or a visitor cannot upload', async () => {
    const { listingId } = await sellerWithListing();
    const visitor = new TestClient(w.app, '10.7.9.1');
    const response = await uploadPicture(visitor, listingId, await jpegPicture(200, 200));
    expect(response.statusCode).toBe(303);
    expect(response.location).toMatch(/^\/login/);
    expect(await imagesOf(listingId)).toHaveLength(0);
  });
});

describe('CSRF on the multipart form', () => {
  it('refuses an upload without the token, or with the file sent before it, and reads nothing', async () => {
    const { client, listingId } = await sellerWithListing();
    expect((await uploadPicture(client, listingId, await jpegPicture(200, 200), { csrf: false })).statusCode).toBe(403);
    expect((await uploadPicture(client, listingId, await jpegPicture(200, 200), { csrf: 'forged-token' })).statusCode).toBe(403);
    expect((await uploadPicture(client, listingId, await jpegPicture(200, 200), { csrfAfterFile: true })).statusCode).toBe(403);
    expect(await imagesOf(listingId)).toHaveLength(0);
  });

  it('multipart is accepted by the upload route only', async () => {
    const { client } = await sellerWithListing();
    const response = await postMultipart(client, '/seller/listings', [
      ['_csrf', await client.csrfToken()],
      ['title', 'Sneaky'],
      ['price', '5.00'],
      ['currency', 'usd'],
      ['unlimited', 'on'],
    ]);
    expect(response.statusCode).toBe(415);
  });

  it('the body parser takes one file: a second one in the same request is never used', async () => {
    const { client, listingId } = await sellerWithListing();
    const response = await postMultipart(client, `/seller/listings/${listingId}/images`, [
      ['_csrf', await client.csrfToken()],
      { field: 'picture', filename: 'a.jpg', contentType: 'image/jpeg', bytes: await jpegPicture(200, 200) },
      { field: 'picture', filename: 'b.jpg', contentType: 'image/jpeg', bytes: await jpegPicture(200, 201) },
    ]);
    expect(response.statusCode).toBe(303);
    expect((await imagesOf(listingId)).map((i) => [i.large_width, i.large_height])).toEqual([[200, 200]]);
  });
});

describe('reordering and removing', () => {
  it('moves a picture earlier or later, and removing one closes the gap and deletes its files', async () => {
    const { client, listingId } = await sellerWithListing();
    for (const tint of [
      [10, 0, 0],
      [80, 0, 0],
      [160, 0, 0],
    ] as [number, number, number][])
      await uploadPicture(client, listingId, await jpegPicture(200, 150, tint));
    const [a, b, c] = (await imagesOf(listingId)).map((i) => i.id);

    expect((await client.post(`/seller/listings/${listingId}/images/${c}/move`, { direction: 'earlier' })).statusCode).toBe(303);
    expect((await imagesOf(listingId)).map((i) => i.id)).toEqual([a, c, b]);
    await client.post(`/seller/listings/${listingId}/images/${a}/move`, { direction: 'later' });
    expect((await imagesOf(listingId)).map((i) => i.id)).toEqual([c, a, b]);
    // The first cannot move earlier, the last not later: nothing changes.
    await client.post(`/seller/listings/${listingId}/images/${c}/move`, { direction: 'earlier' });
    await client.post(`/seller/listings/${listingId}/images/${b}/move`, { direction: 'later' });
    expect((await imagesOf(listingId)).map((i) => i.id)).toEqual([c, a, b]);

    const removedRow = (await imagesOf(listingId))[1]!;
    const removed = await client.post(`/seller/listings/${listingId}/images/${a}/remove`);
    expect(await flashAfter(client, removed)).toBe('Picture removed.');
    expect((await imagesOf(listingId)).map((i) => [i.id, i.position])).toEqual([
      [c, 0],
      [b, 1],
    ]);
    const files = await storedFiles();
    expect(files).not.toContain(removedRow.thumb_key);
    expect(files).not.toContain(removedRow.large_key);
    expect((await w.app.inject({ method: 'GET', url: `/images/${removedRow.thumb_key.slice('listing-images/'.length)}` })).statusCode).toBe(404);
  });

  it('the edit page shows the pictures in order with the upload form, CSRF token first', async () => {
    const { client, listingId } = await sellerWithListing('Blue bowl');
    await uploadPicture(client, listingId, await jpegPicture(200, 150, [0, 0, 200]));
    await uploadPicture(client, listingId, await jpegPicture(200, 150, [0, 200, 0]));
    const page = (await client.get(`/seller/listings/${listingId}/edit`)).body;
    expect(page).toContain('Pictures <span class="muted">2 of 8</span>');
    expect(page).toContain('alt="Blue bowl"');
    expect(page).toContain('alt="Blue bowl, picture 2 of 2"');
    const form = /<form method="post" action="\/seller\/listings\/[^"]+\/images" enctype="multipart\/form-data"[^>]*>([\s\S]*?)<\/form>/.exec(page)?.[1] ?? '';
    expect(form.indexOf('name="_csrf"')).toBeGreaterThanOrEqual(0);
    expect(form.indexOf('name="_csrf"')).toBeLessThan(form.indexOf('type="file"'));
  });
});

describe('where buyers see them', () => {
  it('catalogue cards, the listing page and the seller page show the pictures with alt text from the title', async () => {
    const { client, sellerId, listingId } = await sellerWithListing('Speckled jug', { enabled: true });
    await uploadPicture(client, listingId, await jpegPicture(640, 480, [30, 30, 30]));
    await uploadPicture(client, listingId, await jpegPicture(640, 480, [130, 30, 30]));
    const [cover, second] = await imagesOf(listingId);
    const url = (key: string) => `/images/${key.slice('listing-images/'.length)}`;

    const visitor = new TestClient(w.app, '10.7.9.2');
    const home = (await visitor.get('/')).body;
    expect(home).toContain(`<img class="card-picture" src="${url(cover!.thumb_key)}" width="480" height="360" alt="Speckled jug" loading="lazy">`);

    const listingPage = (await visitor.get(`/listings/${listingId}`)).body;
    expect(listingPage).toContain(`src="${url(cover!.large_key)}" width="640" height="480" alt="Speckled jug"`);
    expect(listingPage).toContain(
      `<a href="${url(second!.large_key)}"><img src="${url(second!.thumb_key)}" width="480" height="360" alt="Speckled jug, picture 2 of 2"`,
    );

    const sellerPage = (await visitor.get(`/sellers/${sellerId}`)).body;
    expect(sellerPage).toContain(`src="${url(cover!.thumb_key)}"`);
    expect(sellerPage).toContain('alt="Speckled jug"');

    // Every URL on the pages is served.
    for (const key of [cover!.thumb_key, cover!.large_key, second!.thumb_key, second!.large_key]) {
      expect((await visitor.get(url(key))).statusCode).toBe(200);
    }
  });

  it('a listing without pictures gets a placeholder, not a broken image', async () => {
    await sellerWithListing('Plain plate', { enabled: true });
    const home = (await new TestClient(w.app, '10.7.9.3').get('/')).body;
    const card = /<a class="card listing-card"[^>]*>\s*(<[^>]+>)(?:<\/span>)?\s*<h3>Plain plate<\/h3>/.exec(home)?.[1];
    expect(card).toBe('<span class="card-picture card-picture-none" aria-hidden="true">');
  });

  it('an unknown or malformed picture URL is a 404', async () => {
    const visitor = new TestClient(w.app, '10.7.9.4');
    expect((await visitor.get(`/images/${crypto.randomUUID()}/thumb-0123456789abcdef.webp`)).statusCode).toBe(404);
    expect((await visitor.get('/images/..%2F..%2Fsecrets.json/thumb-0123456789abcdef.webp')).statusCode).toBe(400);
    expect((await visitor.get(`/images/${crypto.randomUUID()}/..%2Fx.webp`)).statusCode).toBe(400);
  });
});
