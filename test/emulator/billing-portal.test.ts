/**
 * Customer portal: configurations and sessions through the real SDK, and the hosted portal
 * stand-in driven like a browser (forms and redirects).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type Stripe from 'stripe';
import { useTestEmulator, platformEvents } from './helpers.ts';
import { hasTestId, press, visit } from './billing-pages.ts';

const t = useTestEmulator();
let product: Stripe.Product;
let basic: Stripe.Price;
let premium: Stripe.Price;

beforeAll(async () => {
  product = await t.stripe.products.create({ name: 'Plan' });
  basic = await t.stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 1000, recurring: { interval: 'month' } });
  premium = await t.stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 3000, recurring: { interval: 'month' } });
});

async function subscribed(): Promise<{ customer: Stripe.Customer; sub: Stripe.Subscription }> {
  const customer = await t.stripe.customers.create({ email: 'portal@example.com' });
  const pm = await t.stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
  await t.stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: pm.id } });
  const sub = await t.stripe.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }] });
  return { customer, sub };
}

describe('portal configurations', () => {
  it('a default configuration exists; create, update and list others', async () => {
    const defaults = await t.stripe.billingPortal.configurations.list({ is_default: true });
    expect(defaults.data).toHaveLength(1);
    expect(defaults.data[0]?.features.payment_method_update.enabled).toBe(true);

    const cfg = await t.stripe.billingPortal.configurations.create({
      business_profile: { headline: 'Seller 7' },
      default_return_url: 'https://shop.example/account',
      features: {
        invoice_history: { enabled: true },
        payment_method_update: { enabled: true },
        subscription_cancel: {
          enabled: true,
          mode: 'immediately',
          proration_behavior: 'create_prorations',
          cancellation_reason: { enabled: true, options: ['too_expensive', 'unused'] },
        },
        subscription_update: {
          enabled: true,
          default_allowed_updates: ['price'],
          products: [{ product: product.id, prices: [basic.id, premium.id] }],
          proration_behavior: 'always_invoice',
        },
      },
      metadata: { seller_id: '7' },
    });
    expect(cfg).toMatchObject({ object: 'billing_portal.configuration', is_default: false, active: true, default_return_url: 'https://shop.example/account' });
    expect(cfg.features.subscription_update.products).toEqual([
      { adjustable_quantity: { enabled: false, maximum: null, minimum: 1 }, prices: [basic.id, premium.id], product: product.id },
    ]);
    const updated = await t.stripe.billingPortal.configurations.update(cfg.id, {
      features: { subscription_cancel: { mode: 'at_period_end', proration_behavior: 'none' } },
    });
    expect(updated.features.subscription_cancel).toMatchObject({ mode: 'at_period_end', proration_behavior: 'none', enabled: true });
    const [evt] = await platformEvents(t, { after: 0, types: ['billing_portal.configuration.updated'] });
    expect(evt?.data.previous_attributes).toMatchObject({
      features: { subscription_cancel: { mode: 'immediately', proration_behavior: 'create_prorations' } },
    });

    await expect(
      t.stripe.billingPortal.configurations.create({ features: { subscription_update: { enabled: true, default_allowed_updates: ['price'] } } }),
    ).rejects.toMatchObject({ code: 'parameter_missing' });
    await expect(
      t.stripe.billingPortal.configurations.create({
        features: { subscription_cancel: { enabled: true, mode: 'at_period_end', proration_behavior: 'create_prorations' } },
      }),
    ).rejects.toMatchObject({ statusCode: 400 });
    expect((await t.stripe.billingPortal.configurations.list({ is_default: false })).data.map((c) => c.id)).toContain(cfg.id);
  });
});

describe('portal sessions and the hosted portal', () => {
  it('cancel at period end, renew, then cancel again; events as Stripe sends them', async () => {
    const { customer, sub } = await subscribed();
    const session = await t.stripe.billingPortal.sessions.create({ customer: customer.id, return_url: 'https://shop.example/account' });
    expect(session).toMatchObject({ object: 'billing_portal.session', customer: customer.id, return_url: 'https://shop.example/account', flow: null });
    expect(session.url).toMatch(/\/hosted\/portal\//);
    await t.flush();
    const mark = t.receiver.received.length;
    const home = await visit(session.url);
    expect(hasTestId(home, `subscription-${sub.id}`)).toBe(true);
    expect(hasTestId(home, 'invoice-history')).toBe(true);
    expect(hasTestId(home, 'card-4242')).toBe(true);

    const afterCancel = await press(home, `cancel-${sub.id}`);
    expect(hasTestId(afterCancel, 'cancel-note')).toBe(true);
    expect(await t.stripe.subscriptions.retrieve(sub.id)).toMatchObject({ status: 'active', cancel_at_period_end: true });
    const afterRenew = await press(afterCancel, `renew-${sub.id}`);
    expect((await t.stripe.subscriptions.retrieve(sub.id)).cancel_at_period_end).toBe(false);
    await press(afterRenew, `cancel-${sub.id}`);
    const updates = (await platformEvents(t, { after: mark, types: ['customer.subscription.updated'] })).filter(
      (e) => (e.data.object as Stripe.Subscription).id === sub.id,
    );
    expect(updates.map((e) => (e.data.previous_attributes as { cancel_at_period_end?: boolean }).cancel_at_period_end)).toEqual([false, true, false]);
  });

  it('switches plan among the configured prices and saves a new card with 3DS', async () => {
    const { customer, sub } = await subscribed();
    const cfg = await t.stripe.billingPortal.configurations.create({
      features: {
        payment_method_update: { enabled: true },
        subscription_update: {
          enabled: true,
          default_allowed_updates: ['price'],
          products: [{ product: product.id, prices: [basic.id, premium.id] }],
          proration_behavior: 'none',
        },
      },
    });
    const session = await t.stripe.billingPortal.sessions.create({ customer: customer.id, configuration: cfg.id, return_url: 'https://shop.example/account' });
    const home = await visit(session.url);
    expect(home.html).toContain(`value="${premium.id}"`);
    await press(home, `switch-${sub.id}`, { price: premium.id });
    expect((await t.stripe.subscriptions.retrieve(sub.id)).items.data[0]?.price.id).toBe(premium.id);

    const again = await visit(session.url);
    const challenge = await press(again, 'add-card', { card_number: '4000 0025 0000 3155' });
    expect(challenge.url).toContain('/hosted/setup_3ds/');
    const back = await press(challenge, '3ds-complete');
    expect(back.html).toContain('data-testid="default-card"');
    const c = (await t.stripe.customers.retrieve(customer.id)) as Stripe.Customer;
    const pm = await t.stripe.paymentMethods.retrieve(String(c.invoice_settings.default_payment_method));
    expect(pm.card?.last4).toBe('3155');
    expect(pm.customer).toBe(customer.id);
  });

  it('flow_data deep links: payment_method_update redirects after completion; subscription_cancel shows only that subscription', async () => {
    const { customer, sub } = await subscribed();
    const flowSession = await t.stripe.billingPortal.sessions.create({
      customer: customer.id,
      return_url: 'https://shop.example/account',
      flow_data: { type: 'payment_method_update', after_completion: { type: 'redirect', redirect: { return_url: 'https://shop.example/card-updated' } } },
    });
    expect(flowSession.flow).toMatchObject({
      type: 'payment_method_update',
      after_completion: { type: 'redirect', redirect: { return_url: 'https://shop.example/card-updated' } },
    });
    const pmPage = await visit(flowSession.url);
    expect(hasTestId(pmPage, 'subscriptions')).toBe(false);
    const done = await press(pmPage, 'add-card', { card_number: '5555555555554444' });
    expect(done.url).toBe('https://shop.example/card-updated');

    const cancelSession = await t.stripe.billingPortal.sessions.create({
      customer: customer.id,
      return_url: 'https://shop.example/account',
      flow_data: {
        type: 'subscription_cancel',
        subscription_cancel: { subscription: sub.id },
        after_completion: { type: 'hosted_confirmation', hosted_confirmation: { custom_message: 'See you soon' } },
      },
    });
    const cancelPage = await visit(cancelSession.url);
    const confirmation = await press(cancelPage, `cancel-${sub.id}`);
    expect(confirmation.html).toContain('See you soon');
    expect((await t.stripe.subscriptions.retrieve(sub.id)).cancel_at_period_end).toBe(true);

    const other = await t.stripe.customers.create({ email: 'other@example.com' });
    await expect(
      t.stripe.billingPortal.sessions.create({
        customer: other.id,
        return_url: 'https://shop.example',
        flow_data: { type: 'subscription_cancel', subscription_cancel: { subscription: sub.id } },
      }),
    ).rejects.toMatchObject({ statusCode: 400 });
  });

  it('an expired session URL no longer works', async () => {
    const { customer } = await subscribed();
    const session = await t.stripe.billingPortal.sessions.create({ customer: customer.id, return_url: 'https://shop.example/account' });
    await t.advance(3601);
    const page = await visit(session.url);
    expect(page.status).toBe(404);
    expect(hasTestId(page, 'portal-expired')).toBe(true);
  });
});
