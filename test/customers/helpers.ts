// Shared steps of the saved-card tests: the buyer's side of "add a card" as Stripe.js plays it (the
// card number goes to the emulator with the publishable key and the client secret, never to our
// server). Stripe's events reach the app through the fixture's `w.events` (test/helpers/fixture.ts).
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { TestClient } from '../helpers/app.ts';
import { answerChallenge, localPath } from '../helpers/hosted-pages.ts';

/** The card-setup page's form, as Stripe.js reads it. */
export function setupPage(body: string) {
  const attr = (name: string) => /<form id="setup-form"[^>]*>/.exec(body)?.[0].match(new RegExp(`${name}="([^"]*)"`))?.[1];
  const script = /<script src="([^"]+\/js\/v3\.js)"><\/script>/.exec(body)?.[1];
  return { publishableKey: attr('data-publishable-key')!, clientSecret: attr('data-client-secret')!, returnUrl: attr('data-return-url')!, script: script! };
}

/** What `stripe.confirmSetup` sends to Stripe (the emulator's Stripe.js endpoint). */
export async function confirmSetupWithCard(page: ReturnType<typeof setupPage>, cardNumber: string) {
  const id = page.clientSecret.slice(0, page.clientSecret.indexOf('_secret_'));
  const response = await fetch(`${new URL(page.script).origin}/hosted/js/setup_intents/${id}/confirm`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ key: page.publishableKey, client_secret: page.clientSecret, card_number: cardNumber, return_url: page.returnUrl }).toString(),
  });
  return {
    status: response.status,
    body: (await response.json()) as { status?: string; next_action?: { redirect_to_url?: { url: string } }; error?: { message: string } },
  };
}

/** "Add a card on this site" up to the Payment Element page. */
export async function openCardSetup(client: TestClient): Promise<{ setupId: string; page: ReturnType<typeof setupPage> }> {
  const setupId = randomUUID();
  const started = await client.post('/account/payment-methods/setups', { attempt: setupId, flow: 'element' });
  expect(started.statusCode).toBe(303);
  expect(started.location).toBe(`/account/payment-methods/setups/${setupId}`);
  const page = await client.get(started.location!);
  expect(page.statusCode).toBe(200);
  return { setupId, page: setupPage(page.body) };
}

/**
 * Adds a card the whole way: the Element, the bank's challenge when it asks (answered `challenge`),
 * and Stripe's redirect back to our return page. Returns that page.
 */
export async function addCard(client: TestClient, cardNumber: string, challenge: 'complete' | 'fail' = 'complete') {
  const { setupId, page } = await openCardSetup(client);
  const confirmed = await confirmSetupWithCard(page, cardNumber);
  let back = `${page.returnUrl}?redirect_status=succeeded`;
  if (confirmed.body.status === 'requires_action') back = await answerChallenge(confirmed.body.next_action!.redirect_to_url!.url, challenge);
  const done = await client.get(localPath(back));
  expect(done.statusCode).toBe(200);
  return { setupId, confirmed, done, outcome: /data-testid="outcome">([^<]+)</.exec(done.body)?.[1] };
}

/** The buyer's cards as the payment-methods page lists them. */
export async function listedCards(client: TestClient): Promise<{ pm: string; last4: string; isDefault: boolean }[]> {
  const page = await client.get('/account/payment-methods');
  expect(page.statusCode).toBe(200);
  return [...page.body.matchAll(/<tr data-testid="card" data-pm="([^"]+)" data-last4="(\d{4})">([\s\S]*?)<\/tr>/g)].map((m) => ({
    pm: m[1]!,
    last4: m[2]!,
    isDefault: m[3]!.includes('data-testid="default-badge"'),
  }));
}
