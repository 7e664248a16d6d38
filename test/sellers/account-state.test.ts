// deriveAccountState as a table (every state, and the orderings between them), and the freshness
// rule of recordAccountSnapshot against a real database: an older snapshot never wins.
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { deriveAccountState, describeRequirements, factsFromStored } from '../../src/sellers/account-state.ts';
import { ensureSeller, recordAccountSnapshot } from '../../src/sellers/queries.ts';
import { ensureConnectedAccount, syncAccountFromStripe } from '../../src/sellers/use-cases.ts';
import { createTestUser } from '../helpers/app.ts';
import { useDatabase, useWorld } from '../helpers/fixture.ts';

type Req = Partial<Stripe.Account.Requirements>;

function account(fields: { details?: boolean; charges?: boolean; payouts?: boolean; caps?: Record<string, string>; req?: Req; id?: string }): Stripe.Account {
  return {
    id: fields.id ?? 'acct_test',
    object: 'account',
    details_submitted: fields.details ?? true,
    charges_enabled: fields.charges ?? false,
    payouts_enabled: fields.payouts ?? false,
    capabilities: (fields.caps ?? { card_payments: 'active', transfers: 'active' }) as Stripe.Account.Capabilities,
    requirements: {
      alternatives: [],
      current_deadline: null,
      currently_due: [],
      disabled_reason: null,
      errors: [],
      eventually_due: [],
      past_due: [],
      pending_verification: [],
      ...fields.req,
    } as Stripe.Account.Requirements,
  } as Stripe.Account;
}

const DEADLINE = 1_900_000_000;

describe('deriveAccountState', () => {
  const cases: [string, Stripe.Account | null, string, string][] = [
    ['no account at all', null, 'not_started', 'set_up_payouts'],
    [
      'just created: form not submitted, everything past due',
      account({
        details: false,
        caps: { card_payments: 'inactive', transfers: 'inactive' },
        req: {
          currently_due: ['business_type', 'external_account'],
          past_due: ['business_type', 'external_account'],
          disabled_reason: 'requirements.past_due',
        },
      }),
      'onboarding_incomplete',
      'continue_onboarding',
    ],
    ['form not submitted, nothing listed yet', account({ details: false, caps: {} }), 'onboarding_incomplete', 'continue_onboarding'],
    ['verified: charges and payouts on, capabilities active', account({ charges: true, payouts: true }), 'enabled', 'none'],
    ['enabled with only eventually_due items', account({ charges: true, payouts: true, req: { eventually_due: ['individual.id_number'] } }), 'enabled', 'none'],
    [
      'enabled while Stripe re-verifies something in the background',
      account({ charges: true, payouts: true, req: { pending_verification: ['individual.address.line1'] } }),
      'enabled',
      'none',
    ],
    [
      'submitted, Stripe verifying identity (capabilities pending)',
      account({
        caps: { card_payments: 'pending', transfers: 'pending' },
        req: { pending_verification: ['individual.id_number'], disabled_reason: 'requirements.pending_verification' },
      }),
      'pending_verification',
      'wait',
    ],
    [
      'submitted, under review',
      account({ caps: { card_payments: 'inactive', transfers: 'inactive' }, req: { disabled_reason: 'under_review' } }),
      'pending_verification',
      'wait',
    ],
    [
      'document due before a deadline while charges still work',
      account({ charges: true, payouts: true, req: { currently_due: ['individual.verification.document'], current_deadline: DEADLINE } }),
      'restricted',
      'fix_requirements',
    ],
    [
      'past due: charges off',
      account({
        caps: { card_payments: 'inactive', transfers: 'inactive' },
        req: { past_due: ['external_account'], currently_due: ['external_account'], disabled_reason: 'requirements.past_due' },
      }),
      'restricted',
      'fix_requirements',
    ],
    [
      'paused by the platform',
      account({ caps: { card_payments: 'inactive', transfers: 'inactive' }, req: { disabled_reason: 'platform_paused' } }),
      'restricted',
      'contact_support',
    ],
    [
      'transfers capability inactive without a listed requirement',
      account({ charges: true, payouts: true, caps: { card_payments: 'active', transfers: 'inactive' } }),
      'restricted',
      'fix_requirements',
    ],
    [
      'rejected',
      account({ caps: { card_payments: 'inactive', transfers: 'inactive' }, req: { disabled_reason: 'rejected.other' } }),
      'rejected',
      'contact_support',
    ],
    [
      'rejected outranks an unfinished form',
      account({ details: false, req: { disabled_reason: 'rejected.fraud', currently_due: ['business_type'] } }),
      'rejected',
      'contact_support',
    ],
  ];

  it.each(cases)('%s → %s', (_name, input, state, nextStep) => {
    const view = deriveAccountState(input);
    expect(view.state).toBe(state);
    expect(view.nextStep).toBe(nextStep);
    expect(view.summary.length).toBeGreaterThan(10);
  });

  it('says what is due in plain words, past due first, with the deadline', () => {
    const view = deriveAccountState(
      account({
        charges: true,
        payouts: true,
        req: {
          past_due: ['external_account'],
          currently_due: ['individual.dob.day', 'individual.dob.month', 'individual.verification.document'],
          current_deadline: DEADLINE,
          errors: [{ code: 'verification_document_expired', reason: 'The document has expired.', requirement: 'individual.verification.document' }],
        },
      }),
    );
    expect(view.state).toBe('restricted');
    expect(view.due).toEqual(['A bank account for payouts', 'Your date of birth', 'An identity document (passport, ID card or driving licence)']);
    expect(view.problems).toEqual(['The document has expired.']);
    expect(view.deadline).toEqual(new Date(DEADLINE * 1000));
    expect(view.pastDue).toBe(true);
  });

  it('humanizes requirement paths it has no words for', () => {
    expect(describeRequirements(['settings.payments.statement_descriptor'])).toEqual(['Settings payments statement descriptor']);
  });
});

describe('recordAccountSnapshot', () => {
  const database = useDatabase();

  async function sellerWithAccount(accountId: string): Promise<string> {
    const { db } = database;
    const user = await createTestUser(db, 'seller');
    await ensureSeller(db, user.id);
    await db.updateTable('sellers').set({ stripe_account_id: accountId }).where('id', '=', user.id).execute();
    return user.id;
  }
  const stateOf = async (id: string) => database.db.selectFrom('sellers').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const record = (snapshot: Stripe.Account, at: Date) => database.db.transaction().execute((trx) => recordAccountSnapshot(trx, snapshot, at));

  const restricted = (id: string) =>
    account({ id, charges: true, payouts: true, req: { currently_due: ['individual.verification.document'], current_deadline: DEADLINE } });
  const enabled = (id: string) => account({ id, charges: true, payouts: true });

  it('an older snapshot applied after a newer one leaves the newer state', async () => {
    const sellerId = await sellerWithAccount('acct_order_1');
    const t1 = new Date('2026-11-27T00:00:01Z');
    const t2 = new Date('2026-11-27T00:00:02Z');
    expect(await record(enabled('acct_order_1'), t2)).toEqual({ applied: true });
    expect(await record(restricted('acct_order_1'), t1)).toEqual({ applied: false });
    const row = await stateOf(sellerId);
    expect(row.account_state).toBe('enabled');
    expect(row.state_observed_at).toEqual(t2);
    expect(row.requirements.currently_due).toEqual([]);
  });

  it('moves forward with newer snapshots and stores the facts behind the state', async () => {
    const sellerId = await sellerWithAccount('acct_order_2');
    await record(enabled('acct_order_2'), new Date('2026-11-27T01:00:00Z'));
    expect(await record(restricted('acct_order_2'), new Date('2026-11-27T01:00:05Z'))).toEqual({ applied: true });
    const row = await stateOf(sellerId);
    expect(row.account_state).toBe('restricted');
    expect(row.requirements.currently_due).toEqual(['individual.verification.document']);
    expect(row.requirements.capabilities).toEqual({ card_payments: 'active', transfers: 'active' });
    expect(row.requirements_deadline).toEqual(new Date(DEADLINE * 1000));
    // The stored facts re-derive to the same view (what the dashboard shows without calling Stripe).
    expect(deriveAccountState(factsFromStored(row))).toEqual(deriveAccountState(restricted('acct_order_2')));
  });

  it('ignores a duplicate with the same timestamp', async () => {
    const sellerId = await sellerWithAccount('acct_order_3');
    const at = new Date('2026-11-27T02:00:00Z');
    expect((await record(enabled('acct_order_3'), at)).applied).toBe(true);
    expect((await record(restricted('acct_order_3'), at)).applied).toBe(false);
    expect((await stateOf(sellerId)).account_state).toBe('enabled');
  });

  it('reports applied=false for an account no seller has', async () => {
    expect(await record(enabled('acct_nobody'), new Date())).toEqual({ applied: false });
  });

  it("works inside a caller's transaction, and rolls back with it", async () => {
    const sellerId = await sellerWithAccount('acct_order_4');
    await record(restricted('acct_order_4'), new Date('2026-11-27T03:00:00Z'));
    await expect(
      database.db.transaction().execute(async (trx) => {
        expect((await recordAccountSnapshot(trx, enabled('acct_order_4'), new Date('2026-11-27T03:00:09Z'))).applied).toBe(true);
        throw new Error('handler failed after recording');
      }),
    ).rejects.toThrow('handler failed');
    expect((await stateOf(sellerId)).account_state).toBe('restricted');
    await database.db.transaction().execute(async (trx) => {
      await recordAccountSnapshot(trx, enabled('acct_order_4'), new Date('2026-11-27T03:00:09Z'));
    });
    expect((await stateOf(sellerId)).account_state).toBe('enabled');
  });
});

describe('syncAccountFromStripe', () => {
  const w = useWorld({ emulator: true });

  it('a fresh read wins over a stored snapshot stamped ahead of our clock (Stripe clock ahead, e.g. an advanced emulator)', async () => {
    const user = await createTestUser(w.db, 'seller');
    const { accountId } = await ensureConnectedAccount(w.db, w.stripe, { sellerId: user.id, country: 'US', email: user.email });
    // An event from an hour "ahead" recorded the account as still incomplete.
    const incomplete = await w.stripe.accounts.retrieve(accountId);
    const ahead = new Date(Date.now() + 3600_000);
    await w.db.transaction().execute((trx) => recordAccountSnapshot(trx, incomplete, ahead));
    await w.emu.control('POST', `/_emulator/accounts/${accountId}/onboarding`, { outcome: 'verified' });
    await syncAccountFromStripe(w.db, w.stripe, accountId);
    const row = await w.db.selectFrom('sellers').selectAll().where('id', '=', user.id).executeTakeFirstOrThrow();
    expect(row.account_state).toBe('enabled');
    expect(row.state_observed_at!.getTime()).toBe(ahead.getTime() + 1);
  });
});
