// A buyer's platform Stripe Customer: exactly one per buyer, made the first time something needs it
// (saving a card, a purchase that saves one, subscribing), and told when the buyer's email or name
// changes. Creation follows the transaction rule:
//   (a) a short transaction records the intent (the buyer_customers row, with the email and name
//       the request will carry) — the first call writes it, racing calls find it;
//   (b) it commits;
//   (c) `customers.create` with the key `customer:<buyer id>` and no transaction open: ten first
//       actions racing send the same key with the same parameters, and Stripe makes one Customer;
//   (d) a second short transaction records the id unless one is recorded already (a no-op then).
// If we stop between (c) and (d), the next call sends the same key and gets the same Customer;
// after Stripe's idempotency window (a day) the Customer is found by its metadata instead.
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type Stripe from 'stripe';
import type { Database } from '../db/schema.ts';
import { DomainError } from '../errors.ts';
import { displayNameKey, displayNameProblem, tidyDisplayName } from '../auth/display-names.ts';
import { verifyPassword } from '../auth/passwords.ts';
import { findUserById } from '../auth/users.ts';
import { classifyStripeError } from '../stripe/errors.ts';
import { sendKeyed } from '../stripe/keyed.ts';
import { findBuyer, findBuyerCustomer, readDetailsToSync, recordCustomerId, recordCustomerRequest, recordDetailsSynced, updateBuyerName } from './queries.ts';

/** Derived from the buyer's id alone, so every "create this buyer's Customer" asks for the same one. */
export function customerIdempotencyKey(buyerId: string): string {
  return `customer:${buyerId}`;
}

/** Stripe keeps idempotency keys for at least 24 hours; we trust them for a little less. */
const IDEMPOTENCY_WINDOW_MS = 23 * 60 * 60 * 1000;

/**
 * The buyer's `cus_…` id, creating the Customer at Stripe the first time. Safe to call from any
 * number of requests at once. Throws `not_found` for an id that is not a buyer's.
 */
export async function ensureBuyerCustomer(db: Kysely<Database>, stripe: Stripe, buyerId: string): Promise<string> {
  const existing = await findBuyerCustomer(db, buyerId);
  if (existing?.stripe_customer_id != null) {
    if (existing.details_version > existing.details_synced_version) await syncDetailsIfReachable(db, stripe, buyerId);
    return existing.stripe_customer_id;
  }
  const buyer = await findBuyer(db, buyerId);
  if (buyer === undefined) throw new DomainError('not_found');

  const intent = await db.transaction().execute((trx) => recordCustomerRequest(trx, { id: buyer.id, email: buyer.email, name: buyer.display_name }));
  if (intent.stripe_customer_id !== null) return intent.stripe_customer_id;

  // A first attempt older than Stripe's idempotency window may have made a Customer we never
  // recorded; its key is gone, so look for it by our metadata.
  const stale = Date.now() - intent.requested_at.getTime() > IDEMPOTENCY_WINDOW_MS;
  const orphan = stale ? await findCustomerByBuyerId(stripe, buyerId, intent.requested_email) : undefined;
  const customer =
    orphan ??
    (await sendKeyed(() =>
      stripe.customers.create(
        {
          email: intent.requested_email,
          name: intent.requested_name,
          metadata: { buyer_id: buyerId },
        },
        { idempotencyKey: customerIdempotencyKey(buyerId) },
      ),
    ));

  const customerId = await db.transaction().execute((trx) => recordCustomerId(trx, buyerId, customer.id));
  // The buyer may have changed their email or name while the Customer was being made.
  if (buyer.email !== intent.requested_email || buyer.display_name !== intent.requested_name) await syncDetailsIfReachable(db, stripe, buyerId);
  return customerId;
}

/** A change Stripe has not heard of yet (it was unreachable then): tell it now, or next time. */
async function syncDetailsIfReachable(db: Kysely<Database>, stripe: Stripe, buyerId: string): Promise<void> {
  try {
    await syncBuyerCustomerDetails(db, stripe, buyerId);
  } catch (error) {
    if (classifyStripeError(error)?.kind !== 'unavailable') throw error;
  }
}

async function findCustomerByBuyerId(stripe: Stripe, buyerId: string, email: string): Promise<Stripe.Customer | undefined> {
  for await (const customer of stripe.customers.list({ email, limit: 100 })) {
    if (customer.metadata.buyer_id === buyerId) return customer;
  }
  return undefined;
}

/**
 * Tells Stripe the buyer's current email and name (after they changed them; see
 * noteBuyerDetailsChanged). The key names the version and the details, so a retry sends the same
 * request and a newer change (even back to older details) a new one. Nothing to do before the buyer
 * has a Customer: it will be created with the details of that moment.
 */
export async function syncBuyerCustomerDetails(db: Kysely<Database>, stripe: Stripe, buyerId: string): Promise<void> {
  const row = await readDetailsToSync(db, buyerId);
  if (row?.stripe_customer_id == null) return;
  const customerId = row.stripe_customer_id;
  const digest = createHash('sha256').update(`${row.email}\u0000${row.display_name}`).digest('hex').slice(0, 16);
  await sendKeyed(() =>
    stripe.customers.update(
      customerId,
      { email: row.email, name: row.display_name },
      {
        idempotencyKey: `${customerIdempotencyKey(buyerId)}:details:${row.details_version}:${digest}`,
      },
    ),
  );
  await recordDetailsSynced(db, buyerId, row.details_version);
}

/**
 * The buyer changes their name: our row first (with the note that Stripe must hear of it),
 * committed; then Stripe. If Stripe cannot be reached the change stands and Stripe is told the next
 * time the buyer's Customer is needed (ensureBuyerCustomer). The email is not touched here: it
 * changes only through a confirmed link (accounts/use-cases.ts), and writing back the email the
 * request started with could undo a confirmation that committed meanwhile.
 */
export async function updateBuyerDetails(
  db: Kysely<Database>,
  stripe: Stripe,
  input: { buyerId: string; displayName: string; currentPassword?: string },
): Promise<{ stripeUpdated: boolean }> {
  // From a page the buyer proves it is them (a borrowed session must not rename the account).
  if (input.currentPassword !== undefined) {
    const user = await findUserById(db, input.buyerId);
    if (user === undefined || !(await verifyPassword(user.password_hash, input.currentPassword))) {
      throw new DomainError('buyer_details_invalid', { fields: { password: 'That is not your current password.' } });
    }
  }
  const displayName = tidyDisplayName(input.displayName);
  const problem = displayNameProblem(displayName, 'buyer');
  if (problem !== null) throw new DomainError('buyer_details_invalid', { fields: { displayName: problem } });
  await db.transaction().execute((trx) => updateBuyerName(trx, input.buyerId, { displayName, nameKey: displayNameKey(displayName) }));
  try {
    await syncBuyerCustomerDetails(db, stripe, input.buyerId);
    return { stripeUpdated: true };
  } catch (error) {
    if (classifyStripeError(error)?.kind !== 'unavailable') throw error;
    return { stripeUpdated: false };
  }
}
