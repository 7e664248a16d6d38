// Steps the browser journeys share, done as a person does them: through our forms and the
// emulator's hosted pages (Stripe's stand-ins), never by calling the app or the database. Each step
// waits for the page it ends on, so a broken step fails where it broke.
import type { Page } from 'playwright-core';
import { TEST_PASSWORD } from './app.ts';
import { screenshot, visible } from './browser.ts';

/** The log-in form; done when the browser has left /login (a refused login stays there and times out). */
export async function logIn(page: Page, baseUrl: string, email: string, password = TEST_PASSWORD): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/login'));
}

/** The sign-up form for a seller; done on the seller dashboard. */
export async function signUpAsSeller(page: Page, baseUrl: string, seller: { name: string; email: string; password: string }): Promise<void> {
  await page.goto(`${baseUrl}/signup?role=seller`);
  await page.getByLabel('Your name').fill(seller.name);
  await page.getByLabel('Email').fill(seller.email);
  await page.getByLabel('Password').fill(seller.password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(`${baseUrl}/seller`);
}

/** Which of the emulator's hosted pages: Checkout, a payment's or a card setup's bank challenge, the customer portal, Connect onboarding. */
export type StripePage = 'checkout' | '3ds' | 'setup_3ds' | 'portal' | 'onboarding';

export async function waitForStripePage(page: Page, emulatorUrl: string, kind: StripePage): Promise<void> {
  await page.waitForURL((url) => url.href.startsWith(`${emulatorUrl}/hosted/${kind}/`));
}

/**
 * On the seller dashboard: "Set up payouts", then on Stripe's hosted onboarding form the button that
 * decides how it ends (`verified`, `requirements_due`…); done back on the dashboard.
 */
export async function setUpPayouts(page: Page, baseUrl: string, emulatorUrl: string, outcome: string, options: { checkText?: string } = {}): Promise<void> {
  await page.getByRole('button', { name: 'Set up payouts' }).click();
  await waitForStripePage(page, emulatorUrl, 'onboarding');
  if (options.checkText !== undefined) await visible(page.getByText(options.checkText));
  await page.locator(`button[data-outcome="${outcome}"]`).click();
  await page.waitForURL(`${baseUrl}/seller`);
}

/** A new listing as a seller types it, from the dashboard's "New listing"; leaves the form unsubmitted. */
export async function fillNewListing(
  page: Page,
  listing: { title: string; description?: string; price: string; currency?: string; stock?: number },
): Promise<void> {
  await page.getByRole('link', { name: 'New listing' }).click();
  await page.getByLabel('Title').fill(listing.title);
  if (listing.description !== undefined) await page.getByLabel('Description').fill(listing.description);
  await page.getByLabel('Price').fill(listing.price);
  if (listing.currency !== undefined) await page.getByLabel('Currency').selectOption(listing.currency);
  if (listing.stock !== undefined) {
    await page.getByLabel('Limited:').check();
    await page.getByLabel('Stock', { exact: true }).fill(String(listing.stock));
  }
}

/**
 * On a listing's page: "Buy now", then on Stripe's Checkout page pay with `card`, one that asks for
 * no bank challenge (for those: waitForStripePage, payOnCheckoutPage, completeChallenge); returns
 * what our completion page says.
 */
export async function buyNowWithCard(page: Page, baseUrl: string, emulatorUrl: string, card: string): Promise<string | null> {
  await page.getByRole('button', { name: 'Buy now' }).click();
  await waitForStripePage(page, emulatorUrl, 'checkout');
  await payOnCheckoutPage(page, card);
  return orderOutcome(page, baseUrl);
}

/** On Stripe's hosted Checkout page: the card (and the email, if Stripe has none), a screenshot if named, Pay. */
export async function payOnCheckoutPage(page: Page, card: string, options: { email?: string; screenshotAs?: string } = {}): Promise<void> {
  if (options.email !== undefined) {
    const email = page.getByLabel('Email');
    if ((await email.inputValue()) === '') await email.fill(options.email);
  }
  await page.getByLabel('Card number').fill(card);
  if (options.screenshotAs !== undefined) await screenshot(page, options.screenshotAs);
  await page.getByTestId('pay').click();
}

/** The bank's challenge page (the emulator's 3D Secure stand-in): wait for it, screenshot if named, Complete. */
export async function completeChallenge(page: Page, emulatorUrl: string, options: { kind?: '3ds' | 'setup_3ds'; screenshotAs?: string } = {}): Promise<void> {
  await waitForStripePage(page, emulatorUrl, options.kind ?? '3ds');
  await visible(page.getByTestId('3ds-complete'));
  if (options.screenshotAs !== undefined) await screenshot(page, options.screenshotAs);
  await page.getByTestId('3ds-complete').click();
}

/** Our page with the Payment Element: the card goes into Stripe.js's field (not our form's), then our button. */
export async function payWithPaymentElement(page: Page, card: string, options: { button: 'pay-button' | 'save-card'; screenshotAs?: string }): Promise<void> {
  const cardField = page.getByTestId('stripe-emulator-card-number');
  await visible(cardField);
  await cardField.fill(card);
  if (options.screenshotAs !== undefined) await screenshot(page, options.screenshotAs);
  await page.getByTestId(options.button).click();
}

/** Waits for an order's completion page and returns what it says (Paid, Processing…). */
export async function orderOutcome(page: Page, baseUrl: string): Promise<string | null> {
  await page.waitForURL((url) => url.href.startsWith(`${baseUrl}/orders/`) && url.pathname.endsWith('/complete'));
  await visible(page.getByTestId('outcome'));
  return page.getByTestId('outcome').textContent();
}
