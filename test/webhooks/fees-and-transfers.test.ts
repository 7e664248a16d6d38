// The fee and transfer family fills an order's transfer and application fee ids from their own
// events when the charge's handler didn't record them; duplicates and re-deliveries change nothing.
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { handlers } from '../../src/webhooks/registry.ts';
import { useWorld } from '../helpers/fixture.ts';
import { createPaidOrder, useSeller } from '../helpers/market.ts';

describe('fee and transfer events', () => {
  const h = useWorld({ webhooks: true, admin: true });
  const seller = useSeller(h, { manualPayouts: true });

  it('application_fee.created and transfer.created record their ids on the order, once', async () => {
    const orderId = (await createPaidOrder(h, seller, { amount: 5_000 })).id;
    const paid = await h.database.db.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirstOrThrow();
    expect(paid.stripe_transfer_id).toMatch(/^tr_/);
    expect(paid.stripe_application_fee_id).toMatch(/^fee_/);

    // As if the charge's handler had run before Stripe linked them: the ids are blank.
    await sql`update orders set stripe_transfer_id = null, stripe_application_fee_id = null where id = ${orderId}`.execute(h.database.db);
    const events = await h.emu.stripe.events.list({ types: ['transfer.created', 'application_fee.created'], limit: 100 });
    const ours = events.data.filter((e) => {
      const object = e.data.object as { id: string };
      return object.id === paid.stripe_transfer_id || object.id === paid.stripe_application_fee_id;
    });
    expect(ours.map((e) => e.type).sort()).toEqual(['application_fee.created', 'transfer.created']);
    for (let delivery = 0; delivery < 2; delivery++) {
      for (const event of ours) {
        const handler = handlers[event.type as 'transfer.created' | 'application_fee.created'] as (
          e: typeof event,
          ctx: { db: typeof h.database.db; stripe: typeof h.emu.stripe },
        ) => Promise<void>;
        await h.database.db.transaction().execute((trx) => handler(event, { db: trx, stripe: h.emu.stripe }));
      }
    }
    const filled = await h.database.db.selectFrom('orders').selectAll().where('id', '=', orderId).executeTakeFirstOrThrow();
    expect(filled.stripe_transfer_id).toBe(paid.stripe_transfer_id);
    expect(filled.stripe_application_fee_id).toBe(paid.stripe_application_fee_id);
  });

  it('are handled by the pipeline rather than ignored', async () => {
    await createPaidOrder(h, seller, { amount: 2_500 });
    await h.settle();
    const rows = await h.database.db
      .selectFrom('stripe_events')
      .select(['type', 'status'])
      .where('type', 'in', ['transfer.created', 'application_fee.created'])
      .execute();
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.status === 'done')).toBe(true);
  });
});
