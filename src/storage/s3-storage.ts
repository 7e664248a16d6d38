// Objects in an S3-compatible bucket, over plain HTTPS with AWS Signature V4 (aws4fetch signs; no
// SDK). Works with AWS S3, Fly's Tigris, MinIO and the like. Path-style addressing
// (endpoint/bucket/key) when S3_FORCE_PATH_STYLE=true, else virtual-hosted (bucket.endpoint/key).
import { AwsClient } from 'aws4fetch';
import { createHash } from 'node:crypto';
import type { StorageConfig } from '../config.ts';
import { assertSafeKey, type ObjectStorage, type StoredObject } from './storage.ts';

type S3Config = Extract<StorageConfig, { kind: 's3' }>;

/** A slow bucket must not hold a request (or the worker) for long. */
const REQUEST_TIMEOUT_MS = 15_000;

export class S3Storage implements ObjectStorage {
  private readonly client: AwsClient;

  constructor(private readonly config: S3Config) {
    // Two retries on 5xx/429 with aws4fetch's short backoff; the caller sees the last answer.
    this.client = new AwsClient({
      accessKeyId: config.accessKeyId,
      secretAccessKey: config.secretAccessKey,
      region: config.region,
      service: 's3',
      retries: 2,
    });
  }

  get description(): string {
    return `bucket ${this.config.bucket} at ${this.config.endpoint}`;
  }

  async put(key: string, body: Buffer, contentType: string): Promise<void> {
    const response = await this.client.fetch(this.urlOf(key), {
      method: 'PUT',
      body: new Uint8Array(body),
      headers: {
        'content-type': contentType,
        // Signed, so the bucket refuses bytes that were changed on the way.
        'x-amz-content-sha256': createHash('sha256').update(body).digest('hex'),
      },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    await this.expectOk(response, 'PUT', key);
  }

  async get(key: string): Promise<StoredObject | undefined> {
    const response = await this.client.fetch(this.urlOf(key), { method: 'GET', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    if (response.status === 404) {
      await response.body?.cancel();
      return undefined;
    }
    await this.expectOk(response, 'GET', key, true);
    return { body: Buffer.from(await response.arrayBuffer()), contentType: response.headers.get('content-type') ?? 'application/octet-stream' };
  }

  async delete(key: string): Promise<void> {
    const response = await this.client.fetch(this.urlOf(key), { method: 'DELETE', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    if (response.status === 404) {
      await response.body?.cancel();
      return;
    }
    await this.expectOk(response, 'DELETE', key);
  }

  private urlOf(key: string): string {
    assertSafeKey(key);
    const endpoint = new URL(this.config.endpoint);
    if (this.config.forcePathStyle) return `${endpoint.origin}/${this.config.bucket}/${key}`;
    return `${endpoint.protocol}//${this.config.bucket}.${endpoint.host}/${key}`;
  }

  /** Throws with the status and S3's error code (never the credentials or the signed URL). */
  private async expectOk(response: Response, method: string, key: string, keepBody = false): Promise<void> {
    if (response.ok) {
      if (!keepBody) await response.body?.cancel();
      return;
    }
    const text = await response.text().catch(() => '');
    const code = /<Code>([^<]{1,100})<\/Code>/.exec(text)?.[1] ?? 'no error code';
    throw new Error(`object storage ${method} ${key} failed: HTTP ${response.status} (${code})`);
  }
}
