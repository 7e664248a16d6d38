// Reads and validates the environment once, at boot. Every problem names the variable and what is
// wrong with it, so an operator can fix a deployment from the first error message.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseCountryList } from './countries.ts';

export type StripeMode = 'offline' | 'test' | 'live';

export interface Config {
  port: number;
  host: string;
  publicUrl: string;
  /** True when PUBLIC_URL is https: cookies get the Secure flag and the __Host- prefix. */
  secureCookies: boolean;
  /** Where the client's address comes from: what the login and signup limits count by. */
  clientAddress: ClientAddressSource;
  databaseUrl: string | undefined;
  dataDir: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  cookieSecret: string;
  stripe: {
    mode: StripeMode;
    /** Undefined in offline mode until the emulator has started and handed out its key. */
    secretKey: string | undefined;
    publishableKey: string | undefined;
    platformWebhookSecret: string | undefined;
    connectWebhookSecret: string | undefined;
  };
  emulatorPort: number;
  /** Where listing pictures are kept (see loadPicturesAndEmailConfig). */
  storage: StorageConfig;
  email: EmailConfig;
  /** When /admin/health and the worker's log warn about webhooks (see src/health/rules.ts). */
  webhookHealth: WebhookHealthThresholds;
  /** Lets a monitor read /admin/health.json with `Authorization: Bearer <token>`; unset → admins only. */
  healthMonitorToken: string | undefined;
  /** Where physical goods may be shipped (ISO alpha-2): Checkout's allowed countries and our own address form's. */
  shippingCountries: string[];
  /** Offline mode: give the demo seller an onboarded account and listings at start (DEMO_SEED). */
  demoSeed: boolean;
  /** Offline mode where others can reach it, allowed with DEMO=1: why it is exposed, else empty. */
  demoExposure: string[];
}

export interface WebhookHealthThresholds {
  /** No event from the Connect endpoint for this long while sellers have Stripe accounts. */
  connectSilenceHours: number;
  /** The oldest event waiting in the inbox is older than this. */
  backlogMaxAgeMinutes: number;
  /** At least this many requests refused for their signature within the last hour, per endpoint. */
  signatureFailuresPerHour: number;
}

export type StorageConfig =
  | { kind: 'files'; dir: string }
  | { kind: 's3'; endpoint: string; bucket: string; region: string; accessKeyId: string; secretAccessKey: string; forcePathStyle: boolean };

export interface EmailConfig {
  /** smtp:// or smtps:// with credentials; unset → offline keeps mail in the local mailbox. */
  smtpUrl: string | undefined;
  /** The From header of every message. */
  from: string;
}

/**
 * `socket`: the TCP peer (no proxy in front). `fly`: the `Fly-Client-IP` header Fly's edge sets
 * (and overwrites if a client sends one). `hops`: the address that many proxies back in
 * X-Forwarded-For; never its left-most entry, which is whatever the client wrote.
 */
export type ClientAddressSource = { kind: 'socket' } | { kind: 'fly' } | { kind: 'hops'; hops: number };

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Validates `env` and returns a typed Config, or throws ConfigError listing every problem.
 * Secrets that offline mode can invent (cookie secret, webhook secrets for the local emulator) are
 * generated once and kept under DATA_DIR so that restarts keep sessions and signatures valid.
 */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const value = (name: string): string | undefined => {
    const raw = env[name];
    return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
  };

  const port = parsePort(value('PORT') ?? '3000', 'PORT', problems);
  const emulatorPort = parsePort(value('EMULATOR_PORT') ?? '12111', 'EMULATOR_PORT', problems);
  const host = value('HOST') ?? '127.0.0.1';

  const publicUrlRaw = value('PUBLIC_URL') ?? `http://localhost:${port}`;
  let publicUrl = publicUrlRaw;
  try {
    const parsed = new URL(publicUrlRaw);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      problems.push('PUBLIC_URL must be an http:// or https:// URL');
    }
    publicUrl = parsed.origin;
  } catch {
    problems.push(`PUBLIC_URL must be an absolute URL such as https://market.example.com (got "${publicUrlRaw}")`);
  }
  const secureCookies = publicUrl.startsWith('https://');

  const clientAddress = parseTrustProxy(value('TRUST_PROXY'), problems);

  const databaseUrl = value('DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push('DATABASE_URL must start with postgres:// or postgresql://');
  }

  const dataDir = resolve(value('DATA_DIR') ?? '.data');

  const logLevelRaw = value('LOG_LEVEL') ?? 'info';
  const logLevel = (LOG_LEVELS as readonly string[]).includes(logLevelRaw)
    ? (logLevelRaw as Config['logLevel'])
    : (problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`), 'info');

  const secretKey = value('STRIPE_SECRET_KEY');
  const publishableKey = value('STRIPE_PUBLISHABLE_KEY');
  const platformWebhookSecret = value('STRIPE_WEBHOOK_SECRET');
  const connectWebhookSecret = value('STRIPE_CONNECT_WEBHOOK_SECRET');
  let mode: StripeMode = 'offline';
  if (secretKey !== undefined) {
    if (secretKey.startsWith('sk_test_')) mode = 'test';
    else if (secretKey.startsWith('sk_live_')) mode = 'live';
    else problems.push('STRIPE_SECRET_KEY must start with sk_test_ or sk_live_');
  }
  if (secretKey === undefined) {
    for (const name of ['STRIPE_PUBLISHABLE_KEY', 'STRIPE_WEBHOOK_SECRET', 'STRIPE_CONNECT_WEBHOOK_SECRET']) {
      if (value(name) !== undefined) problems.push(`${name} is set but STRIPE_SECRET_KEY is not: set both, or neither for offline mode`);
    }
  } else {
    const expectedPk = mode === 'live' ? 'pk_live_' : 'pk_test_';
    if (publishableKey === undefined) problems.push(`STRIPE_PUBLISHABLE_KEY is required with STRIPE_SECRET_KEY (${expectedPk}…)`);
    else if (!publishableKey.startsWith(expectedPk)) problems.push(`STRIPE_PUBLISHABLE_KEY must start with ${expectedPk} to match STRIPE_SECRET_KEY`);
    for (const [name, secret] of [
      ['STRIPE_WEBHOOK_SECRET', platformWebhookSecret],
      ['STRIPE_CONNECT_WEBHOOK_SECRET', connectWebhookSecret],
    ] as const) {
      if (secret !== undefined && !secret.startsWith('whsec_')) problems.push(`${name} must start with whsec_`);
      if (secret === undefined && mode === 'live') problems.push(`${name} is required in live mode: unsigned webhooks would be trusted`);
    }
  }

  let cookieSecret = value('COOKIE_SECRET');
  if (cookieSecret !== undefined && cookieSecret.length < 32) {
    problems.push('COOKIE_SECRET must be at least 32 characters');
  }
  if (mode === 'live') {
    if (!secureCookies) problems.push('PUBLIC_URL must be https:// in live mode (sessions must not travel in clear text)');
    if (cookieSecret === undefined) problems.push('COOKIE_SECRET is required in live mode');
    if (databaseUrl === undefined) problems.push('DATABASE_URL is required in live mode: the embedded database is for local use only');
    if (value('TRUST_PROXY') === undefined) {
      problems.push(
        'TRUST_PROXY is required in live mode: "fly" behind Fly.io, the number of proxies in front (e.g. 1), or "none"; rate limits count by client address',
      );
    }
  }

  const picturesAndEmail = loadPicturesAndEmailConfig(value, problems, { dataDir, publicUrl });
  const webhookHealth: WebhookHealthThresholds = {
    connectSilenceHours: positiveNumber(value('WEBHOOK_CONNECT_SILENCE_HOURS') ?? '24', 'WEBHOOK_CONNECT_SILENCE_HOURS', problems),
    backlogMaxAgeMinutes: positiveNumber(value('WEBHOOK_BACKLOG_MAX_AGE_MINUTES') ?? '5', 'WEBHOOK_BACKLOG_MAX_AGE_MINUTES', problems),
    signatureFailuresPerHour: positiveNumber(value('WEBHOOK_SIGNATURE_FAILURES_PER_HOUR') ?? '10', 'WEBHOOK_SIGNATURE_FAILURES_PER_HOUR', problems),
  };
  const healthMonitorToken = value('HEALTH_MONITOR_TOKEN');
  if (healthMonitorToken !== undefined && healthMonitorToken.length < 32) problems.push('HEALTH_MONITOR_TOKEN must be at least 32 characters');
  const shippingCountries = parseCountryList(value('SHIPPING_COUNTRIES'), 'SHIPPING_COUNTRIES', problems);
  const demoSeed = parseSwitch(value('DEMO_SEED'), 'DEMO_SEED', true, problems);
  // Offline mode publishes demo logins (their password is in the README) and a fake Stripe: only
  // where nobody else can reach it, unless someone asks for exactly that.
  const demoAllowed = parseSwitch(value('DEMO'), 'DEMO', false, problems);
  const exposure = mode === 'offline' ? offlineExposure({ host, nodeEnv: value('NODE_ENV') }) : [];
  if (exposure.length > 0 && !demoAllowed) {
    problems.push(
      `STRIPE_SECRET_KEY is not set, so this would start in offline demo mode (a local Stripe emulator and demo logins whose password is published) while ${exposure.join(' and ')}. ` +
        'For a real deployment set STRIPE_SECRET_KEY and its companions (see .env.example); to run the demo here on purpose, set DEMO=1.',
    );
  }

  if (problems.length > 0) throw new ConfigError(problems);

  // Only now touch the disk: a bad environment must not create files.
  if (cookieSecret === undefined) cookieSecret = localSecret(dataDir, 'cookieSecret');
  return {
    port,
    host,
    publicUrl,
    secureCookies,
    clientAddress,
    databaseUrl,
    dataDir,
    logLevel,
    cookieSecret,
    stripe: {
      mode,
      secretKey,
      publishableKey,
      platformWebhookSecret: platformWebhookSecret ?? (mode === 'offline' ? localSecret(dataDir, 'platformWebhookSecret', 'whsec_') : undefined),
      connectWebhookSecret: connectWebhookSecret ?? (mode === 'offline' ? localSecret(dataDir, 'connectWebhookSecret', 'whsec_') : undefined),
    },
    emulatorPort,
    ...picturesAndEmail,
    webhookHealth,
    healthMonitorToken,
    shippingCountries,
    demoSeed,
    demoExposure: exposure,
  };
}

function parseTrustProxy(raw: string | undefined, problems: string[]): ClientAddressSource {
  if (raw === undefined || raw === 'none') return { kind: 'socket' };
  if (raw === 'fly') return { kind: 'fly' };
  if (/^[1-9]$/.test(raw)) return { kind: 'hops', hops: Number(raw) };
  problems.push(`TRUST_PROXY must be "none", "fly" or the number of proxies in front of the app, 1 to 9 (got "${raw}")`);
  return { kind: 'socket' };
}

/**
 * Listing pictures' storage and outgoing email (issue 16).
 *
 * Storage: files under DATA_DIR/uploads unless S3_BUCKET is set; then an S3-compatible bucket.
 * Endpoint, region and keys fall back to the AWS_* names that `fly storage create` (Tigris) sets.
 * Email: SMTP_URL sends through that server; without it, offline mode keeps messages in the local
 * mailbox page, and test or live mode leaves them waiting in the outbox until SMTP_URL is set.
 */
function loadPicturesAndEmailConfig(
  value: (name: string) => string | undefined,
  problems: string[],
  base: { dataDir: string; publicUrl: string },
): { storage: StorageConfig; email: EmailConfig } {
  let storage: StorageConfig = { kind: 'files', dir: join(base.dataDir, 'uploads') };
  const bucket = value('S3_BUCKET');
  if (bucket === undefined) {
    for (const name of ['S3_ENDPOINT', 'S3_REGION', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 'S3_FORCE_PATH_STYLE']) {
      if (value(name) !== undefined) problems.push(`${name} is set but S3_BUCKET is not: set S3_BUCKET to store pictures in a bucket`);
    }
  } else {
    const region = value('S3_REGION') ?? value('AWS_REGION');
    const endpointRaw = value('S3_ENDPOINT') ?? value('AWS_ENDPOINT_URL_S3') ?? (region !== undefined ? `https://s3.${region}.amazonaws.com` : undefined);
    const accessKeyId = value('S3_ACCESS_KEY_ID') ?? value('AWS_ACCESS_KEY_ID');
    const secretAccessKey = value('S3_SECRET_ACCESS_KEY') ?? value('AWS_SECRET_ACCESS_KEY');
    const pathStyle = value('S3_FORCE_PATH_STYLE') ?? 'false';
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) problems.push('S3_BUCKET must be a bucket name (lowercase letters, digits, dots and hyphens)');
    let endpoint = '';
    if (endpointRaw === undefined) {
      problems.push('S3_ENDPOINT (or AWS_ENDPOINT_URL_S3, or S3_REGION for AWS itself) is required with S3_BUCKET');
    } else {
      try {
        const parsed = new URL(endpointRaw);
        if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error('protocol');
        endpoint = parsed.origin;
      } catch {
        problems.push(`S3_ENDPOINT must be an http:// or https:// URL (got "${endpointRaw}")`);
      }
    }
    if (accessKeyId === undefined || secretAccessKey === undefined)
      problems.push('S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) are required with S3_BUCKET');
    if (pathStyle !== 'true' && pathStyle !== 'false') problems.push('S3_FORCE_PATH_STYLE must be true or false');
    storage = {
      kind: 's3',
      endpoint,
      bucket,
      region: region ?? 'auto',
      accessKeyId: accessKeyId ?? '',
      secretAccessKey: secretAccessKey ?? '',
      forcePathStyle: pathStyle === 'true',
    };
  }

  const smtpUrl = value('SMTP_URL');
  if (smtpUrl !== undefined && !/^smtps?:\/\/[^\s]+$/.test(smtpUrl))
    problems.push('SMTP_URL must be an smtp:// or smtps:// URL, like smtps://user:password@smtp.example.com:465');
  let host = 'localhost';
  try {
    host = new URL(base.publicUrl).hostname;
  } catch {
    /* PUBLIC_URL's own problem is reported above */
  }
  const from = value('EMAIL_FROM') ?? `Marketplace <no-reply@${host}>`;
  // One address, optionally with a display name; never a header break.
  if (!/^(?:[^<>\r\n@]*<[^<>\s@]+@[^<>\s@]+>|[^<>\s@]+@[^<>\s@]+)$/.test(from))
    problems.push('EMAIL_FROM must be an address such as "Marketplace <no-reply@market.example>"');
  return { storage, email: { smtpUrl, from } };
}

function positiveNumber(raw: string, name: string, problems: string[]): number {
  const parsed = Number(raw);
  if (!Number.isFinite(parsed) || parsed <= 0) {
    problems.push(`${name} must be a number above zero (got "${raw}")`);
    return 1;
  }
  return parsed;
}

/**
 * Why an offline instance would be reachable by others (or be production), in words; empty if not.
 * PUBLIC_URL is not a sign: tests and local proxies give offline instances an https one.
 */
function offlineExposure(settings: { host: string; nodeEnv: string | undefined }): string[] {
  const reasons: string[] = [];
  if (!isLoopback(settings.host)) reasons.push(`HOST is ${settings.host}, not a loopback address`);
  if (settings.nodeEnv === 'production') reasons.push('NODE_ENV is production');
  return reasons;
}

function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return bare === 'localhost' || bare.endsWith('.localhost') || bare === '::1' || /^127(\.\d{1,3}){3}$/.test(bare);
}

/** An on/off setting: true/false, 1/0, yes/no or on/off; `fallback` when unset. */
function parseSwitch(raw: string | undefined, name: string, fallback: boolean, problems: string[]): boolean {
  if (raw === undefined) return fallback;
  const normalised = raw.toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(normalised)) return true;
  if (['false', '0', 'no', 'off'].includes(normalised)) return false;
  problems.push(`${name} must be true or false (got "${raw}")`);
  return fallback;
}

function parsePort(raw: string, name: string, problems: string[]): number {
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    problems.push(`${name} must be a whole number from 0 to 65535 (got "${raw}")`);
    return 0;
  }
  return port;
}

/** A random secret kept in DATA_DIR/secrets.json, created on first use. For non-live modes only. */
function localSecret(dataDir: string, name: string, prefix = ''): string {
  const file = join(dataDir, 'secrets.json');
  mkdirSync(dataDir, { recursive: true });
  const secrets = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>) : {};
  const existing = secrets[name];
  if (existing !== undefined) return existing;
  const created = prefix + randomBytes(32).toString('hex');
  secrets[name] = created;
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return created;
}
