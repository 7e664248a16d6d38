// Subscription family: customer.subscription.*, invoice.*, invoice_payment.paid, and Checkout
// Sessions in subscription mode move our subscriptions and invoices (src/subscriptions/sync.ts).
// Events arrive in any order and more than once, and their payloads may be stale, so every handler
// re-reads the object from Stripe in its read step (before any transaction) and applies what Stripe
// says NOW, under the row's lock, only if it is newer than what we hold. The last event to be
// processed therefore always leaves Stripe's latest state, whatever order they came in.
import type Stripe from 'stripe';
import { expireCheckout } from '../../subscriptions/queries.ts';
import { applyInvoice, applySubscription, readInvoice, readSubscription, type InvoiceFacts, type SubscriptionFacts } from '../../subscriptions/sync.ts';
import { idOf } from '../../stripe/ids.ts';
import type { EventHandler, EventOf, HandlerRegistry } from '../handler.ts';
import { paymentHandlers } from './payments.ts';
import { refundHandlers } from './refunds.ts';
import { customerHandlers } from './customers.ts';
import { recordInvoiceRefundSnapshot } from '../../subscriptions/admin-use-cases.ts';
import { adoptTrialCardsOf } from '../../subscriptions/use-cases.ts';
import { findInvoiceByPayment, recordInvoiceRefunded } from '../../subscriptions/queries.ts';

type SubscriptionEvent =
  | 'customer.subscription.created'
  | 'customer.subscription.updated'
  | 'customer.subscription.deleted'
  | 'customer.subscription.paused'
  | 'customer.subscription.resumed'
  | 'customer.subscription.trial_will_end'
  | 'customer.subscription.pending_update_applied'
  | 'customer.subscription.pending_update_expired';

const subscription: EventHandler<SubscriptionEvent, SubscriptionFacts> = {
  read: (event, { stripe }) => readSubscription(stripe, event.data.object.id),
  async apply(_event, { db, facts }) {
    await applySubscription(db, facts);
  },
};

type InvoiceEvent =
  | 'invoice.created'
  | 'invoice.finalized'
  | 'invoice.updated'
  | 'invoice.paid'
  | 'invoice.payment_succeeded'
  | 'invoice.payment_failed'
  | 'invoice.payment_action_required'
  | 'invoice.voided'
  | 'invoice.marked_uncollectible'
  | 'invoice.overdue'
  | 'invoice.finalization_failed';

const invoice: EventHandler<InvoiceEvent, InvoiceFacts | undefined> = {
  // An invoice of no subscription is not ours; `invoice.upcoming` (no id) has no handler at all.
  read: (event, { stripe }) => readInvoice(stripe, event.data.object.id),
  async apply(_event, { db, facts }) {
    if (facts !== undefined) await applyInvoice(db, facts);
  },
};

const invoicePaymentPaid: EventHandler<'invoice_payment.paid', InvoiceFacts | undefined> = {
  async read(event, { stripe }) {
    const invoiceId = idOf(event.data.object.invoice);
    return invoiceId === null ? undefined : readInvoice(stripe, invoiceId);
  },
  async apply(_event, { db, facts }) {
    if (facts !== undefined) await applyInvoice(db, facts);
  },
};

// Checkout Sessions are shared with orders: a subscription-mode session is ours, any other goes to
// the payment family's handler unchanged.
type SessionEvent =
  'checkout.session.completed' | 'checkout.session.expired' | 'checkout.session.async_payment_succeeded' | 'checkout.session.async_payment_failed';
type SessionFacts = { kind: 'order'; facts: unknown } | { kind: 'subscription'; facts: SubscriptionFacts | undefined };

function sessionHandler<T extends SessionEvent>(type: T): EventHandler<T, SessionFacts> {
  const orders = paymentHandlers[type] as EventHandler<T, unknown>;
  return {
    origin: orders.origin,
    async read(event, ctx) {
      const session: Stripe.Checkout.Session = event.data.object;
      if (session.mode !== 'subscription') return { kind: 'order', facts: await orders.read?.(event, ctx) };
      const stripeId = idOf(session.subscription);
      return { kind: 'subscription', facts: stripeId === null ? undefined : await readSubscription(ctx.stripe, stripeId) };
    },
    async apply(event, { db, facts }) {
      if (facts.kind === 'order') return orders.apply(event, { db, facts: facts.facts });
      if (facts.facts !== undefined) await applySubscription(db, facts.facts);
      if (event.type === 'checkout.session.expired') await expireCheckout(db, event.data.object.id);
    },
    async after(event, ctx) {
      if ((event as EventOf<SessionEvent>).data.object.mode !== 'subscription') await orders.after?.(event, ctx);
    },
  };
}

// Refunds of invoice payments: the refund family's handlers run unchanged (they find no order), and
// then the invoice's refunded totals (which only grow) and our invoice refund's status follow.
type MoneyEvent = 'charge.refunded' | 'application_fee.refunded' | 'transfer.reversed' | 'refund.created' | 'refund.updated' | 'refund.failed';

function withInvoiceMoney<T extends MoneyEvent>(type: T): EventHandler<T, unknown> {
  const handler = refundHandlers[type];
  const refunds: EventHandler<T, unknown> = typeof handler === 'function' ? { apply: handler } : (handler as EventHandler<T, unknown>);
  return {
    origin: refunds.origin,
    read: async (event, ctx) => refunds.read?.(event, ctx),
    async apply(event, ctx) {
      await refunds.apply(event, ctx);
      const e = event as EventOf<MoneyEvent>;
      switch (e.type) {
        case 'charge.refunded': {
          const invoice = await findInvoiceByPayment(ctx.db, { chargeId: e.data.object.id });
          if (invoice !== undefined) await recordInvoiceRefunded(ctx.db, invoice.id, { amountRefunded: e.data.object.amount_refunded });
          return;
        }
        case 'application_fee.refunded': {
          const invoice = await findInvoiceByPayment(ctx.db, { feeId: e.data.object.id });
          if (invoice !== undefined) await recordInvoiceRefunded(ctx.db, invoice.id, { feeRefunded: e.data.object.amount_refunded });
          return;
        }
        case 'transfer.reversed': {
          const invoice = await findInvoiceByPayment(ctx.db, { transferId: e.data.object.id });
          if (invoice !== undefined) await recordInvoiceRefunded(ctx.db, invoice.id, { transferReversed: e.data.object.amount_reversed });
          return;
        }
        default:
          await recordInvoiceRefundSnapshot(ctx.db, e.data.object);
      }
    },
  };
}

// A trial's card saved through the subscription's SetupIntent becomes the subscription's default
// (the completion page does the same when the buyer comes back; whichever runs second does nothing).
// The saved-cards family handles the same event (the card appears on the buyer's page): its handler
// runs first, unchanged, as the payment and refund families' do above.
function setupSucceededHandler(): EventHandler<'setup_intent.succeeded', unknown> {
  const cards = customerHandlers['setup_intent.succeeded'] as EventHandler<'setup_intent.succeeded', unknown>;
  return {
    origin: cards.origin,
    read: async (event, ctx) => cards.read?.(event, ctx),
    apply: (event, ctx) => cards.apply(event, ctx),
    async after(event, ctx) {
      await cards.after?.(event, ctx);
      const customer = idOf(event.data.object.customer);
      if (customer !== null) await adoptTrialCardsOf(ctx.db, ctx.stripe, customer);
    },
  };
}

export const subscriptionHandlers: HandlerRegistry = {
  'setup_intent.succeeded': setupSucceededHandler(),
  'charge.refunded': withInvoiceMoney('charge.refunded'),
  'application_fee.refunded': withInvoiceMoney('application_fee.refunded'),
  'transfer.reversed': withInvoiceMoney('transfer.reversed'),
  'refund.created': withInvoiceMoney('refund.created'),
  'refund.updated': withInvoiceMoney('refund.updated'),
  'refund.failed': withInvoiceMoney('refund.failed'),
  'customer.subscription.created': subscription,
  'customer.subscription.updated': subscription,
  'customer.subscription.deleted': subscription,
  'customer.subscription.paused': subscription,
  'customer.subscription.resumed': subscription,
  'customer.subscription.trial_will_end': subscription,
  'customer.subscription.pending_update_applied': subscription,
  'customer.subscription.pending_update_expired': subscription,
  'invoice.created': invoice,
  'invoice.finalized': invoice,
  'invoice.updated': invoice,
  'invoice.paid': invoice,
  'invoice.payment_succeeded': invoice,
  'invoice.payment_failed': invoice,
  'invoice.payment_action_required': invoice,
  'invoice.voided': invoice,
  'invoice.marked_uncollectible': invoice,
  'invoice.overdue': invoice,
  'invoice.finalization_failed': invoice,
  'invoice_payment.paid': invoicePaymentPaid,
  'checkout.session.completed': sessionHandler('checkout.session.completed'),
  'checkout.session.expired': sessionHandler('checkout.session.expired'),
  'checkout.session.async_payment_succeeded': sessionHandler('checkout.session.async_payment_succeeded'),
  'checkout.session.async_payment_failed': sessionHandler('checkout.session.async_payment_failed'),
};
