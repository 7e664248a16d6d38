// Different refund forms for one order submitted at once (two admins, two tabs): the amount check and
// the `requested` row are made under the order's row lock, so together they never exceed the order
// and only the allowed total ever reaches Stripe — not leaning on Stripe's own limit.
//
// "At once" is made certain rather than hoped for: the test holds the order's row lock from its own
// connection while the forms are posted, waits until every request's transaction is blocked behind
// it, then lets go. With the lock in the use case they queue at the lock and each sees the ones
// before it; without it they all pass the check before any commits (their refund inserts wait on
// the same row through the foreign key), and every one of them reaches Stripe.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { isPglite } from '../helpers/database.ts';
import { useWorld } from '../helpers/fixture.ts';
import { createPaidOrder, orderRow, refundRows, useSeller } from '../helpers/market.ts';

const w = useWorld({ webhooks: true, admin: true });
const seller = useSeller(w, { manualPayouts: true });

/** Runs `submit` while this test holds the order's row lock; lets go once `waiters` transactions wait on it. */
async function allAtOnce<T>(orderId: string, waiters: number, submit: () => Promise<T>): Promise<T> {
  const gate = new pg.Client({ connectionString: w.database.url! });
  await gate.connect();
  try {
    await gate.query('begin');
    await gate.query('select id from orders where id = $1 for update', [orderId]);
    const pid = (await gate.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
    const submitted = submit();
    for (;;) {
      // Inside a transaction pg_stat_activity is a snapshot taken at first use: take a fresh one.
      await gate.query('select pg_stat_clear_snapshot()');
      // Waiting behind us, directly or behind another waiter for the same row.
      const waiting = await gate.query<{ n: number }>(
        "select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> $1 and wait_event_type = 'Lock' and cardinality(pg_blocking_pids(pid)) > 0",
        [pid],
      );
      if (waiting.rows[0]!.n >= waiters) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await gate.query('commit');
    return await submitted;
  } finally {
    await gate.end();
  }
}

/** N different refund forms (each its own nonce) for `amount` each, posted together through the admin's confirm step. */
async function refundForms(orderId: string, count: number, amount: string) {
  const ids = Array.from({ length: count }, () => randomUUID());
  const responses = await allAtOnce(orderId, count, () =>
    Promise.all(
      ids.map((id) =>
        w.admin.post(`/admin/orders/${orderId}/refunds`, {
          refund_id: id,
          amount,
          reverse_transfer: 'on',
          refund_application_fee: 'on',
          confirm: 'yes',
        }),
      ),
    ),
  );
  await w.settle();
  const sentToStripe = (await w.emu.requests('/v1/refunds')).filter((r) => ids.some((id) => r.idempotency_key === `refund:${id}`));
  return {
    statuses: responses.map((r) => r.statusCode).sort(),
    bodies: responses.map((r) => r.body),
    sentToStripe: new Set(sentToStripe.map((r) => r.idempotency_key)).size,
  };
}

async function refundedAtStripe(orderId: string): Promise<number> {
  const order = await orderRow(w.db, orderId);
  return (await w.stripe.charges.retrieve(order.stripe_charge_id!)).amount_refunded;
}

describe.skipIf(isPglite())('concurrent refund forms on a 100.00 order', () => {
  it('two within the bound (40.00 each): both are made', async () => {
    const order = await createPaidOrder(w, seller, { amount: 10_000 });
    const result = await refundForms(order.id, 2, '40.00');
    expect(result.statuses).toEqual([303, 303]);
    expect(result.sentToStripe).toBe(2);
    expect(await refundedAtStripe(order.id)).toBe(8_000);
    expect(await orderRow(w.db, order.id)).toMatchObject({ status: 'partially_refunded', amount_refunded: 8_000 });
  });

  it('two beyond the bound (60.00 each): one is made, the other refused before Stripe', async () => {
    const order = await createPaidOrder(w, seller, { amount: 10_000 });
    const result = await refundForms(order.id, 2, '60.00');
    expect(result.statuses).toEqual([303, 422]);
    expect(result.bodies.some((b) => b.includes('You can refund at most $40.00'))).toBe(true);
    expect(result.sentToStripe).toBe(1);
    expect(await refundedAtStripe(order.id)).toBe(6_000);
    expect((await refundRows(w.db, order.id)).map((r) => [r.amount, r.status])).toEqual([[6_000, 'succeeded']]);
  });

  it('ten within the bound (10.00 each): all ten are made and the order is refunded', async () => {
    const order = await createPaidOrder(w, seller, { amount: 10_000 });
    const result = await refundForms(order.id, 10, '10.00');
    expect(result.statuses).toEqual(Array(10).fill(303));
    expect(result.sentToStripe).toBe(10);
    expect(await refundedAtStripe(order.id)).toBe(10_000);
    expect(await orderRow(w.db, order.id)).toMatchObject({ status: 'refunded', amount_refunded: 10_000 });
  });

  it('ten beyond the bound (15.00 each): six are made, four refused, and only 90.00 reaches Stripe', async () => {
    const order = await createPaidOrder(w, seller, { amount: 10_000 });
    const result = await refundForms(order.id, 10, '15.00');
    expect(result.statuses).toEqual([...Array(6).fill(303), ...Array(4).fill(422)]);
    expect(result.sentToStripe).toBe(6);
    expect(await refundedAtStripe(order.id)).toBe(9_000);
    const rows = await refundRows(w.db, order.id);
    expect(rows.filter((r) => r.status === 'succeeded').length).toBe(6);
    expect(rows.reduce((sum, r) => sum + r.amount, 0)).toBe(9_000);
    expect(await orderRow(w.db, order.id)).toMatchObject({ status: 'partially_refunded', amount_refunded: 9_000 });
  });
});
