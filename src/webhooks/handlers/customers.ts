// Buyers' Customers and saved cards (issue 12, point 5): the payment-methods page reads our tables,
// and these events keep them in step with Stripe — a card removed in the customer portal
// disappears here, a default changed there shows here. Every handler reads the object from Stripe
// now (events arrive late, twice and out of order) and writes it only over an older observation.
import { makeDefaultIfNone } from '../../customers/cards.ts';
import { findBuyerByCustomer, findBuyerCustomer } from '../../customers/queries.ts';
import { idOf } from '../../stripe/ids.ts';
import {
  applyCard,
  applyCustomer,
  applySetup,
  readCard,
  readCustomer,
  readSetup,
  type CardRead,
  type CustomerRead,
  type SetupRead,
} from '../../customers/sync.ts';
import type { EventHandler, HandlerRegistry } from '../handler.ts';

type CardEvent = 'payment_method.attached' | 'payment_method.detached' | 'payment_method.updated' | 'payment_method.automatically_updated';
type SetupEvent = 'setup_intent.succeeded' | 'setup_intent.setup_failed' | 'setup_intent.canceled';

const card: EventHandler<CardEvent, CardRead> = {
  read: (event, { stripe }) => readCard(stripe, event.data.object.id),
  apply: (_event, { db, facts }) => applyCard(db, facts),
};

const customerUpdated: EventHandler<'customer.updated', CustomerRead | undefined> = {
  // A Customer that is not a buyer's (none of ours, or a seller's elsewhere) is none of our business.
  async read(event, { db, stripe }) {
    const customer = event.data.object;
    return (await findBuyerByCustomer(db, customer.id)) === undefined ? undefined : readCustomer(stripe, customer.id, { cards: false });
  },
  async apply(_event, { db, facts }) {
    if (facts !== undefined) await applyCustomer(db, facts);
  },
};

const setup: EventHandler<SetupEvent, SetupRead | undefined> = {
  read: (event, { db, stripe }) => readSetup(db, stripe, event.data.object, { reread: event.type !== 'setup_intent.succeeded' }),
  async apply(_event, { db, facts }) {
    if (facts !== undefined) await applySetup(db, facts);
  },
  // The first card a buyer saves becomes their default (the return page does the same; both are safe).
  async after(event, { db, stripe }) {
    const intent = event.data.object;
    const buyerId = intent.metadata?.buyer_id;
    const pm = idOf(intent.payment_method);
    if (event.type !== 'setup_intent.succeeded' || buyerId === undefined || pm === null) return;
    const customer = await findBuyerCustomer(db, buyerId);
    if (customer?.stripe_customer_id != null && customer.stripe_customer_id === idOf(intent.customer)) await makeDefaultIfNone(db, stripe, buyerId, pm);
  },
};

export const customerHandlers: HandlerRegistry = {
  'payment_method.attached': card,
  'payment_method.detached': card,
  'payment_method.updated': card,
  'payment_method.automatically_updated': card,
  'customer.updated': customerUpdated,
  'setup_intent.succeeded': setup,
  'setup_intent.setup_failed': setup,
  'setup_intent.canceled': setup,
};
