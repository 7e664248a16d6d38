// The buyer's platform Customer. Issue 12 owns it (src/customers/: one Customer per buyer, its id
// stored with a unique constraint); until that lands on main this stand-in asks Stripe with a key
// derived from the buyer's id, so one buyer gets one Customer within Stripe's 24 h key window.
// TEMPORARY: replaced by a re-export of ensureBuyerCustomer when main has src/customers/.
import type { Kysely } from 'kysely';
import type Stripe from 'stripe';
import type { Database } from '../db/schema.ts';
import { sendKeyed } from '../stripe/keyed.ts';

export async function customerForBuyer(db: Kysely<Database>, stripe: Stripe, buyerId: string): Promise<string> {
  const buyer = await db.selectFrom('users').select(['id', 'email', 'display_name']).where('id', '=', buyerId).executeTakeFirstOrThrow();
  const customer = await sendKeyed(() => stripe.customers.create(
    { email: buyer.email, name: buyer.display_name, metadata: { buyer_id: buyer.id } },
    { idempotencyKey: `buyer:${buyer.id}:customer` },
  ));
  return customer.id;
}
