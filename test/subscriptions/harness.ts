// The subscription tests' own steps over the fixture's world (test/helpers/fixture.ts): plans for a
// seller, and our subscription and invoice rows.
import type Stripe from 'stripe';
import type { Plan, SubscriptionRow } from '../../src/db/schema.ts';
import { createPlan } from '../../src/subscriptions/plan-use-cases.ts';
import type { World } from '../helpers/fixture.ts';
import type { TestSeller } from '../helpers/market.ts';

export async function planFor(
  h: World,
  seller: TestSeller,
  values: { amount?: string; interval?: 'month' | 'year'; trialDays?: number; currency?: string } = {},
): Promise<Plan> {
  return createPlan(h.db, h.stripe, seller.user.id, {
    name: `Box ${Math.random().toString(36).slice(2, 7)}`,
    description: 'Monthly things',
    amount: values.amount ?? '20.00',
    currency: values.currency ?? 'usd',
    interval: values.interval ?? 'month',
    trial_days: values.trialDays === undefined ? '' : String(values.trialDays),
  });
}

export async function subscriptionRow(h: World, id: string): Promise<SubscriptionRow> {
  return h.db.selectFrom('subscriptions').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

export async function invoiceRows(h: World, subscriptionId: string) {
  return h.db.selectFrom('invoices').selectAll().where('subscription_id', '=', subscriptionId).orderBy('stripe_created').orderBy('id').execute();
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
