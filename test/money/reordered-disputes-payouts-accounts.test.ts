// The dispute, payout and account families, delivered in order, reversed and in seeded shuffles
// (see ./reordering.ts): every order reaches the same final state. For disputes "the same" is the
// outcome and the money: a won dispute seen closed first recovers nothing and repays nothing, seen
// in order it recovers and then repays — either way the seller ends up owing nothing, at Stripe
// and in our books.
import { randomUUID } from 'node:crypto';
import { requestManualPayout } from '../../src/payouts/use-cases.ts';
import { ensureConnectedAccount } from '../../src/sellers/use-cases.ts';
import { createTestUser } from '../helpers/app.ts';
import { describeFamily } from './reordering.ts';
import { useWorld } from '../helpers/fixture.ts';
import { createPaidOrder, createPendingOrder, createSeller, orderRow, useSeller } from '../helpers/market.ts';

const w = useWorld({ webhooks: true, admin: true });
const seller = useSeller(w, { manualPayouts: true });

/** A disputed payment (pm_card_createDispute), decided at Stripe by the evidence words, all its events held. */
async function decidedDispute(evidence: 'winning_evidence' | 'losing_evidence') {
  const order = await createPendingOrder(w, seller, 6_000);
  await w.events.hold();
  const intent = await w.stripe.paymentIntents.confirm(order.stripe_payment_intent_id!, { payment_method: 'pm_card_createDispute' });
  const disputeId = (await w.stripe.disputes.list({ payment_intent: intent.id })).data[0]!.id;
  await w.stripe.disputes.update(disputeId, { evidence: { uncategorized_text: evidence }, submit: true });
  const events = await w.events.held(true);
  return {
    events,
    state: async () => {
      const d = await w.db.selectFrom('disputes').selectAll().where('id', '=', disputeId).executeTakeFirstOrThrow();
      const o = await orderRow(w.db, order.id);
      const transfer = await w.stripe.transfers.retrieve(o.stripe_transfer_id!);
      const repaid = (await w.stripe.transfers.list({ destination: seller.accountId, limit: 100 })).data
        .filter((t) => t.metadata?.dispute_id === disputeId)
        .reduce((sum, t) => sum + t.amount, 0);
      return {
        dispute: {
          status: d.status,
          owed_by_seller: d.recovered_amount - d.repaid_amount,
          funds_withdrawn: d.funds_withdrawn,
          funds_reinstated: d.funds_reinstated,
          evidence_submitted: d.evidence_submitted,
        },
        order: { status: o.status, dispute_status: o.dispute_status },
        at_stripe: { taken_from_seller: transfer.amount_reversed - repaid },
      };
    },
  };
}

const disputeEvents = ['charge.dispute.created', 'charge.dispute.funds_withdrawn', 'charge.dispute.updated', 'charge.dispute.closed'];

describeFamily(
  'disputes (won)',
  () => w,
  () => decidedDispute('winning_evidence'),
  {
    dispute: { status: 'won', owed_by_seller: 0, funds_withdrawn: true, funds_reinstated: true, evidence_submitted: true },
    order: { status: 'paid', dispute_status: 'won' },
    at_stripe: { taken_from_seller: 0 },
  },
  { mustInclude: [...disputeEvents, 'charge.dispute.funds_reinstated'] },
);

describeFamily(
  'disputes (lost)',
  () => w,
  () => decidedDispute('losing_evidence'),
  {
    dispute: { status: 'lost', owed_by_seller: 6_000, funds_withdrawn: true, funds_reinstated: false, evidence_submitted: true },
    order: { status: 'paid', dispute_status: 'lost' },
    at_stripe: { taken_from_seller: 6_000 },
  },
  { mustInclude: disputeEvents },
);

describeFamily(
  'payouts (one paid, one canceled)',
  () => w,
  async () => {
    const payee = await createSeller(w, { manualPayouts: true }); // a balance of its own: the disputes above take money back from `seller`
    await createPaidOrder(w, payee, { amount: 5_000 }); // available at once
    await w.events.hold();
    const paid = await requestManualPayout(w.db, w.stripe, w.actor, { requestId: randomUUID(), sellerId: payee.user.id, amount: '20.00', currency: 'usd' });
    const canceled = await requestManualPayout(w.db, w.stripe, w.actor, { requestId: randomUUID(), sellerId: payee.user.id, amount: '10.00', currency: 'usd' });
    await w.stripe.payouts.cancel(canceled.payout!.id, {}, { stripeAccount: payee.accountId });
    await w.emu.advanceClock(86_400); // standard payouts arrive at the next UTC midnight
    const events = await w.events.held(true);
    const ids = [paid.payout!.id, canceled.payout!.id];
    return {
      events,
      state: async () =>
        (await w.db.selectFrom('payouts').select(['id', 'amount', 'status']).where('id', 'in', ids).execute())
          .sort((a, b) => ids.indexOf(a.id) - ids.indexOf(b.id))
          .map((p) => ({ amount: p.amount, status: p.status })),
    };
  },
  [
    { amount: 2_000, status: 'paid' },
    { amount: 1_000, status: 'canceled' },
  ],
  { mustInclude: ['payout.created', 'payout.paid', 'payout.canceled'] },
);

describeFamily(
  'accounts (pending verification, then requirements due, then verified)',
  () => w,
  async () => {
    const user = await createTestUser(w.db, 'seller');
    const { accountId } = await ensureConnectedAccount(w.db, w.stripe, { sellerId: user.id, country: 'US', email: user.email });
    await w.events.hold();
    for (const outcome of ['pending_verification', 'requirements_due', 'verified']) {
      await w.emu.control('POST', `/_emulator/accounts/${accountId}/onboarding`, { outcome });
      await w.emu.advanceClock(2); // a second apart, as Stripe's own events usually are (ties are re-read)
    }
    return {
      events: await w.events.held(true),
      state: async () =>
        w.db
          .selectFrom('sellers')
          .select(['account_state', 'charges_enabled', 'payouts_enabled', 'details_submitted', 'disabled_reason', 'requirements_deadline'])
          .where('stripe_account_id', '=', accountId)
          .executeTakeFirstOrThrow(),
    };
  },
  {
    account_state: 'enabled',
    charges_enabled: true,
    payouts_enabled: true,
    details_submitted: true,
    disabled_reason: null,
    requirements_deadline: null,
  },
  { mustInclude: ['account.updated', 'capability.updated'] },
);
