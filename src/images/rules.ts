// What a listing picture may be. Pure: the numbers and the checks on the first bytes, so the limits
// are stated once and the messages a seller reads say exactly which limit was hit.
export const MAX_PICTURES_PER_LISTING = 8;
/** Bytes of one upload as received. A phone's full-resolution JPEG is 2–8 MB. */
export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
/**
 * Width × height before decoding. 40 megapixels covers every phone and most cameras; a file that
 * declares more is a scan, a panorama or a decompression bomb (a few KB that decode into gigabytes),
 * and is refused from its header, before any pixel is decoded.
 */
export const MAX_INPUT_PIXELS = 40_000_000;
/** Smaller than this on either side would look like a smudge on the listing page. */
export const MIN_SIDE = 64;

export type PictureFormat = 'jpeg' | 'png' | 'webp' | 'gif';

/**
 * The format the bytes say they are, from their signature; never the file name or the browser's
 * Content-Type, which the sender chooses freely. undefined: not one of the formats we take.
 */
export function sniffPictureFormat(bytes: Uint8Array): PictureFormat | undefined {
  const startsWith = (signature: number[], offset = 0) => signature.every((b, i) => bytes[offset + i] === b);
  const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0));
  if (startsWith([0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(ascii('RIFF')) && startsWith(ascii('WEBP'), 8)) return 'webp';
  if (startsWith(ascii('GIF87a')) || startsWith(ascii('GIF89a'))) return 'gif';
  return undefined;
}

export const ACCEPTED_FORMATS_TEXT = 'JPEG, PNG, WebP or GIF';

export function describeBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${Math.round(bytes / (1024 * 1024))} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

export function describePixels(pixels: number): string {
  return `${Math.round(pixels / 1_000_000)} megapixels`;
}
