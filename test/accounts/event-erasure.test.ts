// What a deleted buyer's stored Stripe events keep (src/accounts/erasure.ts withoutPersonalData),
// and how an event's Customer is found at intake (src/webhooks/inbox.ts customerOfEvent).
import { describe, expect, it } from 'vitest';
import { withoutPersonalData } from '../../src/accounts/erasure.ts';
import { customerOfEvent } from '../../src/webhooks/inbox.ts';
import { makeEvent } from '../helpers/webhooks.ts';

describe('withoutPersonalData', () => {
  it('empties names, emails, phones and addresses at any depth, and keeps ids, amounts, statuses and metadata', () => {
    const charge = {
      id: 'ch_1',
      object: 'charge',
      amount: 4200,
      status: 'succeeded',
      customer: 'cus_1',
      description: 'Order of a jug',
      metadata: { order_id: 'ord_1' },
      billing_details: { name: 'Ann Lee', email: 'ann@example.test', phone: '+44 20', address: { line1: '1 Street', country: 'GB' } },
      shipping: { name: 'Ann Lee', address: { line1: '1 Street' } },
      receipt_email: 'ann@example.test',
      payment_method_details: { card: { brand: 'visa', last4: '4242' } },
    };
    expect(withoutPersonalData({ data: { object: charge } })).toEqual({
      data: {
        object: {
          ...charge,
          billing_details: { name: null, email: null, phone: null, address: null },
          shipping: null,
          receipt_email: null,
        },
      },
    });
  });

  it("empties a customer's own description (it may name them), not other objects'", () => {
    expect(withoutPersonalData({ object: 'customer', id: 'cus_1', description: 'Ann Lee', name: 'Ann', email: 'a@x.test' })).toEqual({
      object: 'customer',
      id: 'cus_1',
      description: null,
      name: null,
      email: null,
    });
    expect(
      withoutPersonalData({
        object: 'invoice',
        description: 'Monthly plan',
        customer_name: 'Ann',
        customer_email: 'a@x.test',
        lines: { data: [{ description: 'Plan' }] },
      }),
    ).toEqual({
      object: 'invoice',
      description: 'Monthly plan',
      customer_name: null,
      customer_email: null,
      lines: { data: [{ description: 'Plan' }] },
    });
  });
});

describe('customerOfEvent', () => {
  it('is the customer itself, or the customer of the object as an id or expanded, or none', () => {
    expect(customerOfEvent(makeEvent('customer.created', { id: 'cus_a', object: 'customer' }))).toBe('cus_a');
    expect(customerOfEvent(makeEvent('charge.succeeded', { id: 'ch_1', object: 'charge', customer: 'cus_b' }))).toBe('cus_b');
    expect(customerOfEvent(makeEvent('invoice.paid', { id: 'in_1', object: 'invoice', customer: { id: 'cus_c', object: 'customer' } }))).toBe('cus_c');
    expect(customerOfEvent(makeEvent('charge.succeeded', { id: 'ch_2', object: 'charge', customer: null }))).toBeNull();
    expect(customerOfEvent(makeEvent('account.updated', { id: 'acct_1', object: 'account' }))).toBeNull();
  });
});
