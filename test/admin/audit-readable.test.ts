// Issue 15 point 20: the audit log showed cents and seller ids without names. Entries keep minor
// units and ids (they are the record); the page shows money and names beside them.
import { describe, expect, it } from 'vitest';
import { recordAudit } from '../../src/admin/audit.ts';
import { personIdsIn, readableAuditValue } from '../../src/admin/audit-view.ts';
import { createTestUser } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';

describe('readableAuditValue (unit)', () => {
  const names = new Map([['11111111-1111-1111-1111-111111111111', 'Ada Shop']]);

  it("writes amounts in their object's currency, zero-decimal ones too, and names people", () => {
    expect(
      readableAuditValue(
        { amount: 1250, currency: 'usd', application_fee_amount: 125, seller_id: '11111111-1111-1111-1111-111111111111', status: 'requested' },
        names,
      ),
    ).toEqual({
      amount: '$12.50',
      currency: 'usd',
      application_fee_amount: '$1.25',
      seller_id: 'Ada Shop (11111111-1111-1111-1111-111111111111)',
      status: 'requested',
    });
    expect(readableAuditValue({ amount: 500, currency: 'jpy' }, names)).toEqual({ amount: '¥500', currency: 'jpy' });
  });

  it('inherits the currency into nested objects, and leaves numbers alone without one', () => {
    expect(readableAuditValue({ currency: 'eur', refund: { amount: 99 } }, names)).toEqual({ currency: 'eur', refund: { amount: '€0.99' } });
    expect(readableAuditValue({ amount: 1250, basis_points: 1000 }, names)).toEqual({ amount: 1250, basis_points: 1000 });
  });

  it('finds the people an entry mentions', () => {
    expect(personIdsIn({ target_type: 'seller', target_id: 's1', before: null, after: { buyer_id: 'b1', nested: { seller_id: 's2' } } }).sort()).toEqual([
      'b1',
      's1',
      's2',
    ]);
  });
});

describe('the audit log page', () => {
  const h = useWorld({ webhooks: true, admin: true });

  it("shows a seller target by name and the entry's amounts as money", async () => {
    const seller = await createTestUser(h.database.db, 'seller', { displayName: 'Quillwright Papers' });
    await recordAudit(
      h.database.db,
      { id: h.adminUser.id, email: h.adminUser.email },
      {
        action: 'payout.requested',
        targetType: 'seller',
        targetId: seller.id,
        after: { amount: 24_250, currency: 'usd', seller_id: seller.id },
      },
    );
    const page = await h.admin.get(`/admin/audit?target_type=seller&target_id=${seller.id}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toMatch(/data-testid="target-name">Quillwright Papers</);
    expect(page.body).toContain('&quot;amount&quot;: &quot;$242.50&quot;');
    expect(page.body).toContain(`Quillwright Papers (${seller.id})`);
    expect(page.body).not.toContain('&quot;amount&quot;: 24250');
  });
});
