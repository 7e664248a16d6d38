// What a buyer's browser does on Stripe's hosted pages (the emulator's stand-ins), driven with
// fetch like a browser without JavaScript: pay on Checkout, answer the bank's 3D Secure challenge,
// and follow Stripe's redirect back to us.
import { expect } from 'vitest';

/** What a buyer does on Stripe's (the emulator's) Checkout page: type a card (and `fields` such as a shipping address), press Pay. */
export async function payOnCheckoutPage(
  sessionUrl: string,
  cardNumber: string,
  email = 'buyer@example.test',
  fields: Record<string, string> = {},
): Promise<{ status: number; location: string | null; body: string }> {
  const page = await fetch(sessionUrl);
  expect(page.status).toBe(200);
  const action = /<form method="post" action="([^"]+)"/.exec(await page.text())?.[1];
  const response = await fetch(new URL(action!, sessionUrl), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email, card_number: cardNumber, ...fields }).toString(),
  });
  return { status: response.status, location: response.headers.get('location'), body: await response.text() };
}

/** The emulator's 3DS challenge page: press "Complete" or "Fail". Returns where the browser goes next. */
export async function answerChallenge(challengeUrl: string, action: 'complete' | 'fail'): Promise<string> {
  const url = new URL(challengeUrl);
  const page = await fetch(url);
  expect(page.status).toBe(200);
  const html = await page.text();
  const secret = /name="client_secret" value="([^"]+)"/.exec(html)?.[1];
  const formAction = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  const response = await fetch(new URL(formAction!, url), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_secret: secret!, action }).toString(),
  });
  expect([302, 303]).toContain(response.status);
  let next = response.headers.get('location') ?? '';
  next = new URL(next, url).toString();
  // Checkout's 3DS returns to Checkout, which then sends the buyer to our success URL (or back to its page).
  if (next.includes('/hosted/checkout/')) {
    const back = await fetch(next, { redirect: 'manual' });
    next = new URL(back.headers.get('location') ?? next, next).toString();
  }
  return next;
}

/** Our own URL (as Stripe redirects to it) → the path the test client requests. */
export const localPath = (url: string) => {
  const u = new URL(url);
  return u.pathname + u.search;
};
