// The world a browser journey runs in: this file's own database, an emulator with the app's real
// Stripe client pointed at it, and the real app listening on a loopback port. The port is chosen
// before the app is built because Stripe's pages send the browser back to PUBLIC_URL, and the
// emulator's origin stands in for Stripe's in the content security policy (as in offline mode):
// its hosted pages are form targets and Stripe.js is loaded from it.
//
// Webhooks arrive as at Stripe: the emulator signs them and posts them to the app's real endpoints,
// which store them in the inbox; `settle()` delivers what is queued and runs the worker's code until
// nothing is left to do.
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { drainInbox } from '../../src/webhooks/processor.ts';
import { testConfig } from './app.ts';
import { browserTest } from './browser.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { startTestEmulator, type TestEmulator } from './emulator.ts';
import { freePort } from './ports.ts';
import { pointEmulatorAt } from './webhooks.ts';

export interface E2eWorld {
  database: TestDatabase;
  emulator: TestEmulator;
  app: FastifyInstance;
  /** Where the browser opens the app: http://127.0.0.1:<port>. */
  baseUrl: string;
  /** Delivers every queued webhook to the app and processes its inbox, until nothing is due. */
  settle: () => Promise<void>;
  close: () => Promise<void>;
}

export async function startE2eWorld(): Promise<E2eWorld> {
  const database = await createTestDatabase();
  const emulator = await startTestEmulator();
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const config = testConfig({ PUBLIC_URL: baseUrl });
  const app = await buildApp({ config, db: database.db, stripe: emulator.stripe, stripeOrigins: [emulator.url], logger: false });
  await app.listen({ port, host: '127.0.0.1' });
  await pointEmulatorAt(emulator, baseUrl, config.stripe.platformWebhookSecret!, config.stripe.connectWebhookSecret!);

  const settle = async () => {
    // A handler may call Stripe and so cause new events: go round until the emulator has nothing queued.
    for (let round = 0; round < 5; round++) {
      await emulator.control('POST', '/_emulator/delivery/flush');
      const outcome = await drainInbox(database.db, emulator.stripe, { backoffBaseMs: 1, backoffMaxMs: 1, jitter: 0 });
      const queued = await emulator.control<{ data: unknown[] }>('GET', '/_emulator/deliveries?status=queued');
      if (queued.data.length === 0 && outcome.failed === 0) return;
    }
  };
  return {
    database,
    emulator,
    app,
    baseUrl,
    settle,
    close: async () => {
      await app.close();
      await emulator.stop();
      await database.close();
    },
  };
}

/** `browserTest` with `world`: one E2eWorld for the whole test file, started when a test first asks for it. */
// eslint-disable-next-line no-empty-pattern -- vitest reads a fixture's dependencies from this pattern: it has none
export const e2eTest = browserTest.extend('world', { scope: 'file' }, async ({}, { onCleanup }) => {
  const world = await startE2eWorld();
  onCleanup(() => world.close());
  return world;
});
