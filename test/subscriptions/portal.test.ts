// Issue 13, the customer portal: one configuration per seller, made idempotently from that seller's
// plans (switching only among them), passed with the session; unchanged plans cost no Stripe call;
// a new plan updates the same configuration.
import { describe, expect, it } from 'vitest';
import { ensurePortalConfiguration } from '../../src/subscriptions/portal.ts';
import { subscribeWithPaymentElement } from '../../src/subscriptions/use-cases.ts';
import { useWorld } from '../helpers/fixture.ts';
import { createSeller } from '../helpers/market.ts';
import { intentIdOf, planFor } from './harness.ts';

const h = useWorld({ webhooks: true, admin: true });

describe('portal configuration per seller', () => {
  it("lists only the seller's own plans, is reused while they are unchanged, and is updated in place when they change", async () => {
    const seller = await createSeller(h);
    const other = await createSeller(h);
    const plan = await planFor(h, seller);
    const otherPlan = await planFor(h, other);
    const id = await ensurePortalConfiguration(h.database.db, h.stripe, seller.user.id);
    const configuration = await h.stripe.billingPortal.configurations.retrieve(id);
    const products = configuration.features.subscription_update.products?.map((p) => p.product) ?? [];
    expect(products).toEqual([plan.stripe_product_id]);
    expect(products).not.toContain(otherPlan.stripe_product_id);
    expect(configuration.features).toMatchObject({
      payment_method_update: { enabled: true },
      invoice_history: { enabled: true },
      subscription_cancel: { enabled: true, mode: 'at_period_end' },
    });

    const creates = (await h.emu.requests('/v1/billing_portal/configurations')).length;
    expect(await ensurePortalConfiguration(h.database.db, h.stripe, seller.user.id)).toBe(id);
    expect((await h.emu.requests('/v1/billing_portal/configurations')).length).toBe(creates);

    const second = await planFor(h, seller);
    expect(await ensurePortalConfiguration(h.database.db, h.stripe, seller.user.id)).toBe(id);
    const updated = await h.stripe.billingPortal.configurations.retrieve(id);
    expect(updated.features.subscription_update.products?.map((p) => p.product).sort()).toEqual([plan.stripe_product_id, second.stripe_product_id].sort());

    // "Manage billing" passes it with the session.
    const buyer = await h.signIn('buyer');
    const step = await subscribeWithPaymentElement(h.database.db, h.stripe, { buyerId: buyer.userId, planId: plan.id });
    await h.stripe.paymentIntents.confirm(intentIdOf(step.clientSecret!), { payment_method: 'pm_card_visa' });
    const response = await buyer.client.post(`/subscriptions/${step.subscription.id}/portal`, {});
    expect(response.statusCode).toBe(303);
    const sessions = await h.emu.control<{ data: { path: string; status: number }[] }>('GET', '/_emulator/requests?path=/v1/billing_portal/sessions');
    expect(sessions.data.at(-1)?.status).toBe(200);
    const page = await (await fetch(response.location!)).text();
    expect(page).toContain(
      `switch-${(await h.database.db.selectFrom('subscriptions').select('stripe_subscription_id').where('id', '=', step.subscription.id).executeTakeFirstOrThrow()).stripe_subscription_id}`,
    );
  });
});
