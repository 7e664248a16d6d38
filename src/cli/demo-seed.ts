// The offline demo's shop, so the demo buyer has something to buy on the first `npm start`: the demo
// seller gets a Connect account at the local emulator, finishes onboarding there as Stripe's hosted
// form would (the emulator sends the usual account events to our webhooks), and gets a few
// listings. Offline mode only; DEMO_SEED=false turns it off. Runs at every offline start and does
// only what is still missing, so restarts change nothing.
import type { Kysely } from 'kysely';
import type Stripe from 'stripe';
import { findUserByEmail } from '../auth/users.ts';
import type { Database } from '../db/schema.ts';
import { listSellerListings } from '../listings/queries.ts';
import type { ListingForm } from '../listings/rules.ts';
import { addListing } from '../listings/use-cases.ts';
import { listSellerPlans } from '../subscriptions/plan-queries.ts';
import { createPlan } from '../subscriptions/plan-use-cases.ts';
import type { PlanForm } from '../subscriptions/rules.ts';
import { ensureSeller } from '../sellers/queries.ts';
import { ensureConnectedAccount, syncAccountFromStripe } from '../sellers/use-cases.ts';

/** As a seller would type them into the listing form; they pass the same checks. */
export const DEMO_LISTINGS: ListingForm[] = [
  {
    title: 'Stoneware mug, hand-thrown',
    description: 'Holds 350 ml. Glazed in speckled oat; each one is a little different.',
    price: '24.00',
    currency: 'usd',
    stock: '12',
  },
  { title: 'Linen tea towels, set of two', description: 'Stonewashed European linen, 50 × 70 cm.', price: '18.50', currency: 'usd', stock: '30' },
  { title: 'Beeswax pillar candle', description: 'About 40 hours of burning. Only a few made each week.', price: '12.00', currency: 'usd', stock: '3' },
  { title: 'Walnut serving board', description: 'Oiled black walnut, 40 × 20 cm, with a juice groove.', price: '65.00', currency: 'usd', stock: '5' },
];

/** A monthly plan to subscribe to, typed as into the plan form. */
export const DEMO_PLAN: PlanForm = {
  name: 'Coffee of the month',
  description: 'A bag of freshly roasted beans every month.',
  amount: '18.00',
  currency: 'usd',
  interval: 'month',
  trial_days: '',
};

export interface DemoShop {
  /** The seller finished onboarding at the emulator during this run. */
  onboarded: boolean;
  listingsCreated: number;
  plansCreated: number;
}

export async function seedDemoShop(db: Kysely<Database>, stripe: Stripe, input: { emulatorUrl: string; sellerEmail: string }): Promise<DemoShop> {
  const user = await findUserByEmail(db, input.sellerEmail);
  if (user?.role !== 'seller') throw new Error(`the demo seller ${input.sellerEmail} does not exist`);
  const seller = await ensureSeller(db, user.id);

  // details_submitted is false until onboarding is finished; a demo seller someone already took
  // through onboarding (to any outcome) is left as it is.
  let onboarded = false;
  if (!seller.details_submitted) {
    const { accountId } = await ensureConnectedAccount(db, stripe, { sellerId: user.id, country: 'US', email: user.email });
    await finishOnboardingAtEmulator(input.emulatorUrl, accountId);
    // What our return page does after Stripe's form: read the account back and record it.
    await syncAccountFromStripe(db, stripe, accountId);
    onboarded = true;
  }

  // Any listing at all, active or not, means the seller has a shop already.
  let listingsCreated = 0;
  if ((await listSellerListings(db, user.id)).length === 0) {
    for (const form of DEMO_LISTINGS) {
      await addListing(db, user.id, form); // the seller's own use case: the same checks as the form
      listingsCreated++;
    }
  }
  // Any plan at all, archived or not, means the seller has set up subscriptions already.
  let plansCreated = 0;
  if ((await listSellerPlans(db, user.id)).length === 0) {
    await createPlan(db, stripe, user.id, DEMO_PLAN);
    plansCreated++;
  }
  return { onboarded, listingsCreated, plansCreated };
}

/** One line for start-up's progress. */
export function describeDemoShop(shop: DemoShop): string {
  const done = [
    ...(shop.onboarded ? ['the demo seller finished onboarding at the emulator'] : []),
    ...(shop.listingsCreated > 0 ? [`${shop.listingsCreated} listings added`] : []),
    ...(shop.plansCreated > 0 ? ['a subscription plan added'] : []),
  ];
  return done.length === 0 ? 'Demo shop: already set up' : `Demo shop: ${done.join(', ')}`;
}

/** The emulator's control API finishes onboarding as its hosted page would, events included. */
async function finishOnboardingAtEmulator(emulatorUrl: string, accountId: string): Promise<void> {
  const response = await fetch(`${emulatorUrl}/_emulator/accounts/${encodeURIComponent(accountId)}/onboarding`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ outcome: 'verified' }),
  });
  if (!response.ok) throw new Error(`the emulator refused to finish onboarding (${response.status})`);
}
