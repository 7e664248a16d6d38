// A buyer signs up (a bad password first: the message beside the field, the input kept), logs out
// and logs back in with the email in other letter case.
import { describe, expect } from 'vitest';
import { chromiumAvailable, e2eTest as it, journey, screenshot, visible } from '../helpers/browser.ts';

describe.skipIf(!chromiumAvailable)('browser: sign up, log out, log in', () => {
  it('a buyer signs up, logs out and logs back in', async ({ world: { baseUrl }, openPage }) => {
    const page = await openPage();
    await journey(page, 'auth-journey', async () => {
      await page.goto(`${baseUrl}/signup`);
      await page.getByLabel('Buy').check();
      await page.getByLabel('Your name').fill('Bea Buyer');
      await page.getByLabel('Email').fill('bea@example.test');
      await page.getByLabel('Password').fill('short');
      await page.getByRole('button', { name: 'Create account' }).click();
      // Bad input: the form comes back with a message beside the field and the input kept.
      await visible(page.getByText('Use a password of 10'));
      expect(await page.getByLabel('Email').inputValue()).toBe('bea@example.test');
      await screenshot(page, 'signup-validation');

      await page.getByLabel('Password').fill('a-long-enough-password');
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.waitForURL(`${baseUrl}/`);
      await visible(page.getByText('Welcome! Your account is ready.'));
      await visible(page.getByRole('link', { name: 'Bea Buyer' }));

      await page.getByRole('button', { name: 'Log out' }).click();
      await visible(page.getByText('You are logged out.'));
      await visible(page.getByRole('link', { name: 'Log in' }));

      await page.getByRole('link', { name: 'Log in' }).click();
      await page.getByLabel('Email').fill('BEA@example.test');
      await page.getByLabel('Password').fill('a-long-enough-password');
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL(`${baseUrl}/`);
      await visible(page.getByRole('link', { name: 'Bea Buyer' }));
      await screenshot(page, 'home-signed-in');
    });
  }, 60_000);
});
