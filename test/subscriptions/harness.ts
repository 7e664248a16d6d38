// The subscription tests' world: the admin harness (real database, the emulator with the real SDK,
// the app listening so the emulator delivers signed webhooks to its real endpoints, `sync()` to
// flush deliveries and drain the inbox through the worker's code), plus sellers with plans and
// buyers signed in through the real login form.
import type Stripe from 'stripe';
import { expect } from 'vitest';
import type { Plan, SubscriptionRow } from '../../src/db/schema.ts';
import { createPlan } from '../../src/subscriptions/plan-use-cases.ts';
import { createTestUser, TEST_PASSWORD, TestClient } from '../helpers/app.ts';
import type { Harness, TestSeller } from '../admin/harness.ts';

export { startHarness, createSeller, type Harness, type TestSeller } from '../admin/harness.ts';

let ip = 1;

export async function signedIn(h: Harness, role: 'buyer' | 'seller' | 'admin', userId?: string): Promise<{ client: TestClient; userId: string; email: string }> {
  const user = userId === undefined ? await createTestUser(h.database.db, role) : await h.database.db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirstOrThrow();
  const client = new TestClient(h.app, `10.13.${Math.floor(ip / 250)}.${(ip++ % 250) + 1}`);
  const response = await client.post('/login', { email: user.email, password: TEST_PASSWORD });
  expect(response.statusCode).toBe(303);
  return { client, userId: user.id, email: user.email };
}

export async function planFor(h: Harness, seller: TestSeller, values: { amount?: string; interval?: 'month' | 'year'; trialDays?: number; currency?: string } = {}): Promise<Plan> {
  return createPlan(h.database.db, h.stripe, seller.user.id, {
    name: `Box ${Math.random().toString(36).slice(2, 7)}`, description: 'Monthly things', amount: values.amount ?? '20.00',
    currency: values.currency ?? 'usd', interval: values.interval ?? 'month', trial_days: values.trialDays === undefined ? '' : String(values.trialDays),
  });
}

export async function subscriptionRow(h: Harness, id: string): Promise<SubscriptionRow> {
  return h.database.db.selectFrom('subscriptions').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

export async function invoiceRows(h: Harness, subscriptionId: string) {
  return h.database.db.selectFrom('invoices').selectAll().where('subscription_id', '=', subscriptionId).orderBy('stripe_created').orderBy('id').execute();
}

/** The PaymentIntent behind a confirmation secret (`pi_…_secret_…`). */
export function intentIdOf(clientSecret: string): string {
  return clientSecret.split('_secret_')[0]!;
}

export function periodEndOf(sub: Stripe.Subscription): number {
  return sub.items.data[0]?.current_period_end ?? 0;
}

export function subscriptionIdFromPayUrl(location: string | undefined): string {
  const id = /\/subscriptions\/([0-9a-f-]{36})/.exec(location ?? '')?.[1];
  if (id === undefined) throw new Error(`no subscription id in ${location}`);
  return id;
}
