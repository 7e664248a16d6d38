// A correctly signed event must always be stored, whatever its strings hold: PostgreSQL's jsonb
// (and text) cannot hold U+0000, nor jsonb a lone UTF-16 surrogate. Refusing such an event with a
// 503 would make Stripe retry it for three days and then drop it.
import { describe, expect, it } from 'vitest';
import { makeEvent, postSigned, signature } from '../helpers/webhooks.ts';
import { useWorld } from '../helpers/fixture.ts';

const w = useWorld();

describe('signed events with characters PostgreSQL cannot store', () => {
  it('stores the body exactly as received and a jsonb copy with U+FFFD in their place', async () => {
    const event = makeEvent(
      'customer.updated',
      {
        id: 'cus_nul',
        object: 'customer',
        name: 'Ann\u0000Lee',
        description: 'half a pair: \ud800',
        metadata: { 'key\u0000': 'v' },
      },
      { id: `evt_nul_\u0000_${Date.now()}` },
    );
    const payload = JSON.stringify(event);
    expect(payload).toContain('\\u0000');

    const response = await postSigned(w.app, '/webhooks/stripe', payload, signature(payload, w.app.config.stripe.platformWebhookSecret!));
    expect(response.statusCode).toBe(200);

    const row = await w.db.selectFrom('stripe_events').selectAll().where('id', '=', event.id.replace('\u0000', '\ufffd')).executeTakeFirstOrThrow();
    expect(Buffer.from(row.raw_body!).toString('utf8')).toBe(payload);
    const stored = row.payload as { data: { object: { name: string; description: string; metadata: Record<string, string> } } };
    expect(stored.data.object.name).toBe('Ann\ufffdLee');
    expect(stored.data.object.description).toBe('half a pair: \ufffd');
    expect(stored.data.object.metadata).toEqual({ 'key\ufffd': 'v' });
    expect(row.status).toBe('pending');

    // Stripe's retry of the same delivery is a duplicate, not a second row.
    const again = await postSigned(w.app, '/webhooks/stripe', payload, signature(payload, w.app.config.stripe.platformWebhookSecret!));
    expect(again.json()).toEqual({ received: true, duplicate: true });
  });

  it('keeps an ordinary event once: its jsonb copy holds all of it, and no second copy of the bytes is written', async () => {
    const event = makeEvent('customer.updated', { id: 'cus_plain', object: 'customer', name: 'Zoë', description: 'emoji 😀 and ünïcödé' });
    const payload = JSON.stringify(event, null, 2);
    expect((await postSigned(w.app, '/webhooks/stripe', payload, signature(payload, w.app.config.stripe.platformWebhookSecret!))).statusCode).toBe(200);
    const row = await w.db.selectFrom('stripe_events').selectAll().where('id', '=', event.id).executeTakeFirstOrThrow();
    expect(row.raw_body).toBeNull();
    expect(row.payload).toEqual(JSON.parse(payload));
  });
});
