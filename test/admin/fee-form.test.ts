// Issue 15 point 17: the fee policy form answers every wrong basis-points value ("-100", "abc",
// "5%", "20000") beside the form, keeping what was typed, instead of a generic page with the
// validator's regex; an unusually large fixed fee ($999,999) is saved only after a confirmation.
import { describe, expect, it } from 'vitest';
import { useWorld } from '../helpers/fixture.ts';
import { createSeller } from '../helpers/market.ts';

describe('fee policy form', () => {
  const h = useWorld({ webhooks: true, admin: true });

  const policies = () => h.database.db.selectFrom('fee_policies').selectAll().execute();

  for (const typed of ['-100', 'abc', '5%', '20000']) {
    it(`basis points "${typed}": an inline error, the form as typed, nothing saved`, async () => {
      const response = await h.admin.post('/admin/fees', { currency: 'eur', basis_points: typed, fixed: '0.25' });
      expect(response.statusCode).toBe(422);
      expect(response.body).toContain('data-testid="fee-error"');
      expect(response.body).toContain('Basis points must be a whole number from 0 to 10000');
      expect(response.body).not.toMatch(/\^\\d|pattern|must match/);
      expect(response.body).toContain(`value="${typed}"`);
      expect(response.body).toContain('<option value="eur" selected>EUR</option>');
      expect(response.body).toContain('value="0.25"');
      expect(await policies()).toEqual([]);
    });
  }

  it('a fixed fee of $999,999.00 asks for confirmation, then saves', async () => {
    const form = { currency: 'usd', basis_points: '500', fixed: '999999.00' };
    const warned = await h.admin.post('/admin/fees', form);
    expect(warned.statusCode).toBe(422);
    expect(warned.body).toContain('unusually large');
    expect(warned.body).toContain('$999,999.00');
    expect(warned.body).toContain('data-testid="fee-confirm"');
    expect(await policies()).toEqual([]);
    const saved = await h.admin.post('/admin/fees', { ...form, confirm_large: 'yes' });
    expect(saved.statusCode).toBe(303);
    expect(await policies()).toEqual([expect.objectContaining({ currency: 'usd', basis_points: 500, fixed_amount: 99_999_900 })]);
    // An ordinary fixed fee needs no confirmation.
    expect((await h.admin.post('/admin/fees', { currency: 'eur', basis_points: '250', fixed: '0.30' })).statusCode).toBe(303);
  });

  it('the seller override form behaves the same', async () => {
    const seller = await createSeller(h);
    const response = await h.admin.post(`/admin/sellers/${seller.user.id}/fee-policy`, { currency: 'usd', basis_points: '5%' });
    expect(response.statusCode).toBe(422);
    expect(response.body).toContain('Basis points must be a whole number');
    expect(response.body).toContain('value="5%"');
    const large = await h.admin.post(`/admin/sellers/${seller.user.id}/fee-policy`, { currency: 'usd', basis_points: '100', fixed: '5000' });
    expect(large.body).toContain('data-testid="fee-confirm"');
  });
});
