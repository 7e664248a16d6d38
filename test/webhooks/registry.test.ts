// The registry joins the event families with an object spread, so a family listed later replaces
// an earlier family's handler for the same event type. That is only right where the later handler
// runs the earlier one itself (subscriptions wrap Checkout Sessions, refunds and a SetupIntent's
// success). This test names those types, so a new family cannot silently switch another one off.
import { describe, expect, it } from 'vitest';
import { accountHandlers } from '../../src/webhooks/handlers/accounts.ts';
import { customerHandlers } from '../../src/webhooks/handlers/customers.ts';
import { disputeHandlers } from '../../src/webhooks/handlers/disputes.ts';
import { feeAndTransferHandlers } from '../../src/webhooks/handlers/fees-and-transfers.ts';
import { paymentHandlers } from '../../src/webhooks/handlers/payments.ts';
import { payoutHandlers } from '../../src/webhooks/handlers/payouts.ts';
import { refundHandlers } from '../../src/webhooks/handlers/refunds.ts';
import { subscriptionHandlers } from '../../src/webhooks/handlers/subscriptions.ts';
import { handlers } from '../../src/webhooks/registry.ts';

const families = {
  accountHandlers,
  paymentHandlers,
  payoutHandlers,
  refundHandlers,
  disputeHandlers,
  feeAndTransferHandlers,
  customerHandlers,
  subscriptionHandlers,
};

/** Event types the subscription family handles by running the other family's handler first. */
const WRAPPED_BY_SUBSCRIPTIONS = [
  'application_fee.refunded',
  'charge.refunded',
  'checkout.session.async_payment_failed',
  'checkout.session.async_payment_succeeded',
  'checkout.session.completed',
  'checkout.session.expired',
  'refund.created',
  'refund.failed',
  'refund.updated',
  'setup_intent.succeeded',
  'transfer.reversed',
];

describe('handler registry', () => {
  it('has one family per event type, except the types the subscription family wraps', () => {
    const owners = new Map<string, string[]>();
    for (const [family, map] of Object.entries(families)) {
      for (const type of Object.keys(map)) owners.set(type, [...(owners.get(type) ?? []), family]);
    }
    const shared = [...owners].filter(([, names]) => names.length > 1);
    expect(shared.map(([type]) => type).sort()).toEqual(WRAPPED_BY_SUBSCRIPTIONS);
    for (const [type, names] of shared) {
      expect(names.at(-1), type).toBe('subscriptionHandlers');
      expect((handlers as Record<string, unknown>)[type], type).toBe((subscriptionHandlers as Record<string, unknown>)[type]);
    }
  });

  it("keeps the wrapped handler's origin rule (a connected account cannot pay our orders through a session event)", () => {
    for (const type of WRAPPED_BY_SUBSCRIPTIONS) {
      const inner = Object.values(families)
        .slice(0, -1)
        .map((map) => (map as Record<string, unknown>)[type])
        .find((h) => h !== undefined) as { origin?: string } | undefined;
      const outer = (handlers as Record<string, { origin?: string }>)[type];
      expect(outer?.origin, type).toBe(typeof inner === 'function' ? undefined : inner?.origin);
    }
  });
});
