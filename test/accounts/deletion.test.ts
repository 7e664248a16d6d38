// A buyer deletes their account, through the real app, database and emulator (webhooks signed and
// processed as in production).
import { describe, expect, it } from 'vitest';
import { ensureBuyerCustomer } from '../../src/customers/use-cases.ts';
import { TEST_PASSWORD } from '../helpers/app.ts';
import { useWorld } from '../helpers/fixture.ts';

const w = useWorld({ webhooks: true });

const userRow = (id: string) => w.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const deleteForm = { currentPassword: TEST_PASSWORD, confirm: 'yes' };

describe('once the account is erased, Stripe cannot undo the answer (review #4)', () => {
  it('a refusal from Stripe still signs the person out and tells them the account is deleted', async () => {
    const buyer = await w.signIn('buyer');
    const customerId = await ensureBuyerCustomer(w.db, w.stripe, buyer.userId);
    await w.stripe.customers.del(customerId); // removed in Stripe's Dashboard: Stripe now answers 404 for it

    const deleted = await buyer.client.post('/account/delete', deleteForm);
    expect([deleted.statusCode, deleted.location]).toEqual([303, '/']);
    expect(buyer.client.cookies.has('session')).toBe(false);
    expect((await buyer.client.get('/')).body).toContain('Your account is deleted.');
    expect((await userRow(buyer.userId)).email).toBe(`deleted-${buyer.userId}@deleted.invalid`);
  });
});
