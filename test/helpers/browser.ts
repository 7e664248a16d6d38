// Browser tests drive Debian's Chromium with playwright-core: no browser is downloaded. Without
// Chromium the browser tests are skipped with a printed notice; .ci/run installs it, so CI always
// runs them. Screenshots go to test-artifacts/ (kept by CI), and one is taken whenever a step fails.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS_DIR = join(process.cwd(), 'test-artifacts');

export const chromiumAvailable = existsSync(CHROMIUM_PATH);
if (!chromiumAvailable) {
  console.log(`[browser tests] skipped: no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    // The machine has no outside network: background networking would only produce refused connections.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/** Listens on a free loopback port and returns the base URL the browser should open. */
export async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('app is not listening on TCP');
  return `http://127.0.0.1:${address.port}`;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Runs a journey; if any step throws, saves what the page looked like before rethrowing. */
export async function journey<T>(page: Page, name: string, steps: () => Promise<T>): Promise<T> {
  try {
    return await steps();
  } catch (error) {
    await screenshot(page, `FAILED-${name}`).catch(() => {});
    throw error;
  }
}

/** Waits for the element to be visible; throws (failing the test) if it never is. */
export async function visible(locator: Locator, timeoutMs = 5000): Promise<void> {
  await locator.first().waitFor({ state: 'visible', timeout: timeoutMs });
}
