// Turning an upload into the pictures we serve. The bytes are checked before anything is decoded:
// the signature must be a format we take, sharp must read the same format from the header, and the
// declared width × height must be within MAX_INPUT_PIXELS (sharp's limitInputPixels enforces it again
// while decoding, in case a header lies). Then two WebP renditions are made, turned upright by the
// EXIF orientation, and with every metadata block dropped (a phone photo's EXIF carries where it was
// taken).
//
// sharp (libvips) is imported when the first picture arrives, not with this module: it holds
// about 30 MB that a web process serving pages and webhooks never uses.
import { createHash } from 'node:crypto';
import type { Sharp } from 'sharp';
import { ACCEPTED_FORMATS_TEXT, describeBytes, describePixels, MAX_INPUT_PIXELS, MAX_UPLOAD_BYTES, MIN_SIDE, sniffPictureFormat } from './rules.ts';

export interface Rendition {
  bytes: Buffer;
  width: number;
  height: number;
  /** First 16 hex digits of the SHA-256 of `bytes`: part of the file's name. */
  hash: string;
}

export interface ProcessedPicture {
  /** SHA-256 of the upload, hex: the same picture twice on one listing is refused by it. */
  contentHash: string;
  bytes: number;
  /** For catalogue cards: 480 × 360, cropped to fill. */
  thumb: Rendition;
  /** For the listing page: at most 1600 on the longer side, never enlarged. */
  large: Rendition;
}

export type PictureRefusal = { ok: false; reason: 'too_large' | 'not_a_picture' | 'too_many_pixels' | 'too_small' | 'unreadable'; message: string };

export const THUMB = { width: 480, height: 360 } as const;
export const LARGE_MAX_SIDE = 1600;

export async function processPicture(upload: Buffer): Promise<{ ok: true; picture: ProcessedPicture } | PictureRefusal> {
  if (upload.length > MAX_UPLOAD_BYTES) return tooLarge();
  if (upload.length === 0) return { ok: false, reason: 'not_a_picture', message: 'The file was empty. Choose a picture to upload.' };
  const sniffed = sniffPictureFormat(upload);
  if (sniffed === undefined) return notAPicture();

  const { default: sharp } = await import('sharp');
  const options = { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error' as const };
  let width: number;
  let height: number;
  try {
    // Reads the header only: nothing is decoded here.
    const metadata = await sharp(upload, { ...options, limitInputPixels: false }).metadata();
    if (metadata.format !== sniffed) return notAPicture();
    width = metadata.width;
    height = metadata.pageHeight ?? metadata.height;
  } catch {
    return notAPicture();
  }
  if (width * height > MAX_INPUT_PIXELS) {
    return {
      ok: false,
      reason: 'too_many_pixels',
      message: `This picture is ${width.toLocaleString('en-US')} × ${height.toLocaleString('en-US')} pixels (${describePixels(width * height)}); the most we take is ${describePixels(MAX_INPUT_PIXELS)}. Resize it and try again.`,
    };
  }
  if (Math.min(width, height) < MIN_SIDE) {
    return { ok: false, reason: 'too_small', message: `This picture is only ${width} × ${height} pixels; use one at least ${MIN_SIDE} pixels on each side.` };
  }

  try {
    const [thumb, large] = await Promise.all([
      render(sharp(upload, options).rotate().resize({ width: THUMB.width, height: THUMB.height, fit: 'cover' }).webp({ quality: 78 })),
      render(
        sharp(upload, options)
          .rotate()
          .resize({ width: LARGE_MAX_SIDE, height: LARGE_MAX_SIDE, fit: 'inside', withoutEnlargement: true })
          .webp({ quality: 82 }),
      ),
    ]);
    return { ok: true, picture: { contentHash: sha256(upload), bytes: upload.length, thumb, large } };
  } catch {
    return {
      ok: false,
      reason: 'unreadable',
      message: `This picture could not be read (the file may be damaged). Try saving it again as ${ACCEPTED_FORMATS_TEXT}.`,
    };
  }
}

async function render(pipeline: Sharp): Promise<Rendition> {
  const { data, info } = await pipeline.toBuffer({ resolveWithObject: true });
  return { bytes: data, width: info.width, height: info.height, hash: sha256(data).slice(0, 16) };
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function tooLarge(): PictureRefusal {
  return { ok: false, reason: 'too_large', message: `This file is larger than ${describeBytes(MAX_UPLOAD_BYTES)}. Choose a smaller picture.` };
}

function notAPicture(): PictureRefusal {
  return { ok: false, reason: 'not_a_picture', message: `This file is not a picture we can use. Upload a ${ACCEPTED_FORMATS_TEXT} image.` };
}
