// Where uploaded files live. The pictures feature only knows this interface; the configuration
// picks files under DATA_DIR (local use, one machine) or an S3-compatible bucket (Fly's Tigris, AWS,
// MinIO…), which every web process shares.
//
// Keys are made by our code, never taken from a request as they are: a key is a relative path of
// lowercase letters, digits, '-', '_', '.' and '/', and never climbs ('..').
import type { StorageConfig } from '../config.ts';
import { FileStorage } from './file-storage.ts';
import { S3Storage } from './s3-storage.ts';

export interface StoredObject {
  body: Buffer;
  contentType: string;
}

export interface ObjectStorage {
  /** Writes the whole object; a reader never sees half of it. Overwrites an existing key. */
  put(key: string, body: Buffer, contentType: string): Promise<void>;
  /** The object, or undefined when there is none. */
  get(key: string): Promise<StoredObject | undefined>;
  /** Removes it; removing what is not there is not an error. */
  delete(key: string): Promise<void>;
  /** For logs and the README: "files in /data/uploads", "bucket pictures at https://…". */
  readonly description: string;
}

export function createObjectStorage(config: StorageConfig): ObjectStorage {
  return config.kind === 's3' ? new S3Storage(config) : new FileStorage(config.dir);
}

const KEY_PATTERN = /^[a-z0-9][a-z0-9_./-]{0,254}$/;

export function assertSafeKey(key: string): void {
  if (!KEY_PATTERN.test(key) || key.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    throw new RangeError(`not a storage key: ${JSON.stringify(key)}`);
  }
}
