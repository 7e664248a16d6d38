/**
 * Renewals, dunning and trials on the emulator clock (issue #11 point 8, and trials of point 6),
 * through the real SDK: the renewal is attempted an hour after the period ends; a failed renewal
 * is retried 1, 3, 5, 7, 9, 11 and 14 days after its first attempt (the Smart Retries stand-in of
 * src/emulator/resources/billing/dunning.ts); then the subscription is canceled or marked unpaid
 * per `POST /_emulator/billing/settings`. `trial_end` on create and `trial_will_end` 3 days before.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type Stripe from 'stripe';
import { useTestEmulator, monthlyPrice, platformEvents } from './helpers.ts';

const DAY = 86_400;
const RETRY_DAYS = [1, 3, 5, 7, 9, 11, 14];

const t = useTestEmulator();
let monthly: Stripe.Price;

beforeAll(async () => {
  monthly = await monthlyPrice(t, 'Flowers');
});

const advanceTo = (to: number): Promise<unknown> => t.control('/_emulator/clock/advance', { to });
const emulatorNow = async (): Promise<number> => (await t.control<{ now: number }>('/_emulator/clock')).now;

async function eventsFor(id: string, after: number): Promise<Stripe.Event[]> {
  return (await platformEvents(t, { after })).filter((e) => (e.data.object as { id?: string; subscription?: string }).id === id);
}

/** A subscription paid with 4242 whose customer's default card is then swapped to 0341 (every charge declines). */
async function subscriptionThatWillFail(): Promise<{ sub: Stripe.Subscription; periodEnd: number }> {
  const customer = await t.stripe.customers.create({ email: 'dunning@example.com' });
  const good = await t.stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
  await t.stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: good.id } });
  const sub = await t.stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }] });
  expect(sub.status).toBe('active');
  const bad = await t.stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: customer.id });
  await t.stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: bad.id } });
  return { sub, periodEnd: sub.items.data[0]?.current_period_end ?? 0 };
}

/** Renew (the invoice is attempted an hour after the period end) and fail; returns the open renewal invoice. */
async function failRenewal(sub: Stripe.Subscription, periodEnd: number): Promise<Stripe.Invoice> {
  await advanceTo(periodEnd + 60);
  const draft = await t.stripe.invoices.retrieve(String((await t.stripe.subscriptions.retrieve(sub.id)).latest_invoice));
  expect(draft).toMatchObject({ status: 'draft', billing_reason: 'subscription_cycle', attempted: false, attempt_count: 0 });
  await advanceTo(periodEnd + 3600 + 1);
  const failed = await t.stripe.invoices.retrieve(draft.id);
  expect(failed).toMatchObject({ status: 'open', attempted: true, attempt_count: 1 });
  expect((await t.stripe.subscriptions.retrieve(sub.id)).status).toBe('past_due');
  return failed;
}

/** Walk the retry schedule; returns the time of the first attempt. */
async function exhaustRetries(invoice: Stripe.Invoice): Promise<number> {
  const first = (invoice.next_payment_attempt ?? 0) - RETRY_DAYS[0]! * DAY;
  for (const [i, days] of RETRY_DAYS.entries()) {
    const inv = await t.stripe.invoices.retrieve(invoice.id);
    expect({ retry: i + 1, at: inv.next_payment_attempt }).toEqual({ retry: i + 1, at: first + days * DAY });
    // Nothing happens a minute early; the retry runs at its time.
    await advanceTo(first + days * DAY - 60);
    expect((await t.stripe.invoices.retrieve(invoice.id)).attempt_count).toBe(i + 1);
    await advanceTo(first + days * DAY);
    expect((await t.stripe.invoices.retrieve(invoice.id)).attempt_count).toBe(i + 2);
  }
  return first;
}

describe('dunning', () => {
  it('retries on days 1, 3, 5, 7, 9, 11 and 14, then cancels (the default setting); the invoice stays open', async () => {
    expect(await t.control('/_emulator/billing/settings')).toMatchObject({ subscription_after_retries: 'cancel', invoice_after_retries: 'past_due' });
    const { sub, periodEnd } = await subscriptionThatWillFail();
    const mark = t.receiver.received.length;
    const invoice = await failRenewal(sub, periodEnd);
    await exhaustRetries(invoice);
    const after = await t.stripe.invoices.retrieve(invoice.id);
    expect(after).toMatchObject({ status: 'open', attempt_count: 8, next_payment_attempt: null });
    const ended = await t.stripe.subscriptions.retrieve(sub.id);
    expect(ended).toMatchObject({ status: 'canceled', cancellation_details: { reason: 'payment_failed' } });
    const failures = (await eventsFor(invoice.id, mark)).filter((e) => e.type === 'invoice.payment_failed');
    expect(failures).toHaveLength(8);
    expect((await eventsFor(sub.id, mark)).map((e) => e.type)).toContain('customer.subscription.deleted');
  });

  it("subscription_after_retries: 'unpaid' and invoice_after_retries: 'uncollectible'; an unpaid subscription's next invoice is not attempted", async () => {
    await t.control('/_emulator/billing/settings', { subscription_after_retries: 'unpaid', invoice_after_retries: 'uncollectible' });
    try {
      const { sub, periodEnd } = await subscriptionThatWillFail();
      const mark = t.receiver.received.length;
      const invoice = await failRenewal(sub, periodEnd);
      await exhaustRetries(invoice);
      expect(await t.stripe.invoices.retrieve(invoice.id)).toMatchObject({ status: 'uncollectible', attempt_count: 8 });
      expect((await eventsFor(invoice.id, mark)).map((e) => e.type)).toContain('invoice.marked_uncollectible');
      const unpaid = await t.stripe.subscriptions.retrieve(sub.id);
      expect(unpaid.status).toBe('unpaid');
      // The next period is still invoiced, but Stripe does not try to collect from an unpaid subscription.
      const nextEnd = unpaid.items.data[0]?.current_period_end ?? 0;
      await advanceTo(nextEnd + 2 * 3600);
      const next = await t.stripe.invoices.retrieve(String((await t.stripe.subscriptions.retrieve(sub.id)).latest_invoice));
      expect(next.id).not.toBe(invoice.id);
      expect(next).toMatchObject({ status: 'open', attempted: false, attempt_count: 0 });
    } finally {
      await t.control('/_emulator/billing/settings', { subscription_after_retries: 'cancel', invoice_after_retries: 'past_due' });
    }
  });

  it('refuses settings it does not know', async () => {
    await expect(t.control('/_emulator/billing/settings', { subscription_after_retries: 'delete' })).rejects.toThrow(/400/);
  });
});

describe('trials with trial_end', () => {
  it('trial_end on create: trialing until then, trial_will_end exactly 3 days before, then active and charged', async () => {
    const customer = await t.stripe.customers.create({ email: 'trial-end@example.com' });
    const pm = await t.stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    await t.stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: pm.id } });
    const trialEnd = (await emulatorNow()) + 10 * DAY;
    const mark = t.receiver.received.length;
    const sub = await t.stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }], trial_end: trialEnd, expand: ['latest_invoice'] });
    expect(sub).toMatchObject({ status: 'trialing', trial_end: trialEnd });
    expect(sub.items.data[0]?.current_period_end).toBe(trialEnd);
    expect(sub.latest_invoice).toMatchObject({ status: 'paid', amount_due: 0 });

    await advanceTo(trialEnd - 3 * DAY - 60);
    expect((await eventsFor(sub.id, mark)).map((e) => e.type)).not.toContain('customer.subscription.trial_will_end');
    await advanceTo(trialEnd - 3 * DAY);
    const willEnd = (await eventsFor(sub.id, mark)).filter((e) => e.type === 'customer.subscription.trial_will_end');
    expect(willEnd).toHaveLength(1);
    expect(willEnd[0]?.created).toBeGreaterThanOrEqual(trialEnd - 3 * DAY);
    expect(willEnd[0]?.data.object).toMatchObject({ status: 'trialing', trial_end: trialEnd });

    await advanceTo(trialEnd + 3600 + 1);
    const after = await t.stripe.subscriptions.retrieve(sub.id, { expand: ['latest_invoice'] });
    expect(after.status).toBe('active');
    expect(after.latest_invoice).toMatchObject({ status: 'paid', amount_paid: 2000, billing_reason: 'subscription_cycle' });
    expect((await eventsFor(sub.id, mark)).filter((e) => e.type === 'customer.subscription.trial_will_end')).toHaveLength(1);
  });

  it('a trial shorter than 3 days sends trial_will_end at once; a trial_end in the past is refused', async () => {
    const customer = await t.stripe.customers.create({ email: 'short-trial@example.com' });
    const mark = t.receiver.received.length;
    const now = await emulatorNow();
    const sub = await t.stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }], trial_end: now + 2 * DAY });
    expect(sub.status).toBe('trialing');
    expect((await eventsFor(sub.id, mark)).map((e) => e.type)).toContain('customer.subscription.trial_will_end');
    const err = (await t.stripe.subscriptions
      .create({ customer: customer.id, items: [{ price: monthly.id }], trial_end: now - 60 })
      .catch((e: unknown) => e)) as Stripe.errors.StripeError;
    expect({ status: err.statusCode, param: err.param }).toEqual({ status: 400, param: 'trial_end' });
  });
});

describe('invoice.upcoming', () => {
  it('is sent upcoming_days (7) before a renewal, once, as an invoice without an id', async () => {
    const customer = await t.stripe.customers.create({ email: 'upcoming@example.com' });
    const pm = await t.stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    await t.stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: pm.id } });
    const sub = await t.stripe.subscriptions.create({ customer: customer.id, items: [{ price: monthly.id }] });
    const end = sub.items.data[0]?.current_period_end ?? 0;
    await t.flush();
    const mark = t.receiver.received.length;
    const upcoming = async (): Promise<Stripe.Event[]> => {
      await t.flush();
      return t.receiver
        .events(t.stripe)
        .slice(mark)
        .filter((e) => e.type === 'invoice.upcoming' && e.data.object.parent?.subscription_details?.subscription === sub.id);
    };
    await advanceTo(end - 7 * DAY - 60);
    expect(await upcoming()).toHaveLength(0);
    await advanceTo(end - 7 * DAY);
    await advanceTo(end - 6 * DAY);
    const sent = await upcoming();
    expect(sent).toHaveLength(1);
    const preview = sent[0]?.data.object as Stripe.Invoice;
    expect('id' in preview).toBe(false);
    expect(preview).toMatchObject({ customer: customer.id, amount_due: 2000, billing_reason: 'upcoming' });
  });
});
