// Boots the real `npm start` entry point as a child process, offline (no Stripe key, no
// DATABASE_URL), in a temporary data directory: what a new developer gets after `npm ci && npm start`,
// then what they get when they start it again.
import { describe, expect } from 'vitest';
import { DEMO_LISTINGS } from '../../src/cli/demo-seed.ts';
import { createStripeClient } from '../../src/stripe/client.ts';
import { entryPointTest as it } from '../helpers/entry-point.ts';

interface LogEntry {
  step?: string;
  msg: string;
  reqId?: string;
  req?: { url: string };
  res?: { statusCode: number };
}

/** Printed after the demo logins' last line. */
const BANNER_END = /Demo logins[^\n]*\n(?:.*\n){3}\n/;

describe('offline start', () => {
  let dataDir: string;
  let firstCatalogue: string[];

  it('serves the marketplace with the embedded database, the emulator and a demo shop; logs JSON to a pipe; prints demo logins last', async ({
    startServer,
  }) => {
    const server = await startServer({ env: { LOG_LEVEL: 'info' } });
    dataDir = server.dataDir;
    await server.waitForOutput(BANNER_END);

    const home = await fetch(`http://127.0.0.1:${server.port}/`);
    expect(home.status).toBe(200);
    const homePage = await home.text();
    expect(homePage).toContain('payments are simulated');

    // Not a terminal: every log line is JSON, and the demo logins come after all of start-up's.
    const [logLines, banner] = splitAtBanner(server.output());
    expect(banner).toContain('admin@demo.test');
    expect(banner.split('\n').every((line) => !line.startsWith('{'))).toBe(true);
    const entries = logLines.map((line) => JSON.parse(line) as LogEntry);

    // Start-up says what it is doing, step by step, and where to go when it is ready.
    const progress = entries.filter((entry) => entry.step !== undefined);
    expect(progress.map((entry) => entry.step)).toEqual(['load', 'database', 'migrations', 'stripe', 'web', 'demo', 'ready']);
    const said = (step: string) => progress.find((entry) => entry.step === step)!.msg;
    expect(said('database')).toMatch(/^Database: embedded PostgreSQL \(PGlite\) in .*pglite, created \(\d+\.\d s\)$/);
    expect(said('migrations')).toMatch(/^Migrations: \d+ applied/);
    expect(said('stripe')).toMatch(/^Stripe emulator at http:/);
    expect(said('demo')).toMatch(/^Demo shop: the demo seller finished onboarding at the emulator, 4 listings added/);
    expect(said('ready')).toMatch(new RegExp(`^Ready at http://localhost:${server.port} \\(started in \\d+\\.\\d s\\)$`));

    // The demo seller's onboarding reached us as Stripe's webhooks would, and those requests were
    // logged (and completed) before the demo logins.
    const webhookRequests = entries.filter((entry) => entry.msg === 'request completed' && entry.req?.url.startsWith('/webhooks/stripe'));
    expect(webhookRequests.length).toBeGreaterThan(0);
    expect(webhookRequests.every((entry) => entry.res?.statusCode === 200)).toBe(true);

    // The demo buyer has something to buy: the demo seller's listings are in the catalogue.
    firstCatalogue = listingLinks(homePage);
    expect(firstCatalogue).toHaveLength(DEMO_LISTINGS.length);
    for (const listing of DEMO_LISTINGS) expect(homePage).toContain(listing.title);

    // The emulator it started answers on its own port, speaking Stripe's protocol (a key is required).
    const unauthenticated = await fetch(`http://127.0.0.1:${server.emulatorPort}/v1/events`);
    expect(unauthenticated.status).toBe(401);
    expect(((await unauthenticated.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');

    // The emulator's address as printed is where its pages are: an onboarding link starts with it.
    const printed = banner.match(/local Stripe emulator at (\S+)\)/)![1]!;
    expect(said('stripe')).toContain(`Stripe emulator at ${printed} `);
    const stripe = createStripeClient({ secretKey: 'sk_test_any', emulator: { host: '127.0.0.1', port: server.emulatorPort }, maxNetworkRetries: 0 });
    const account = await stripe.accounts.create({
      controller: { stripe_dashboard: { type: 'express' }, fees: { payer: 'application' }, losses: { payments: 'application' } },
    });
    const link = await stripe.accountLinks.create({
      account: account.id,
      type: 'account_onboarding',
      refresh_url: 'http://localhost/r',
      return_url: 'http://localhost/x',
    });
    expect(new URL(link.url).origin).toBe(printed);

    expect(await server.stop()).toBe(0);
  }, 180_000);

  it('starts again on the same data without creating, migrating or seeding anything twice', async ({ startServer }) => {
    const server = await startServer({ dataDir, env: { LOG_LEVEL: 'info' } });
    await server.waitForOutput(BANNER_END);

    const progress = splitAtBanner(server.output())[0]
      .map((line) => JSON.parse(line) as LogEntry)
      .filter((entry) => entry.step !== undefined);
    const said = (step: string) => progress.find((entry) => entry.step === step)!.msg;
    expect(said('database')).not.toContain('created');
    expect(said('migrations')).toMatch(/^Migrations: up to date/);
    expect(said('demo')).toMatch(/^Demo shop: already set up/);

    const home = await fetch(`http://127.0.0.1:${server.port}/`);
    expect(listingLinks(await home.text())).toEqual(firstCatalogue);
  }, 180_000);
});

/** The log lines before the "Marketplace running at" banner, and the banner itself. */
function splitAtBanner(output: string): [string[], string] {
  const at = output.indexOf('\nMarketplace running at');
  expect(at).toBeGreaterThan(-1);
  const logLines = output
    .slice(0, at)
    .split('\n')
    .filter((line) => line.trim() !== '');
  for (const line of logLines) expect(() => JSON.parse(line) as unknown, line).not.toThrow();
  return [logLines, output.slice(at, output.indexOf('\n\n', output.indexOf('Demo logins')))];
}

/** The listing pages the catalogue links to, in order. */
function listingLinks(html: string): string[] {
  return [...new Set([...html.matchAll(/href="(\/listings\/[0-9a-f-]{36})"/g)].map((match) => match[1]!))];
}
