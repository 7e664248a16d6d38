// The order and refund state machines as tables: every (from, to) pair, for every source that can
// ask for a move and with or without the one backward correction, allowed or refused as the
// specification below says. The specification is written out here, independently of
// src/orders/rules.ts, so an edit to the rules that changes a single cell fails a test.
//
// Orders (src/orders/rules.ts):
//   pending ──► paid | payment_failed | canceled;  payment_failed ──► paid (a late success);
//   paid ──► partially_refunded | refunded;  partially_refunded ──► refunded;  canceled, refunded: final.
//   Backwards only as the `refund_failed` correction: refunded ──► partially_refunded | paid,
//   partially_refunded ──► paid. Who asks (webhook, completion page, checkout, reconciler, admin)
//   changes nothing.
// Refunds (src/refunds/rules.ts): a Stripe snapshot replaces the stored one when it was observed
// later; on the same instant when its status is at least as far along (requested/rejected <
// pending/requires_action < succeeded < failed/canceled); never when observed earlier.
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import type { OrderStatus, OrderTransitionSource, RefundStatus } from '../../src/db/schema.ts';
import { transitionOrder } from '../../src/orders/queries.ts';
import { canTransition } from '../../src/orders/rules.ts';
import { isNewerSnapshot, refundStageFor } from '../../src/refunds/rules.ts';
import { useWorld } from '../helpers/fixture.ts';
import { createPendingOrder, createSeller } from '../helpers/market.ts';

const ORDER_STATUSES: OrderStatus[] = ['pending', 'paid', 'payment_failed', 'canceled', 'partially_refunded', 'refunded'];
const SOURCES: OrderTransitionSource[] = ['webhook', 'completion_page', 'checkout', 'reconcile', 'admin'];

const FORWARD: Record<OrderStatus, OrderStatus[]> = {
  pending: ['paid', 'payment_failed', 'canceled'],
  payment_failed: ['paid'],
  canceled: [],
  paid: ['partially_refunded', 'refunded'],
  partially_refunded: ['refunded'],
  refunded: [],
};
const REFUND_FAILED: Partial<Record<OrderStatus, OrderStatus[]>> = {
  refunded: ['partially_refunded', 'paid'],
  partially_refunded: ['paid'],
};

function specified(from: OrderStatus, to: OrderStatus, correction: boolean): boolean {
  return FORWARD[from].includes(to) || (correction && (REFUND_FAILED[from] ?? []).includes(to));
}

const pairs = ORDER_STATUSES.flatMap((from) => ORDER_STATUSES.map((to) => ({ from, to })));

describe('canTransition (unit): every (from, to) pair, without and with the refund_failed correction', () => {
  it.each(pairs)('$from → $to', ({ from, to }) => {
    expect(canTransition(from, to)).toBe(specified(from, to, false));
    expect(canTransition(from, to, 'refund_failed')).toBe(specified(from, to, true));
  });

  it('the table has the intended number of allowed moves (7 forward, 3 corrections)', () => {
    expect(pairs.filter(({ from, to }) => canTransition(from, to)).length).toBe(7);
    expect(pairs.filter(({ from, to }) => canTransition(from, to, 'refund_failed') && !canTransition(from, to)).length).toBe(3);
  });

  it('no status moves to itself, and nothing leaves canceled or returns to pending', () => {
    for (const s of ORDER_STATUSES) expect(canTransition(s, s, 'refund_failed')).toBe(false);
    for (const to of ORDER_STATUSES) expect(canTransition('canceled', to, 'refund_failed')).toBe(false);
    for (const from of ORDER_STATUSES) expect(canTransition(from, 'pending', 'refund_failed')).toBe(false);
  });
});

describe('transitionOrder (in PostgreSQL): every (from, to, source) with and without the correction', () => {
  const w = useWorld({ webhooks: true, admin: true });
  let orderId: string;
  beforeAll(async () => {
    orderId = (await createPendingOrder(w, await createSeller(w, { manualPayouts: true }), 1_000)).id;
  }, 60_000);

  class Rollback extends Error {}

  /** Puts the order in `from`, asks for the move, reads what happened, and rolls it all back. */
  async function attempt(from: OrderStatus, to: OrderStatus, source: OrderTransitionSource, correction: boolean) {
    let outcome: { applied: boolean; status: OrderStatus; logged: number } | undefined;
    await w.db
      .transaction()
      .execute(async (trx) => {
        await trx.updateTable('orders').set({ status: from, stock_reserved: false }).where('id', '=', orderId).execute();
        const result = await transitionOrder(trx, orderId, {
          to,
          source,
          reason: 'table test',
          ...(correction ? { correction: 'refund_failed' as const } : {}),
        });
        const logged = await trx
          .selectFrom('order_transitions')
          .select(sql<number>`count(*)::int`.as('n'))
          .where('order_id', '=', orderId)
          .where('from_status', '=', from)
          .where('to_status', '=', to)
          .where('source', '=', source)
          .executeTakeFirstOrThrow();
        outcome = { applied: result.applied, status: result.order.status, logged: logged.n };
        throw new Rollback();
      })
      .catch((error: unknown) => {
        if (!(error instanceof Rollback)) throw error;
      });
    return outcome!;
  }

  it.each(SOURCES)('source %s: each pair moves (and is logged with its source) exactly when specified', async (source) => {
    for (const { from, to } of pairs) {
      for (const correction of [false, true]) {
        const allowed = specified(from, to, correction);
        const outcome = await attempt(from, to, source, correction);
        expect({ from, to, correction, ...outcome }).toEqual({ from, to, correction, applied: allowed, status: allowed ? to : from, logged: allowed ? 1 : 0 });
      }
    }
  });
});

describe('refund snapshots: which of two is kept', () => {
  const REFUND_STATUSES: RefundStatus[] = ['requested', 'rejected', 'pending', 'requires_action', 'succeeded', 'failed', 'canceled'];
  const STAGE: Record<RefundStatus, number> = { requested: 0, rejected: 0, pending: 1, requires_action: 1, succeeded: 2, failed: 3, canceled: 3 };
  const t = new Date('2026-11-30T12:00:00Z');
  const cells = REFUND_STATUSES.flatMap((stored) => REFUND_STATUSES.map((incoming) => ({ stored, incoming })));

  it.each(cells)('stored $stored, incoming $incoming: later replaces, earlier never, same instant by stage', ({ stored, incoming }) => {
    const row = { observed_at: t, status: stored };
    expect(isNewerSnapshot(row, new Date(t.getTime() + 1_000), incoming)).toBe(true);
    expect(isNewerSnapshot(row, new Date(t.getTime() - 1_000), incoming)).toBe(false);
    expect(isNewerSnapshot(row, t, incoming)).toBe(STAGE[incoming] >= STAGE[stored]);
    expect(isNewerSnapshot({ observed_at: null, status: stored }, new Date(0), incoming)).toBe(true);
  });

  it('a stale succeeded never overwrites a failed refund; a failed one always overwrites succeeded of the same instant', () => {
    expect(isNewerSnapshot({ observed_at: t, status: 'failed' }, t, 'succeeded')).toBe(false);
    expect(isNewerSnapshot({ observed_at: t, status: 'succeeded' }, t, 'failed')).toBe(true);
  });
});

describe('refundStageFor: where the order goes for a refunded total', () => {
  const amount = 10_000;
  const rows: [OrderStatus, number, { to: string; correction: boolean } | undefined][] = [
    ['paid', 0, undefined],
    ['paid', 1, { to: 'partially_refunded', correction: false }],
    ['paid', 9_999, { to: 'partially_refunded', correction: false }],
    ['paid', 10_000, { to: 'refunded', correction: false }],
    ['partially_refunded', 0, { to: 'paid', correction: true }],
    ['partially_refunded', 5_000, undefined],
    ['partially_refunded', 10_000, { to: 'refunded', correction: false }],
    ['refunded', 0, { to: 'paid', correction: true }],
    ['refunded', 4_000, { to: 'partially_refunded', correction: true }],
    ['refunded', 10_000, undefined],
    ['pending', 5_000, undefined],
    ['payment_failed', 5_000, undefined],
    ['canceled', 10_000, undefined],
  ];
  it.each(rows)('%s with %i refunded → %o', (status, refunded, expected) => {
    expect(refundStageFor({ status, amount }, refunded)).toEqual(expected);
  });

  it('every stage it asks for is a move the order machine allows (with the correction exactly when backwards)', () => {
    for (const from of ['paid', 'partially_refunded', 'refunded'] as const) {
      for (const refunded of [0, 1, 5_000, 9_999, 10_000]) {
        const stage = refundStageFor({ status: from, amount }, refunded);
        if (stage === undefined) continue;
        expect(canTransition(from, stage.to)).toBe(!stage.correction);
        expect(canTransition(from, stage.to, stage.correction ? 'refund_failed' : undefined)).toBe(true);
      }
    }
  });
});
