// The configuration of listing pictures' storage and of outgoing email (issue 16): defaults, the
// S3 variables (with the AWS_* names Fly's Tigris sets), and a message naming each mistake.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { dataDir, problemsOf } from './helpers/config.ts';

describe('picture storage', () => {
  it('is files under DATA_DIR/uploads when no bucket is set', () => {
    const dir = dataDir();
    expect(loadConfig({ DATA_DIR: dir }).storage).toEqual({ kind: 'files', dir: join(dir, 'uploads') });
  });

  it('is an S3 bucket when S3_BUCKET is set', () => {
    const config = loadConfig({
      DATA_DIR: dataDir(),
      S3_BUCKET: 'market-pictures',
      S3_ENDPOINT: 'https://fly.storage.tigris.dev/',
      S3_REGION: 'auto',
      S3_ACCESS_KEY_ID: 'tid_key',
      S3_SECRET_ACCESS_KEY: 'tsec_secret',
    });
    expect(config.storage).toEqual({
      kind: 's3',
      bucket: 'market-pictures',
      endpoint: 'https://fly.storage.tigris.dev',
      region: 'auto',
      accessKeyId: 'tid_key',
      secretAccessKey: 'tsec_secret',
      forcePathStyle: false,
    });
  });

  it('takes the endpoint, region and keys from the AWS_* variables `fly storage create` sets', () => {
    const config = loadConfig({
      DATA_DIR: dataDir(),
      S3_BUCKET: 'market-pictures',
      AWS_ENDPOINT_URL_S3: 'https://fly.storage.tigris.dev',
      AWS_REGION: 'auto',
      AWS_ACCESS_KEY_ID: 'tid_key',
      AWS_SECRET_ACCESS_KEY: 'tsec_secret',
    });
    expect(config.storage).toMatchObject({ kind: 's3', endpoint: 'https://fly.storage.tigris.dev', region: 'auto', accessKeyId: 'tid_key' });
    // AWS itself: the region names the endpoint.
    const aws = loadConfig({ DATA_DIR: dataDir(), S3_BUCKET: 'market-pictures', S3_REGION: 'eu-west-1', S3_ACCESS_KEY_ID: 'a', S3_SECRET_ACCESS_KEY: 'b' });
    expect(aws.storage).toMatchObject({ endpoint: 'https://s3.eu-west-1.amazonaws.com', region: 'eu-west-1' });
  });

  it.each([
    [{ S3_ENDPOINT: 'https://s3.example' }, 'S3_ENDPOINT is set but S3_BUCKET is not'],
    [{ S3_BUCKET: 'Bad_Bucket', S3_ENDPOINT: 'https://s3.example', S3_ACCESS_KEY_ID: 'a', S3_SECRET_ACCESS_KEY: 'b' }, 'S3_BUCKET must be a bucket name'],
    [
      { S3_BUCKET: 'pictures', S3_ACCESS_KEY_ID: 'a', S3_SECRET_ACCESS_KEY: 'b' },
      'S3_ENDPOINT (or AWS_ENDPOINT_URL_S3, or S3_REGION for AWS itself) is required',
    ],
    [
      { S3_BUCKET: 'pictures', S3_ENDPOINT: 'ftp://s3.example', S3_ACCESS_KEY_ID: 'a', S3_SECRET_ACCESS_KEY: 'b' },
      'S3_ENDPOINT must be an http:// or https:// URL',
    ],
    [{ S3_BUCKET: 'pictures', S3_ENDPOINT: 'https://s3.example' }, 'S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY'],
    [
      { S3_BUCKET: 'pictures', S3_ENDPOINT: 'https://s3.example', S3_ACCESS_KEY_ID: 'a', S3_SECRET_ACCESS_KEY: 'b', S3_FORCE_PATH_STYLE: 'yes' },
      'S3_FORCE_PATH_STYLE must be true or false',
    ],
  ])('names the mistake in %j', (env, message) => {
    expect(problemsOf(env)).toEqual([expect.stringContaining(message)]);
  });
});

describe('email', () => {
  it('has no SMTP server by default, and sends from no-reply at the public host', () => {
    expect(loadConfig({ DATA_DIR: dataDir(), PUBLIC_URL: 'https://market.example' }).email).toEqual({
      smtpUrl: undefined,
      from: 'Marketplace <no-reply@market.example>',
    });
  });

  it('takes SMTP_URL and EMAIL_FROM', () => {
    const config = loadConfig({ DATA_DIR: dataDir(), SMTP_URL: 'smtps://user:pass@smtp.example.com:465', EMAIL_FROM: 'Shop <hello@shop.example>' });
    expect(config.email).toEqual({ smtpUrl: 'smtps://user:pass@smtp.example.com:465', from: 'Shop <hello@shop.example>' });
  });

  it.each([
    [{ SMTP_URL: 'http://smtp.example.com' }, 'SMTP_URL must be an smtp:// or smtps:// URL'],
    [{ EMAIL_FROM: 'not an address' }, 'EMAIL_FROM must be an address'],
    [{ EMAIL_FROM: 'Shop <a@b.example>\r\nBcc: c@d.example' }, 'EMAIL_FROM must be an address'],
  ])('names the mistake in %j', (env, message) => {
    expect(problemsOf(env)).toEqual([expect.stringContaining(message)]);
  });
});
