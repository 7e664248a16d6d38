// The admin home's money totals come from the stored summary (no whole-table sum on a page view):
// computed on the first view of a fresh database, then only when refreshed (the worker does it
// every minute), and the page says as of when.
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { refreshAdminTotals } from '../../src/admin/summary.ts';
import { seedMarketplace, seedOrders } from '../../src/bench/support/seed.ts';
import { formatMoney } from '../../src/money.ts';
import { useWorld } from '../helpers/fixture.ts';

const w = useWorld({ admin: true });

beforeAll(async () => {
  await seedMarketplace(w.db, { sellers: 2, buyers: 3, listingsPerSeller: 2 });
});

async function paidGross(): Promise<string> {
  const row = await sql<{ gross: number }>`select sum(amount)::bigint as gross from orders where status in ('paid', 'partially_refunded', 'refunded')`.execute(
    w.db,
  );
  return formatMoney(Number(row.rows[0]!.gross), 'usd');
}
const shownGross = (body: string) => /<tr data-currency="usd"><td>usd<\/td><td class="num">([^<]+)<\/td>/.exec(body)?.[1];

describe('the admin home money totals', () => {
  it('are read from the stored summary, refreshed by the worker, not summed on each view', async () => {
    await seedOrders(w.db, 1, 24);
    const first = await w.admin.get('/admin');
    const grossAt24 = await paidGross();
    expect(shownGross(first.body)).toBe(grossAt24);
    expect(first.body).toMatch(/data-testid="totals-at">Totals as of \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);

    await seedOrders(w.db, 25, 60);
    const grossAt60 = await paidGross();
    expect(grossAt60).not.toBe(grossAt24);
    expect(shownGross((await w.admin.get('/admin')).body)).toBe(grossAt24);

    expect(await refreshAdminTotals(w.db)).toBe(true);
    expect(shownGross((await w.admin.get('/admin')).body)).toBe(grossAt60);
  });
});
