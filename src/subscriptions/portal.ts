// One customer-portal configuration per seller, kept by the app: card update, invoice history,
// cancel at period end, and plan switching only among that seller's plans (Stripe allows at most
// ten products per configuration, and one marketplace-wide list would let a buyer switch to another
// seller's plan). It is made from the seller's active plans; the fingerprint of those plans decides
// whether Stripe needs a call at all, so opening the portal costs nothing when nothing changed.
// Created with a key derived from the seller and the fingerprint (a retry after a lost answer gets
// the same configuration), updated in place afterwards (the same update twice is harmless).
// `npm run portal:configure` runs it for every seller (start-up or after a deploy); the
// "Manage billing" button runs it for the subscription's seller.
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type Stripe from 'stripe';
import type { Database } from '../db/schema.ts';
import { sendKeyed } from '../stripe/keyed.ts';
import { findPortalConfiguration, portalPlans, savePortalConfiguration, sellersWithPlans } from './plan-queries.ts';

export function portalFeatures(
  plans: { stripe_product_id: string | null; stripe_price_id: string | null }[],
): Stripe.BillingPortal.ConfigurationCreateParams.Features {
  const products = new Map<string, string[]>();
  for (const plan of plans) {
    if (plan.stripe_product_id === null || plan.stripe_price_id === null) continue;
    products.set(plan.stripe_product_id, [...(products.get(plan.stripe_product_id) ?? []), plan.stripe_price_id]);
  }
  return {
    payment_method_update: { enabled: true },
    invoice_history: { enabled: true },
    subscription_cancel: { enabled: true, mode: 'at_period_end' },
    subscription_update:
      products.size === 0
        ? { enabled: false }
        : {
            enabled: true,
            default_allowed_updates: ['price'],
            products: [...products].map(([product, prices]) => ({ product, prices })),
            proration_behavior: 'create_prorations',
          },
  };
}

export async function ensurePortalConfiguration(db: Kysely<Database>, stripe: Stripe, sellerId: string): Promise<string> {
  const features = portalFeatures(await portalPlans(db, sellerId));
  const fingerprint = createHash('sha256').update(JSON.stringify(features)).digest('hex').slice(0, 32);
  const stored = await findPortalConfiguration(db, sellerId);
  if (stored?.stripe_configuration_id != null && stored.fingerprint === fingerprint) return stored.stripe_configuration_id;
  const params = { features, metadata: { seller_id: sellerId } };
  const configuration =
    stored?.stripe_configuration_id != null
      ? await stripe.billingPortal.configurations.update(stored.stripe_configuration_id, params)
      : await sendKeyed(() => stripe.billingPortal.configurations.create(params, { idempotencyKey: `seller:${sellerId}:portal-config:${fingerprint}` }));
  await savePortalConfiguration(db, sellerId, configuration.id, fingerprint);
  return configuration.id;
}

/** Every seller with plans: for the CLI and start-up. */
export async function ensureAllPortalConfigurations(db: Kysely<Database>, stripe: Stripe): Promise<number> {
  const sellers = await sellersWithPlans(db);
  for (const sellerId of sellers) await ensurePortalConfiguration(db, stripe, sellerId);
  return sellers.length;
}
