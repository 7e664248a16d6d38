// Issue 15 point 15: a seller who never opened their dashboard (no seller row yet, as the demo
// seller on a first run) is in the admin's sellers list, its "not started" filter, its page and
// the admin home's counts.
import { describe, expect, it } from 'vitest';
import { refreshAdminTotals } from '../../src/admin/summary.ts';
import { createTestUser } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';

describe('sellers who never opened their dashboard', () => {
  const h = useWorld({ webhooks: true, admin: true });

  it('are listed as not started, open on their page, and are counted', async () => {
    const quiet = await createTestUser(h.database.db, 'seller', { displayName: 'Quiet Quilts' });
    expect(await h.database.db.selectFrom('sellers').select('id').where('id', '=', quiet.id).execute()).toEqual([]);

    const list = await h.admin.get('/admin/sellers');
    expect(list.body).toContain(`data-seller-id="${quiet.id}"`);
    const filtered = await h.admin.get('/admin/sellers?state=not_started');
    expect(filtered.body).toContain(`data-seller-id="${quiet.id}"`);
    expect((await h.admin.get('/admin/sellers?state=enabled')).body).not.toContain(`data-seller-id="${quiet.id}"`);

    await refreshAdminTotals(h.database.db);
    const home = await h.admin.get('/admin');
    expect(home.body).toMatch(/data-state="not_started">[^<]*: 1</);

    const page = await h.admin.get(`/admin/sellers/${quiet.id}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Quiet Quilts');
    // A buyer's id is still not a seller.
    const buyer = await createTestUser(h.database.db, 'buyer');
    expect((await h.admin.get(`/admin/sellers/${buyer.id}`)).statusCode).toBe(404);
  });
});
