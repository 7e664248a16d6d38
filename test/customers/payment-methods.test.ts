// The payment-methods page (issue 12, point 2) over HTTP against the emulator and PostgreSQL: add a
// card on this site (Payment Element + SetupIntent, with and without the bank's challenge), list,
// choose the default, remove after a confirmation; errors in plain words.
import { describe, expect, it } from 'vitest';
import { TEST_PASSWORD } from '../helpers/app.ts';
import { addCard, confirmSetupWithCard, listedCards, openCardSetup } from './helpers.ts';
import { useWorld } from '../helpers/fixture.ts';
import { answerChallenge, localPath, payOnCheckoutPage } from '../helpers/hosted-pages.ts';

const w = useWorld({ emulator: true });

async function customerOf(buyerId: string): Promise<string> {
  const row = await w.db.selectFrom('buyer_customers').select('stripe_customer_id').where('buyer_id', '=', buyerId).executeTakeFirstOrThrow();
  return row.stripe_customer_id!;
}

describe('adding a card on this site (Payment Element + SetupIntent)', () => {
  it("saves a 4242 card: an off-session SetupIntent on the buyer's Customer; listed with brand, last 4, expiry; the first card is the default", async () => {
    const buyer = await w.signIn('buyer');
    const empty = await buyer.client.get('/account/payment-methods');
    expect(empty.body).toContain('data-testid="no-cards"');

    const { setupId, page } = await openCardSetup(buyer.client);
    expect(page.script).toBe(`${w.emu.url}/js/v3.js`);
    const intentId = page.clientSecret.slice(0, page.clientSecret.indexOf('_secret_'));
    const intent = await w.stripe.setupIntents.retrieve(intentId);
    const customerId = await customerOf(buyer.userId);
    expect(intent).toMatchObject({
      customer: customerId,
      usage: 'off_session',
      status: 'requires_payment_method',
      metadata: { card_setup_id: setupId, buyer_id: buyer.userId },
    });

    const confirmed = await confirmSetupWithCard(page, '4242424242424242');
    expect(confirmed.body.status).toBe('succeeded');
    const done = await buyer.client.get(`/account/payment-methods/setups/${setupId}/done?setup_intent=${intentId}&redirect_status=succeeded`);
    expect(done.body).toContain('data-setup-status="succeeded"');
    expect(done.body).toMatch(/Visa •••• 4242, expires \d{2}\/\d{4} — your default card/);

    const cards = await listedCards(buyer.client);
    expect(cards).toEqual([{ pm: expect.stringMatching(/^pm_/), last4: '4242', isDefault: true }]);
    const customer = (await w.stripe.customers.retrieve(customerId)) as { invoice_settings: { default_payment_method: string } };
    expect(customer.invoice_settings.default_payment_method).toBe(cards[0]!.pm);
    // Only brand, last 4 and expiry are kept.
    const row = await w.db.selectFrom('buyer_payment_methods').selectAll().where('id', '=', cards[0]!.pm).executeTakeFirstOrThrow();
    expect(Object.keys(row).sort()).toEqual([
      'brand',
      'buyer_id',
      'created_at',
      'exp_month',
      'exp_year',
      'id',
      'last4',
      'observed_at',
      'status',
      'stripe_customer_id',
      'updated_at',
    ]);
    expect(row).toMatchObject({ brand: 'visa', last4: '4242', status: 'attached' });
  });

  it('a 3155 card asks the bank: completing the challenge saves it; failing it says why in plain words and lets the buyer try again', async () => {
    const buyer = await w.signIn('buyer');
    const failed = await addCard(buyer.client, '4000002500003155', 'fail');
    expect(failed.confirmed.body.status).toBe('requires_action');
    expect(failed.outcome).toBe('Card not saved');
    expect(failed.done.body).toContain('Your bank could not confirm it was you, so the card was not saved.');
    expect(await listedCards(buyer.client)).toEqual([]);

    // Try again on the same attempt: its SetupIntent takes another card.
    const retry = await buyer.client.get(`/account/payment-methods/setups/${failed.setupId}`);
    expect(retry.statusCode).toBe(200);
    const saved = await addCard(buyer.client, '4000002500003155', 'complete');
    expect(saved.outcome).toBe('Card saved');
    expect((await listedCards(buyer.client)).map((c) => c.last4)).toEqual(['3155']);
  });

  it('a declined card is refused at Stripe (the Element shows it); the return page reads the same from Stripe', async () => {
    const buyer = await w.signIn('buyer');
    const { setupId, page } = await openCardSetup(buyer.client);
    const confirmed = await confirmSetupWithCard(page, '4000000000000002');
    expect(confirmed.status).toBe(402);
    const done = await buyer.client.get(`/account/payment-methods/setups/${setupId}/done`);
    expect(done.body).toContain('data-setup-status="failed"');
    expect(done.body).toContain('Your bank declined this card, so it was not saved. Try another card.');
  });

  it('a double submit of "Add a card" is one attempt and one SetupIntent', async () => {
    const buyer = await w.signIn('buyer');
    const attempt = crypto.randomUUID();
    const [a, b] = await Promise.all([
      buyer.client.post('/account/payment-methods/setups', { attempt, flow: 'element' }),
      buyer.client.post('/account/payment-methods/setups', { attempt, flow: 'element' }),
    ]);
    expect([a.statusCode, b.statusCode]).toEqual([303, 303]);
    const rows = await w.db.selectFrom('card_setups').select('stripe_setup_intent_id').where('id', '=', attempt).execute();
    expect(rows).toHaveLength(1);
    const intents = await w.stripe.setupIntents.list({ customer: await customerOf(buyer.userId), limit: 100 });
    expect(intents.data.map((i) => i.id)).toEqual([rows[0]!.stripe_setup_intent_id]);
  });

  it('ten first "Add a card" presses at once make one Customer', async () => {
    const buyer = await w.signIn('buyer');
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => buyer.client.post('/account/payment-methods/setups', { attempt: crypto.randomUUID(), flow: 'element' })),
    );
    expect(responses.map((r) => r.statusCode)).toEqual(Array(10).fill(303));
    const customers: string[] = [];
    for await (const customer of w.stripe.customers.list({ limit: 100 })) if (customer.metadata.buyer_id === buyer.userId) customers.push(customer.id);
    expect(customers).toEqual([await customerOf(buyer.userId)]);
  });
});

describe('default and removal', () => {
  it('sets another card as the default (invoice_settings.default_payment_method) and removes a card after a confirmation page', async () => {
    const buyer = await w.signIn('buyer');
    await addCard(buyer.client, '4242424242424242');
    await addCard(buyer.client, '5555555555554444');
    const [first, second] = await listedCards(buyer.client);
    expect(first).toMatchObject({ last4: '4242', isDefault: true });
    expect(second).toMatchObject({ last4: '4444', isDefault: false });

    const made = await buyer.client.post('/account/payment-methods/default', { payment_method: second!.pm });
    expect(made.statusCode).toBe(303);
    const customer = (await w.stripe.customers.retrieve(await customerOf(buyer.userId))) as { invoice_settings: { default_payment_method: string } };
    expect(customer.invoice_settings.default_payment_method).toBe(second!.pm);
    expect(await listedCards(buyer.client)).toEqual([
      { ...second, isDefault: true },
      { ...first, isDefault: false },
    ]);

    const confirm = await buyer.client.get(`/account/payment-methods/${first!.pm}/remove`);
    expect(confirm.statusCode).toBe(200);
    expect(confirm.body).toContain('Remove Visa •••• 4242?');
    const removed = await buyer.client.post(`/account/payment-methods/${first!.pm}/remove`);
    expect(removed.statusCode).toBe(303);
    expect((await w.stripe.paymentMethods.retrieve(first!.pm)).customer).toBeNull();
    expect(await listedCards(buyer.client)).toEqual([{ ...second, isDefault: true }]);

    // Removing the default leaves no default (Stripe clears it; we read it back).
    await buyer.client.post(`/account/payment-methods/${second!.pm}/remove`);
    expect(await listedCards(buyer.client)).toEqual([]);
    const after = await w.db.selectFrom('buyer_customers').select('default_payment_method_id').where('buyer_id', '=', buyer.userId).executeTakeFirstOrThrow();
    expect(after.default_payment_method_id).toBeNull();
  });
});

describe('the buyer changes their name or email', () => {
  it("with the current password: saved here and on the buyer's Stripe Customer (customers.update)", async () => {
    const buyer = await w.signIn('buyer');
    await addCard(buyer.client, '4242424242424242');
    const customerId = await customerOf(buyer.userId);
    const email = `new-${buyer.userId.slice(0, 8)}@example.test`;

    const wrong = await buyer.client.post('/account/details', { email, displayName: 'New Name', password: 'not-my-password' });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.body).toContain('That is not your current password.');
    expect(await w.stripe.customers.retrieve(customerId)).toMatchObject({ email: buyer.email });

    // The name changes here; an email slipped into this form is not taken: a new email needs the
    // confirmation link sent to it (/account/email).
    const saved = await buyer.client.post('/account/details', { email, displayName: 'New Name', password: TEST_PASSWORD });
    expect(saved.statusCode).toBe(303);
    expect(await w.stripe.customers.retrieve(customerId)).toMatchObject({ email: buyer.email, name: 'New Name' });
    const account = (await buyer.client.get('/account')).body;
    expect(account).toContain(buyer.email);
    expect(account).not.toContain(email);
  });
});

describe("adding a card on Stripe's page (Checkout in setup mode)", () => {
  it("saves a 3155 card through the challenge; the return page reads the session's SetupIntent from Stripe", async () => {
    const buyer = await w.signIn('buyer');
    const setupId = crypto.randomUUID();
    const started = await buyer.client.post('/account/payment-methods/setups', { attempt: setupId, flow: 'checkout' });
    expect(started.statusCode).toBe(303);
    expect(started.location).toMatch(new RegExp(`^${w.emu.url}/hosted/checkout/cs_`));
    const sessionId = new URL(started.location!).pathname.split('/').pop()!;
    const session = await w.stripe.checkout.sessions.retrieve(sessionId);
    expect(session).toMatchObject({ mode: 'setup', customer: await customerOf(buyer.userId), currency: 'usd', metadata: { card_setup_id: setupId } });
    // The same form again is the same session.
    expect((await buyer.client.post('/account/payment-methods/setups', { attempt: setupId, flow: 'checkout' })).location).toBe(started.location);

    const paid = await payOnCheckoutPage(started.location!, '4000002500003155', buyer.email);
    let back = await answerChallenge(new URL(paid.location!, started.location).toString(), 'complete');
    // Setup mode's challenge returns to Checkout's own return page, which sends the buyer on to our success URL.
    if (back.includes('/hosted/billing_checkout/')) back = new URL((await fetch(back, { redirect: 'manual' })).headers.get('location')!, back).toString();
    expect(localPath(back)).toMatch(new RegExp(`^/account/payment-methods/setups/${setupId}/done`));
    const done = await buyer.client.get(localPath(back));
    expect(done.body).toContain('data-setup-status="succeeded"');
    expect(done.body).toContain('Visa •••• 3155');
    expect(await listedCards(buyer.client)).toEqual([{ pm: expect.stringMatching(/^pm_/), last4: '3155', isDefault: true }]);
  });

  it("leaving Stripe's page says nothing was saved", async () => {
    const buyer = await w.signIn('buyer');
    const page = await buyer.client.get('/account/payment-methods?canceled=1');
    expect(page.body).toContain('data-testid="setup-canceled"');
  });
});
