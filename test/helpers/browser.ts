// Browser tests drive Debian's Chromium with playwright-core: no browser is downloaded. Without
// Chromium the browser tests are skipped with a printed notice; .ci/run installs it, so CI always
// runs them. Screenshots go to test-artifacts/ (kept by CI), and one is taken whenever a step fails.
//
// `browserTest` is the fixture every browser test uses: Chromium launched once per file (`browser`)
// and `openPage`, which gives each page its own context (cookies, viewport) and closes them all
// after the test, so no test sees another's session. `e2eTest` adds `world`: the one test World
// (fixture.ts) started for a browser, once per file.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Locator, type Page } from 'playwright-core';
import { test } from 'vitest';
import { startWorld } from './fixture.ts';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS_DIR = join(process.cwd(), 'test-artifacts');

export const chromiumAvailable = existsSync(CHROMIUM_PATH);
if (!chromiumAvailable) {
  console.log(`[browser tests] skipped: no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
}

/** The screen sizes the journeys are looked at in. */
export const DESKTOP = { width: 1280, height: 900 };
/** A narrower desktop window: the seller and admin journeys' screenshots are taken at this width. */
export const NARROW_DESKTOP = { width: 1100, height: 900 };
export const PHONE = { width: 390, height: 844 };
/** A phone as a mobile browser presents itself: touch, a dense screen, and zoomed out if a page overflows. */
export const PHONE_PROFILE: BrowserContextOptions = { viewport: PHONE, isMobile: true, hasTouch: true, deviceScaleFactor: 3 };

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    // The machine has no outside network: background networking would only produce refused connections.
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

export interface BrowserFixtures {
  /** Chromium, launched once for the test file. */
  browser: Browser;
  /** A new page in a context of its own (closed after the test); `options` as for `browser.newContext`. */
  openPage: (options?: BrowserContextOptions) => Promise<Page>;
}

export const browserTest = test
  // eslint-disable-next-line no-empty-pattern -- vitest reads a fixture's dependencies from this pattern: it has none
  .extend('browser', { scope: 'file' }, async ({}, { onCleanup }) => {
    const browser = await launchBrowser();
    onCleanup(() => browser.close());
    return browser;
  })
  .extend('openPage', async ({ browser }, { onCleanup }) => {
    const contexts: BrowserContext[] = [];
    onCleanup(async () => {
      await Promise.all(contexts.map((context) => context.close()));
    });
    return async (options: BrowserContextOptions = {}) => {
      const context = await browser.newContext(options);
      contexts.push(context);
      return context.newPage();
    };
  });

/**
 * `browserTest` with `world`, started when a test first asks for it and closed after the file: a
 * World with `browser: true` (the app at `world.baseUrl`, which is its PUBLIC_URL; the emulator's
 * hosted pages allowed by the CSP), whose `settle()` delivers the emulator's signed webhooks through
 * the real endpoint, the inbox and the worker.
 */
// eslint-disable-next-line no-empty-pattern -- vitest reads a fixture's dependencies from this pattern: it has none
export const e2eTest = browserTest.extend('world', { scope: 'file' }, async ({}, { onCleanup }) => {
  const world = await startWorld({ browser: true });
  onCleanup(() => world.close());
  return world;
});

/** Listens on a free loopback port and returns the base URL the browser should open. */
export async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('app is not listening on TCP');
  return `http://127.0.0.1:${address.port}`;
}

/**
 * Saves the whole page as test-artifacts/<name>.png (`name` may hold a folder: widths/…).
 * Chromium now and then answers a capture with "Unable to capture screenshot" while it is still
 * compositing (seen once in CI on a busy machine): it is asked again, after the page has painted a
 * frame, a few times before that counts as a failure.
 */
export async function screenshot(page: Page, name: string): Promise<string> {
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  mkdirSync(dirname(path), { recursive: true });
  for (let attempt = 1; ; attempt++) {
    try {
      await page.screenshot({ path, fullPage: true });
      return path;
    } catch (error) {
      if (attempt === 3 || !(error instanceof Error) || !error.message.includes('Unable to capture screenshot')) throw error;
      await page.evaluate(
        () =>
          new Promise<void>((resolve) => {
            // Runs in the browser, where requestAnimationFrame exists (this project's types are Node's).
            const { requestAnimationFrame: nextFrame } = globalThis as unknown as { requestAnimationFrame: (callback: () => void) => void };
            nextFrame(() => nextFrame(resolve));
          }),
      );
    }
  }
}

/**
 * Screenshots at the page's own width (`<name>.png`) and at a phone's (`<name>-phone.png`), then
 * puts the viewport back, so a journey can go on as it was.
 */
export async function screenshotWithPhone(page: Page, name: string): Promise<void> {
  const size = page.viewportSize() ?? DESKTOP;
  await screenshot(page, name);
  await page.setViewportSize(PHONE);
  await screenshot(page, `${name}-phone`);
  await page.setViewportSize(size);
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

/**
 * Collects the page's console errors (a script blocked by the CSP, a failed Stripe.js call). The
 * browser's own favicon requests are not the page's; `ignore` leaves out errors a test causes on purpose.
 */
export function consoleErrors(page: Page, ignore: (text: string, url: string) => boolean = () => false): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    const url = message.location().url;
    if (message.type() === 'error' && !url.endsWith('/favicon.ico') && !ignore(message.text(), url)) errors.push(`${message.text()} ${url}`);
  });
  return errors;
}
