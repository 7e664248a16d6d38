// A dispute whose first event to reach us is `charge.dispute.closed` — the others were lost in an
// outage, or are still queued behind it. Lost: the policy still recovers the disputed amount from
// the seller (a transfer reversal keyed by the dispute), once, even when the older events follow.
// Won: nothing is recovered and nothing is repaid, before or after the older events.
import { describe, expect, it } from 'vitest';
import { useWorld } from '../helpers/fixture.ts';
import { createPendingOrder, disputeRow, orderRow, useSeller } from '../helpers/market.ts';
import type { HeldEvent } from '../helpers/stripe-events.ts';

const w = useWorld({ webhooks: true, admin: true });
const seller = useSeller(w, { manualPayouts: true });

/** A paid, disputed order whose dispute Stripe has already decided; every event about it held. */
async function decided(evidence: 'winning_evidence' | 'losing_evidence', amount: number) {
  const order = await createPendingOrder(w, seller, amount);
  await w.events.hold();
  const intent = await w.stripe.paymentIntents.confirm(order.stripe_payment_intent_id!, { payment_method: 'pm_card_createDispute' });
  const disputeId = (await w.stripe.disputes.list({ payment_intent: intent.id })).data[0]!.id;
  await w.stripe.disputes.update(disputeId, { evidence: { uncategorized_text: evidence }, submit: true });
  const events = await w.events.held(true);
  await w.events.release();
  const closed = events.filter((e) => e.type === 'charge.dispute.closed');
  expect(closed).toHaveLength(1);
  return { orderId: order.id, disputeId, closed: closed[0]!, others: events.filter((e) => e.type !== 'charge.dispute.closed') };
}

async function reversalsFor(transferId: string, disputeId: string) {
  return (await w.stripe.transfers.listReversals(transferId, { limit: 100 })).data.filter((r) => r.metadata?.dispute_id === disputeId);
}

async function transferIdOf(orderId: string, intentEvents: HeldEvent[]): Promise<string> {
  const order = await orderRow(w.db, orderId);
  if (order.stripe_transfer_id !== null) return order.stripe_transfer_id;
  const event = JSON.parse(intentEvents.find((e) => e.type === 'charge.succeeded')!.payload) as { data: { object: { id: string } } };
  const charge = await w.stripe.charges.retrieve(event.data.object.id);
  return String(charge.transfer);
}

describe('the first event of a dispute is charge.dispute.closed', () => {
  it('lost: the disputed amount is recovered from the seller at once, and once only when the older events follow', async () => {
    const d = await decided('losing_evidence', 6_500);
    await w.events.deliver([d.closed]); // alone: the order is not even marked paid yet
    const transferId = await transferIdOf(d.orderId, d.others);
    expect(await disputeRow(w.db, d.disputeId)).toMatchObject({ status: 'lost', recovered_amount: 6_500, order_id: d.orderId });
    expect((await reversalsFor(transferId, d.disputeId)).map((r) => r.amount)).toEqual([6_500]);
    expect((await w.stripe.transfers.retrieve(transferId)).amount_reversed).toBe(6_500);

    await w.events.deliver(d.others);
    await w.settle();
    expect(await disputeRow(w.db, d.disputeId)).toMatchObject({ status: 'lost', recovered_amount: 6_500, repaid_amount: 0 });
    expect((await reversalsFor(transferId, d.disputeId)).map((r) => r.amount)).toEqual([6_500]);
    expect(await orderRow(w.db, d.orderId)).toMatchObject({ status: 'paid', dispute_status: 'lost' });
  });

  it('won: nothing is recovered and nothing repaid, before or after the older events', async () => {
    const d = await decided('winning_evidence', 5_500);
    await w.events.deliver([d.closed]);
    const transferId = await transferIdOf(d.orderId, d.others);
    expect(await disputeRow(w.db, d.disputeId)).toMatchObject({
      status: 'won',
      recovered_amount: 0,
      repaid_amount: 0,
      recovery_reversal_id: null,
      repayment_transfer_id: null,
    });

    await w.events.deliver(d.others);
    await w.settle();
    expect(await disputeRow(w.db, d.disputeId)).toMatchObject({ status: 'won', recovered_amount: 0, repaid_amount: 0 });
    expect(await reversalsFor(transferId, d.disputeId)).toEqual([]);
    expect((await w.stripe.transfers.retrieve(transferId)).amount_reversed).toBe(0);
    const repayments = (await w.stripe.transfers.list({ destination: seller.accountId, limit: 100 })).data.filter(
      (t) => t.metadata?.dispute_id === d.disputeId,
    );
    expect(repayments).toEqual([]);
    expect(await orderRow(w.db, d.orderId)).toMatchObject({ status: 'paid', dispute_status: 'won' });
  });

  it('lost, with only the closed event ever arriving: still recovered, and the order knows of its dispute', async () => {
    const d = await decided('losing_evidence', 4_000);
    await w.events.deliver([d.closed]);
    const transferId = await transferIdOf(d.orderId, d.others);
    expect(await disputeRow(w.db, d.disputeId)).toMatchObject({ status: 'lost', recovered_amount: 4_000 });
    expect((await w.stripe.transfers.retrieve(transferId)).amount_reversed).toBe(4_000);
    expect(await orderRow(w.db, d.orderId)).toMatchObject({ dispute_status: 'lost' });
  });
});
