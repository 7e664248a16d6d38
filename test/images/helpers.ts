// Pictures for the upload tests, made here (no fixture files), and a multipart form post from a
// signed-in TestClient, the way a browser sends the upload form.
import { randomBytes } from 'node:crypto';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import type { Response, TestClient } from '../helpers/app.ts';

/** A real JPEG photo-like picture (a gradient, so it is not trivially compressible). */
export async function jpegPicture(
  width: number,
  height: number,
  tint: [number, number, number] = [200, 80, 40],
  exif?: Record<string, string>,
): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      pixels[i] = (tint[0] + x) % 256;
      pixels[i + 1] = (tint[1] + y) % 256;
      pixels[i + 2] = (tint[2] + x + y) % 256;
    }
  }
  let image = sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg({ quality: 85 });
  if (exif !== undefined) image = image.withExif({ IFD0: exif });
  return image.toBuffer();
}

/**
 * A valid PNG that declares width × height pixels of 1-bit grey, all black: every row is the same
 * few zero bytes, so 100 megapixels deflate to a few kilobytes — and would decode into hundreds of
 * megabytes of RGB. A decompression bomb in miniature.
 */
export function hugeBlankPng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 1; // bit depth
  header[9] = 0; // greyscale
  const rowBytes = 1 + Math.ceil(width / 8); // filter byte 0, then the row's bits
  const raw = Buffer.alloc(rowBytes * height);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

export interface FilePart {
  field: string;
  filename: string;
  contentType: string;
  bytes: Buffer;
}

/** A multipart/form-data body with the parts in the order given (fields as [name, value]). */
export function multipartBody(parts: ([string, string] | FilePart)[]): { payload: Buffer; contentType: string } {
  const boundary = `----test${randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    if (Array.isArray(part)) {
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part[0]}"\r\n\r\n${part[1]}\r\n`));
    } else {
      chunks.push(
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="${part.field}"; filename="${part.filename}"\r\nContent-Type: ${part.contentType}\r\n\r\n`,
        ),
      );
      chunks.push(part.bytes, Buffer.from('\r\n'));
    }
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** Posts the upload form as the browser does: `_csrf` first, then the picture. Keeps the cookies it gets. */
export async function uploadPicture(
  client: TestClient,
  listingId: string,
  file: Omit<FilePart, 'field'> | Buffer,
  options: { csrf?: string | false; csrfAfterFile?: boolean } = {},
): Promise<Response> {
  const part: FilePart = Buffer.isBuffer(file)
    ? { field: 'picture', filename: 'photo.jpg', contentType: 'image/jpeg', bytes: file }
    : { field: 'picture', ...file };
  const token = options.csrf === false ? undefined : (options.csrf ?? (await client.csrfToken()));
  const csrf: [string, string][] = token === undefined ? [] : [['_csrf', token]];
  return postMultipart(client, `/seller/listings/${listingId}/images`, options.csrfAfterFile ? [part, ...csrf] : [...csrf, part]);
}

export async function postMultipart(client: TestClient, url: string, parts: ([string, string] | FilePart)[]): Promise<Response> {
  const { payload, contentType } = multipartBody(parts);
  const response = await client.app.inject({
    method: 'POST',
    url,
    remoteAddress: client.ip,
    payload,
    headers: {
      accept: 'text/html',
      'content-type': contentType,
      ...(client.cookies.size > 0 ? { cookie: [...client.cookies].map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('; ') } : {}),
    },
  });
  for (const cookie of response.cookies) {
    if (cookie.value === '' || cookie.maxAge === 0) client.cookies.delete(cookie.name);
    else client.cookies.set(cookie.name, cookie.value);
  }
  const location = response.headers.location;
  return { statusCode: response.statusCode, headers: response.headers, body: response.body, location: typeof location === 'string' ? location : undefined };
}

/** The flash message the next page shows (the upload answers with a redirect and a flash). */
export async function flashAfter(client: TestClient, response: Response): Promise<string> {
  if (response.location === undefined) throw new Error(`expected a redirect, got ${response.statusCode}`);
  const page = await client.get(response.location.replace(/#.*$/, ''));
  return /<div class="flash flash-\w+" role="alert">([^<]*)<\/div>/.exec(page.body)?.[1] ?? '';
}
