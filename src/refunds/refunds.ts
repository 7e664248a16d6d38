// Refunds of orders (destination charges), from the admin's request to Stripe's final word.
//
// One refund, however often the form is sent:
// 1. The form carries a nonce made when it was rendered; it becomes our refund's id. Under a lock
//    on the order row we check the amount against what is left (order amount minus every refund
//    not rejected/failed/canceled — `requested` ones included, so two concurrent refunds can never
//    together exceed the order) and insert the row. A second submit of the same form hits the
//    primary key and finds the first; nothing is sent to Stripe if the amount is too large.
// 2. Under a lock on our refund row, ONE call `refunds.create` with the idempotency key
//    `refund:<our id>` and `metadata.refund_id`. A concurrent submit waits on the lock and then
//    finds the answer. If Stripe answered but our commit failed (or the answer was lost), the row
//    stays `requested`: pressing the button again re-sends the same key and Stripe returns the same
//    refund, and the refund.created / charge.refunded events carry `metadata.refund_id`, so the
//    webhook handlers attach the Stripe refund to our row either way.
// 3. The refund's status then follows Stripe (response, refund.* and charge.refunded events), newest
//    snapshot first, and the order's refunded total and status follow the refunds through the
//    orders module's one transition function.
import { sql, type Kysely } from 'kysely';
import type Stripe from 'stripe';
import type { Database, Order, RefundRow, RefundStatus } from '../db/schema.ts';
import { recordAudit, type Actor } from '../admin/audit.ts';
import { stripeRefusal, UNKNOWN_OUTCOME } from '../admin/stripe-errors.ts';
import { formatMoney } from '../money.ts';
import { canTransition, transitionOrder, type TransitionSource } from '../orders/state.ts';
import { getSetting } from '../admin/settings.ts';
import { enqueueRefundIssuedEmail } from '../email/messages.ts';
import { requireTransaction } from '../email/outbox.ts';

/** Refunds that hold part of the order: requested (maybe at Stripe already) or accepted by Stripe. */
const LIVE: RefundStatus[] = ['requested', 'pending', 'requires_action', 'succeeded'];
/** Refunds whose money has left (or is leaving) the platform: what the order counts as refunded. */
const COUNTED: RefundStatus[] = ['pending', 'requires_action', 'succeeded'];
const REFUNDABLE_ORDER: Order['status'][] = ['paid', 'partially_refunded'];

export type RefundReason = 'duplicate' | 'fraudulent' | 'requested_by_customer';

export interface RefundInput {
  refundId: string;
  orderId: string;
  amount: number;
  reason: RefundReason | null;
  reverseTransfer: boolean;
  refundApplicationFee: boolean;
}

export type RefundResult =
  | { ok: true; refund: RefundRow }
  | { ok: false; status: 404 | 409 | 422 | 502; message: string; refund?: RefundRow };

/** What can still be refunded: the order minus every live refund. */
export async function refundableLeft(db: Kysely<Database>, order: Pick<Order, 'id' | 'amount'>): Promise<number> {
  const row = await db.selectFrom('refunds').select(sql<number>`coalesce(sum(amount), 0)::bigint`.as('held'))
    .where('order_id', '=', order.id).where('status', 'in', LIVE).executeTakeFirstOrThrow();
  return order.amount - Number(row.held);
}

export async function refundDefaults(db: Kysely<Database>): Promise<{ reverseTransfer: boolean; refundApplicationFee: boolean }> {
  return { reverseTransfer: true, refundApplicationFee: await getSetting(db, 'refunds.refund_application_fee') };
}

export async function createRefund(db: Kysely<Database>, stripe: Stripe, actor: Actor, input: RefundInput): Promise<RefundResult> {
  const checked = await db.transaction().execute(async (trx): Promise<RefundResult | { ok: 'drive' }> => {
    const order = await trx.selectFrom('orders').selectAll().where('id', '=', input.orderId).forUpdate().executeTakeFirst();
    if (order === undefined) return { ok: false, status: 404, message: 'No such order.' };
    const existing = await trx.selectFrom('refunds').selectAll().where('id', '=', input.refundId).executeTakeFirst();
    if (existing !== undefined) {
      // The same form again (double click, retry): the first submit's refund, never a second one.
      if (existing.order_id !== input.orderId || existing.amount !== input.amount) {
        return { ok: false, status: 409, message: 'This refund form was already used for a different refund. Reload the order and start again.', refund: existing };
      }
      return { ok: 'drive' };
    }
    if (!REFUNDABLE_ORDER.includes(order.status)) {
      return { ok: false, status: 409, message: `This order is ${order.status.replace('_', ' ')}; only paid orders can be refunded.` };
    }
    if (order.stripe_payment_intent_id === null && order.stripe_charge_id === null) {
      return { ok: false, status: 409, message: 'This order has no Stripe payment to refund.' };
    }
    const left = await refundableLeft(trx, order);
    if (input.amount <= 0) return { ok: false, status: 422, message: 'Enter an amount above zero.' };
    if (input.amount > left) {
      return {
        ok: false, status: 422,
        message: left <= 0
          ? 'Nothing is left to refund on this order.'
          : `You can refund at most ${formatMoney(left, order.currency)} (the order is ${formatMoney(order.amount, order.currency)} and ${formatMoney(order.amount - left, order.currency)} is already refunded or being refunded).`,
      };
    }
    const refund = await trx.insertInto('refunds').values({
      id: input.refundId, order_id: order.id, amount: input.amount, currency: order.currency, reason: input.reason,
      reverse_transfer: input.reverseTransfer, refund_application_fee: input.refundApplicationFee, requested_by: actor.id,
    }).returningAll().executeTakeFirstOrThrow();
    await recordAudit(trx, actor, {
      action: 'refund.request', targetType: 'order', targetId: order.id,
      before: { status: order.status, amount_refunded: order.amount_refunded, refundable: left },
      after: { refund_id: refund.id, amount: refund.amount, currency: refund.currency, reverse_transfer: refund.reverse_transfer, refund_application_fee: refund.refund_application_fee, reason: refund.reason },
    });
    return { ok: 'drive' };
  });
  if (checked.ok !== 'drive') return checked;
  return driveRefund(db, stripe, actor, input.refundId);
}

/** Sends a `requested` refund to Stripe (again, with the same key); returns it as it is afterwards. */
export async function driveRefund(db: Kysely<Database>, stripe: Stripe, actor: Actor, refundId: string): Promise<RefundResult> {
  let sent: { order: Order; refund: Stripe.Refund } | undefined;
  try {
    const result = await db.transaction().execute(async (trx): Promise<RefundResult> => {
      const row = await trx.selectFrom('refunds').selectAll().where('id', '=', refundId).forUpdate().executeTakeFirstOrThrow();
      if (row.status === 'rejected') return { ok: false, status: 502, message: row.error_message ?? 'Stripe refused this refund.', refund: row };
      if (row.status !== 'requested') return { ok: true, refund: row };
      const order = await trx.selectFrom('orders').selectAll().where('id', '=', row.order_id).executeTakeFirstOrThrow();
      let refund: Stripe.Refund;
      try {
        refund = await stripe.refunds.create({
          ...(order.stripe_payment_intent_id !== null ? { payment_intent: order.stripe_payment_intent_id } : { charge: order.stripe_charge_id! }),
          amount: row.amount,
          ...(row.reason !== null ? { reason: row.reason } : {}),
          reverse_transfer: row.reverse_transfer,
          refund_application_fee: row.refund_application_fee,
          metadata: { refund_id: row.id, order_id: order.id },
          expand: ['transfer_reversal'],
        }, { idempotencyKey: `refund:${row.id}` });
      } catch (error) {
        const refusal = stripeRefusal(error);
        if (refusal === undefined) throw error; // unknown outcome: keep `requested`, see the header
        const rejected = await trx.updateTable('refunds').set({ status: 'rejected', error_message: refusal, updated_at: new Date() })
          .where('id', '=', row.id).returningAll().executeTakeFirstOrThrow();
        await recordAudit(trx, actor, { action: 'refund.rejected', targetType: 'order', targetId: order.id, before: { refund_id: row.id, status: 'requested' }, after: { status: 'rejected', error: refusal } });
        return { ok: false, status: 502, message: `Stripe refused the refund: ${refusal}`, refund: rejected };
      }
      await applyStripeRefund(trx, refund, { observedAt: new Date(refund.created * 1000), source: 'admin' });
      const saved = await trx.selectFrom('refunds').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow();
      await recordAudit(trx, actor, {
        action: 'refund.create', targetType: 'order', targetId: order.id,
        before: { refund_id: row.id, status: 'requested', order_status: order.status, amount_refunded: order.amount_refunded },
        after: { refund_id: row.id, stripe_refund: refund.id, status: saved.status, amount: refund.amount, transfer_reversal_amount: saved.transfer_reversal_amount },
      });
      sent = { order, refund };
      return { ok: true, refund: saved };
    });
    // Fee and transfer totals for the breakdown now rather than when the events arrive (best
    // effort: the application_fee.refunded / transfer.reversed handlers record the same numbers).
    if (sent !== undefined) await refreshOrderMoney(db, stripe, sent.order).catch(() => undefined);
    return result;
  } catch (error) {
    if (stripeRefusal(error) !== undefined) throw error;
    const row = await db.selectFrom('refunds').selectAll().where('id', '=', refundId).executeTakeFirst();
    return { ok: false, status: 502, message: UNKNOWN_OUTCOME, ...(row !== undefined ? { refund: row } : {}) };
  }
}

const RANK: Record<RefundStatus, number> = { requested: 0, rejected: 0, pending: 1, requires_action: 1, succeeded: 2, failed: 3, canceled: 3 };

/**
 * Records a Stripe refund snapshot observed at `observedAt` (Stripe's clock: the event's `created`,
 * or the refund's `created` for an API response). Finds our row by `metadata.refund_id`, then by the
 * Stripe id; a refund made outside our admin (Stripe Dashboard) gets a row of its own so the order's
 * totals stay true. Older snapshots never overwrite newer ones; same-instant ones keep the later
 * status. Then the order's refunded total and status are brought in line.
 */
export async function applyStripeRefund(db: Kysely<Database>, refund: Stripe.Refund, ctx: { observedAt: Date; source: TransitionSource; stripeEventId?: string | null }): Promise<void> {
  const ourId = refund.metadata?.refund_id;
  let row = ourId !== undefined && /^[0-9a-f-]{36}$/i.test(ourId)
    ? await db.selectFrom('refunds').selectAll().where('id', '=', ourId).forUpdate().executeTakeFirst()
    : undefined;
  row ??= await db.selectFrom('refunds').selectAll().where('stripe_refund_id', '=', refund.id).forUpdate().executeTakeFirst();
  if (row === undefined) {
    const chargeId = typeof refund.charge === 'string' ? refund.charge : refund.charge?.id ?? null;
    const piId = typeof refund.payment_intent === 'string' ? refund.payment_intent : refund.payment_intent?.id ?? null;
    const order = await db.selectFrom('orders').select(['id', 'currency']).where((eb) => eb.or([
      ...(chargeId !== null ? [eb('stripe_charge_id', '=', chargeId)] : []),
      ...(piId !== null ? [eb('stripe_payment_intent_id', '=', piId)] : []),
    ])).executeTakeFirst();
    if (order === undefined || (chargeId === null && piId === null)) return; // not one of our orders
    row = await db.insertInto('refunds').values({
      id: crypto.randomUUID(), order_id: order.id, amount: refund.amount, currency: refund.currency, reason: refund.reason as RefundReason | null ?? null,
      reverse_transfer: refund.transfer_reversal !== null, refund_application_fee: false, status: 'requested', stripe_refund_id: refund.id,
    }).onConflict((oc) => oc.column('stripe_refund_id').doNothing()).returningAll().executeTakeFirst()
      ?? await db.selectFrom('refunds').selectAll().where('stripe_refund_id', '=', refund.id).forUpdate().executeTakeFirstOrThrow();
  }
  const status = refund.status as RefundStatus;
  const stored = row.observed_at;
  const newer = stored === null || stored.getTime() < ctx.observedAt.getTime()
    || (stored.getTime() === ctx.observedAt.getTime() && RANK[status] >= RANK[row.status]);
  const reversal = typeof refund.transfer_reversal === 'object' && refund.transfer_reversal !== null ? refund.transfer_reversal.amount : undefined;
  if (newer || row.stripe_refund_id === null) {
    await db.updateTable('refunds').set({
      stripe_refund_id: refund.id,
      ...(newer ? { status, observed_at: ctx.observedAt, failure_reason: refund.failure_reason ?? null } : {}),
      ...(reversal !== undefined ? { transfer_reversal_amount: reversal } : {}),
      updated_at: new Date(),
    }).where('id', '=', row.id).execute();
  } else if (reversal !== undefined && row.transfer_reversal_amount === null) {
    await db.updateTable('refunds').set({ transfer_reversal_amount: reversal }).where('id', '=', row.id).execute();
  }
  await syncOrderRefunds(db, row.order_id, ctx);
  await enqueueRefundIssuedEmail(requireTransaction(db), row.id); // once it has succeeded
}

/** The order's refunded total from its refunds, and its status through the orders state machine. */
export async function syncOrderRefunds(db: Kysely<Database>, orderId: string, ctx: { source: TransitionSource; stripeEventId?: string | null }): Promise<void> {
  const order = await db.selectFrom('orders').selectAll().where('id', '=', orderId).forUpdate().executeTakeFirstOrThrow();
  const sum = await db.selectFrom('refunds').select(sql<number>`coalesce(sum(amount), 0)::bigint`.as('refunded'))
    .where('order_id', '=', orderId).where('status', 'in', COUNTED).executeTakeFirstOrThrow();
  const refunded = Number(sum.refunded);
  if (refunded !== order.amount_refunded) {
    await db.updateTable('orders').set({ amount_refunded: refunded, updated_at: new Date() }).where('id', '=', orderId).execute();
  }
  const target = refunded >= order.amount ? 'refunded' : refunded > 0 ? 'partially_refunded' : 'paid';
  if (target === order.status || !['paid', 'partially_refunded', 'refunded'].includes(order.status)) return;
  // Forward when refunds succeed; backward (a correction the machine allows only on purpose) when a
  // refund Stripe had reported as succeeded fails later and the money stays with the platform.
  const correction = REFUND_STATUS_RANK[target] < REFUND_STATUS_RANK[order.status as OrderRefundStage] ? 'refund_failed' as const : undefined;
  if (canTransition(order.status, target, correction)) {
    await transitionOrder(db, orderId, {
      to: target, source: ctx.source === 'admin' ? 'admin' : 'webhook', stripeEventId: ctx.stripeEventId ?? null,
      ...(correction !== undefined ? { correction } : {}),
      reason: correction !== undefined
        ? `a refund failed; refunded now ${formatMoney(refunded, order.currency)} of ${formatMoney(order.amount, order.currency)}`
        : `refunded ${formatMoney(refunded, order.currency)} of ${formatMoney(order.amount, order.currency)}`,
    });
  }
}

type OrderRefundStage = 'paid' | 'partially_refunded' | 'refunded';
const REFUND_STATUS_RANK: Record<OrderRefundStage, number> = { paid: 0, partially_refunded: 1, refunded: 2 };

/** Totals that only grow (fee refunded, transfer reversed, charge refunded), kept with GREATEST. */
export async function recordOrderMoney(db: Kysely<Database>, orderId: string, facts: { feeRefunded?: number; transferReversed?: number; chargeRefunded?: number }): Promise<void> {
  await db.insertInto('order_money').values({
    order_id: orderId, fee_refunded: facts.feeRefunded ?? 0, transfer_reversed: facts.transferReversed ?? 0, charge_refunded: facts.chargeRefunded ?? 0,
  }).onConflict((oc) => oc.column('order_id').doUpdateSet({
    fee_refunded: sql`greatest(order_money.fee_refunded, excluded.fee_refunded)`,
    transfer_reversed: sql`greatest(order_money.transfer_reversed, excluded.transfer_reversed)`,
    charge_refunded: sql`greatest(order_money.charge_refunded, excluded.charge_refunded)`,
    updated_at: new Date(),
  })).execute();
}

export async function refreshOrderMoney(db: Kysely<Database>, stripe: Stripe, order: Order): Promise<void> {
  const [fee, transfer] = await Promise.all([
    order.stripe_application_fee_id !== null ? stripe.applicationFees.retrieve(order.stripe_application_fee_id) : undefined,
    order.stripe_transfer_id !== null ? stripe.transfers.retrieve(order.stripe_transfer_id) : undefined,
  ]);
  await recordOrderMoney(db, order.id, { feeRefunded: fee?.amount_refunded ?? 0, transferReversed: transfer?.amount_reversed ?? 0 });
}

export async function listOrderRefunds(db: Kysely<Database>, orderId: string): Promise<RefundRow[]> {
  return db.selectFrom('refunds').selectAll().where('order_id', '=', orderId).orderBy('created_at').execute();
}
