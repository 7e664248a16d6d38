// Where each rendition is kept and the URL it is served at. The name carries the picture's id and a
// hash of the rendition's bytes, so a URL always means the same bytes and browsers (and any CDN in
// front) may cache it for a year without asking again.
import type { ListingImage } from '../db/schema.ts';

export type Variant = 'thumb' | 'large';

const KEY_PREFIX = 'listing-images';
/** `<image id>/<variant>-<16 hex>.webp`, as it appears after /images/. */
export const IMAGE_ID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
export const IMAGE_FILE_PATTERN = '^(thumb|large)-[0-9a-f]{16}\\.webp$';

export function fileNameOf(variant: Variant, hash: string): string {
  return `${variant}-${hash}.webp`;
}

export function storageKeyOf(imageId: string, fileName: string): string {
  return `${KEY_PREFIX}/${imageId}/${fileName}`;
}

export function publicUrlOf(storageKey: string): string {
  return `/images/${storageKey.slice(KEY_PREFIX.length + 1)}`;
}

export interface PictureView {
  id: string;
  position: number;
  thumb: { url: string; width: number; height: number };
  large: { url: string; width: number; height: number };
}

export function pictureView(image: ListingImage): PictureView {
  return {
    id: image.id,
    position: image.position,
    thumb: { url: publicUrlOf(image.thumb_key), width: image.thumb_width, height: image.thumb_height },
    large: { url: publicUrlOf(image.large_key), width: image.large_width, height: image.large_height },
  };
}
