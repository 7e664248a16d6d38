// Issue 15 point 20 (the words): admin pages show states and statuses in words, not codes
// (onboarding_incomplete, requirements.past_due, needs_response, usd), requirements about the
// seller rather than to them ("Your business type"), one balance row per currency, and a schedule
// that says its day only when it is weekly. (The widths are checked by e2e/page-widths.)
import { describe, expect, it } from 'vitest';
import { ensureConnectedAccount, syncAccountFromStripe } from '../../src/sellers/use-cases.ts';
import { createTestUser } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';
import { createPaidOrder, createSeller } from '../helpers/market.ts';

describe('admin pages speak words', () => {
  const h = useWorld({ webhooks: true, admin: true });

  it('a seller with requirements due: state and requirements in words about the seller', async () => {
    const user = await createTestUser(h.database.db, 'seller');
    const { accountId } = await ensureConnectedAccount(h.database.db, h.stripe, { sellerId: user.id, country: 'US', email: user.email });
    await h.emu.control('POST', `/_emulator/accounts/${accountId}/onboarding`, { outcome: 'incomplete' });
    await syncAccountFromStripe(h.database.db, h.stripe, accountId);
    for (const path of ['/admin/sellers', `/admin/sellers/${user.id}`, '/admin']) {
      const page = await h.admin.get(path);
      expect(page.body, path).not.toMatch(/>\s*(onboarding_incomplete|not_started|pending_verification)\b/);
      expect(page.body, path).not.toMatch(/>[^<]*requirements\.past_due/);
      expect(page.body, path).not.toContain('Your ');
    }
    const list = await h.admin.get('/admin/sellers');
    expect(list.body).toMatch(/data-state="onboarding_incomplete">Setup not finished</);
  });

  it('the balance has one row per currency; a daily schedule names no day, a weekly one names its day', async () => {
    const seller = await createSeller(h);
    await createPaidOrder(h, seller, { amount: 10_000 });
    let page = await h.admin.get(`/admin/sellers/${seller.user.id}`);
    const balance = /data-testid="balance"[\s\S]*?<\/table>/.exec(page.body)![0];
    expect(balance.match(/data-currency="usd"/g)).toHaveLength(1);
    expect(balance).toContain('<td>USD</td>');
    expect(page.body).toMatch(/data-testid="schedule-interval" data-interval="daily">Daily</);
    await h.admin.post(`/admin/sellers/${seller.user.id}/payout-schedule`, { interval: 'weekly', weekly_anchor: 'friday' });
    page = await h.admin.get(`/admin/sellers/${seller.user.id}`);
    expect(page.body).toMatch(/data-interval="weekly">Weekly on Friday</);
  });

  it('orders and disputes: statuses in words; the event log links back to Admin', async () => {
    const seller = await createSeller(h);
    await createPaidOrder(h, seller, { amount: 5_000, paymentMethod: 'pm_card_createDispute' });
    const orders = await h.admin.get('/admin/orders');
    expect(orders.body).toContain('Disputed: Response needed');
    expect(orders.body).not.toMatch(/>[^<]*needs_response/);
    expect((await h.admin.get('/admin/events')).body).toContain('<a href="/admin">← Admin</a>');
  });
});
