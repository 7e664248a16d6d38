import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { dataDir, problemsOf } from './helpers/config.ts';

describe('configuration', () => {
  it('starts offline with nothing set, inventing and keeping local secrets', () => {
    const dir = dataDir();
    const config = loadConfig({ DATA_DIR: dir });
    expect(config.stripe.mode).toBe('offline');
    expect(config.port).toBe(3000);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.stripe.platformWebhookSecret).toMatch(/^whsec_/);
    expect(config.stripe.connectWebhookSecret).not.toBe(config.stripe.platformWebhookSecret);
    // A restart reads the same secrets back: sessions and webhook signatures survive it.
    expect(loadConfig({ DATA_DIR: dir }).cookieSecret).toBe(config.cookieSecret);
    expect((JSON.parse(readFileSync(join(dir, 'secrets.json'), 'utf8')) as { cookieSecret: string }).cookieSecret).toBe(config.cookieSecret);
  });

  it.each([
    [{ STRIPE_SECRET_KEY: 'rk_live_abc' }, 'STRIPE_SECRET_KEY must start with sk_test_ or sk_live_'],
    [{ PORT: 'eighty' }, 'PORT must be a whole number'],
    [{ PORT: '70000' }, 'PORT must be a whole number'],
    [{ DATABASE_URL: 'mysql://localhost/db' }, 'DATABASE_URL must start with postgres://'],
    [{ PUBLIC_URL: 'not a url' }, 'PUBLIC_URL must be an absolute URL'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL must be one of'],
    [{ COOKIE_SECRET: 'short' }, 'COOKIE_SECRET must be at least 32 characters'],
    [{ STRIPE_WEBHOOK_SECRET: 'whsec_x' }, 'STRIPE_WEBHOOK_SECRET is set but STRIPE_SECRET_KEY is not'],
    [{ STRIPE_SECRET_KEY: 'sk_test_1', STRIPE_PUBLISHABLE_KEY: 'pk_live_1' }, 'STRIPE_PUBLISHABLE_KEY must start with pk_test_'],
    [{ STRIPE_SECRET_KEY: 'sk_test_1' }, 'STRIPE_PUBLISHABLE_KEY is required'],
    [{ STRIPE_SECRET_KEY: 'sk_test_1', STRIPE_PUBLISHABLE_KEY: 'pk_test_1', STRIPE_WEBHOOK_SECRET: 'secret' }, 'STRIPE_WEBHOOK_SECRET must start with whsec_'],
    [{ DEMO_SEED: 'maybe' }, 'DEMO_SEED must be true or false'],
  ])('rejects %o naming the variable', (env, message) => {
    expect(problemsOf(env).join('\n')).toContain(message);
  });

  it('sets up the offline demo shop unless DEMO_SEED turns it off', () => {
    expect(loadConfig({ DATA_DIR: dataDir() }).demoSeed).toBe(true);
    expect(loadConfig({ DATA_DIR: dataDir(), DEMO_SEED: 'false' }).demoSeed).toBe(false);
    expect(loadConfig({ DATA_DIR: dataDir(), DEMO_SEED: '0' }).demoSeed).toBe(false);
  });

  describe('offline demo mode (no STRIPE_SECRET_KEY) where others could reach it', () => {
    it.each([
      [{ HOST: '0.0.0.0' }, 'HOST is 0.0.0.0, not a loopback address'],
      [{ HOST: '::' }, 'HOST is ::, not a loopback address'],
      [{ HOST: '192.168.1.20' }, 'HOST is 192.168.1.20, not a loopback address'],
      [{ NODE_ENV: 'production' }, 'NODE_ENV is production'],
    ])('refuses %o unless DEMO=1, saying why and what to set', (env, reason) => {
      const problems = problemsOf(env).join('\n');
      expect(problems).toContain(reason);
      expect(problems).toContain('offline demo mode');
      expect(problems).toContain('set STRIPE_SECRET_KEY');
      expect(problems).toContain('DEMO=1');
      const allowed = loadConfig({ DATA_DIR: dataDir(), ...env, DEMO: '1' });
      expect(allowed.stripe.mode).toBe('offline');
      expect(allowed.demoExposure.join('\n')).toContain(reason);
    });

    it('starts on this machine without being asked', () => {
      for (const env of [
        {},
        { HOST: '127.0.0.1' },
        { HOST: 'localhost' },
        { HOST: '::1' },
        { PUBLIC_URL: 'https://market.example' },
        { NODE_ENV: 'development' },
      ]) {
        expect(loadConfig({ DATA_DIR: dataDir(), ...env }).demoExposure).toEqual([]);
      }
    });

    it('does not apply with a Stripe key', () => {
      const config = loadConfig({
        DATA_DIR: dataDir(),
        HOST: '0.0.0.0',
        NODE_ENV: 'production',
        STRIPE_SECRET_KEY: 'sk_test_1',
        STRIPE_PUBLISHABLE_KEY: 'pk_test_1',
      });
      expect(config.stripe.mode).toBe('test');
      expect(config.demoExposure).toEqual([]);
    });

    it('rejects a DEMO that is not on or off', () => {
      expect(problemsOf({ DEMO: 'please' }).join('\n')).toContain('DEMO must be true or false');
    });
  });

  it('accepts test mode with its keys', () => {
    const config = loadConfig({
      DATA_DIR: dataDir(),
      STRIPE_SECRET_KEY: 'sk_test_1',
      STRIPE_PUBLISHABLE_KEY: 'pk_test_1',
      STRIPE_WEBHOOK_SECRET: 'whsec_a',
      STRIPE_CONNECT_WEBHOOK_SECRET: 'whsec_b',
    });
    expect(config.stripe.mode).toBe('test');
    expect(config.stripe.platformWebhookSecret).toBe('whsec_a');
  });

  it('refuses live mode without https, both webhook secrets, a cookie secret and a real database', () => {
    const problems = problemsOf({ STRIPE_SECRET_KEY: 'sk_live_1', STRIPE_PUBLISHABLE_KEY: 'pk_live_1', PUBLIC_URL: 'http://market.example' });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('STRIPE_WEBHOOK_SECRET is required in live mode'),
        expect.stringContaining('STRIPE_CONNECT_WEBHOOK_SECRET is required in live mode'),
        expect.stringContaining('PUBLIC_URL must be https://'),
        expect.stringContaining('COOKIE_SECRET is required in live mode'),
        expect.stringContaining('DATABASE_URL is required in live mode'),
      ]),
    );
  });

  it('starts live mode when everything is in place, with secure cookies', () => {
    const config = loadConfig({
      DATA_DIR: dataDir(),
      STRIPE_SECRET_KEY: 'sk_live_1',
      STRIPE_PUBLISHABLE_KEY: 'pk_live_1',
      PUBLIC_URL: 'https://market.example',
      STRIPE_WEBHOOK_SECRET: 'whsec_a',
      STRIPE_CONNECT_WEBHOOK_SECRET: 'whsec_b',
      COOKIE_SECRET: 'x'.repeat(40),
      DATABASE_URL: 'postgres://db/market',
      TRUST_PROXY: 'fly',
    });
    expect(config.stripe.mode).toBe('live');
    expect(config.secureCookies).toBe(true);
  });
});
