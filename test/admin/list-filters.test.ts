// Malformed filters and cursors on the admin lists (issue #14, point 11) are the admin's typo, not
// our failure: 400 with the field named and what was typed kept in the form, never a 500.
import { beforeAll, describe, expect, it } from 'vitest';
import { storeEvent } from '../../src/webhooks/inbox.ts';
import type Stripe from 'stripe';
import { useWorld } from '../helpers/fixture.ts';

const w = useWorld({ admin: true });

beforeAll(async () => {
  for (let i = 0; i < 3; i++) {
    const event = {
      id: `evt_filters_${i}`,
      object: 'event',
      type: 'account.updated',
      created: 1_790_000_000 + i,
      livemode: false,
      api_version: null,
      data: { object: {} },
    };
    await storeEvent(w.db, event as unknown as Stripe.Event, { source: 'platform', livemode: false });
  }
});

const A36 = 'a'.repeat(36);
const UUID = '6f1c1c3e-8d55-4b55-9a0e-1d2f3a4b5c6d';

describe('/admin/orders', () => {
  it.each([
    ['from=2024-13-45', 'From'],
    ['to=2024-02-30', 'To'],
    ['from=0000-01-01', 'From'],
    [`before=1|${A36}`, 'page'],
    [`before=-271821-04-20T00:00:00Z|${UUID}`, 'page'],
    [`before=2024-13-45T00:00:00Z|${UUID}`, 'page'],
  ])('%s → 400 naming it, with the filters kept', async (query, field) => {
    const response = await w.admin.get(`/admin/orders?status=paid&${query}`);
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('data-testid="filter-error"');
    expect(response.body).toMatch(new RegExp(`data-testid="filter-error">[^<]*${field}`));
    expect(response.body).toMatch(/<option value="paid" selected>/);
  });

  it('good filters and cursors still answer', async () => {
    for (const query of ['from=2024-02-29&to=2024-03-01', 'from=&to=&before=', `before=2026-11-30T12:00:00.000Z|${UUID}`]) {
      const response = await w.admin.get(`/admin/orders?${query}`);
      expect(response.statusCode, query).toBe(200);
      expect(response.body).not.toContain('data-testid="filter-error"');
    }
  });
});

describe('/admin/events', () => {
  it.each([
    `before=1|${A36}`,
    'before=-271821-04-20T00:00:00Z|evt_filters_1',
    'before=2026-11-30T00:00:00Z',
    'before=2026-11-30T00:00:00Z|evt_1|x',
    'before=garbage',
  ])('%s → 400 naming the page cursor, with the filters kept', async (query) => {
    const response = await w.admin.get(`/admin/events?type=account.updated&${encodeURI(query)}`);
    expect(response.statusCode).toBe(400);
    expect(response.body).toMatch(/data-testid="filter-error">[^<]*page/);
    expect(response.body).toContain('value="account.updated"');
  });

  it('a cursor of a real row pages on', async () => {
    const response = await w.admin.get('/admin/events?before=2026-11-30T00:00:00.000Z|evt_filters_1');
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('evt_filters_0');
    expect(response.body).not.toContain('evt_filters_2');
  });
});
