// Account family: a seller's Connect account state follows Stripe's events through the sellers
// module's one state function (recordAccountSnapshot), which applies a snapshot only if it is
// fresher than what is stored. Freshness of an event payload is `event.created`.
//
// `event.created` has one-second resolution, and the state function keeps what it has on a tie (it
// cannot tell which of two same-second snapshots is newer). Stripe often sends several
// account.updated events within one second, so a tie is settled by re-reading the account from
// Stripe — the truth now — and recording it a millisecond after the stored snapshot: newer than the
// tie, still inside that second, so it can never outrank an event from a later second. Any event of
// that second created after our read will tie again and re-read again, so the last one wins.
// The re-read happens before the transaction (the read step), when the stored snapshot is already
// of the event's second; a tie that appears only between the read and the write (a concurrent
// event of the same second) makes the processor read again.
import type { Kysely, Transaction } from 'kysely';
import type Stripe from 'stripe';
import type { Database } from '../../db/schema.ts';
import { classifyStripeError } from '../../stripe/errors.ts';
import { recordAccountSnapshot, storedObservedAt } from '../../sellers/queries.ts';
import { ReadAgain, type ApplyOnly, type EventHandler, type HandlerRegistry } from '../handler.ts';

const eventTime = (event: { created: number }): Date => new Date(event.created * 1000);

/** True when the stored snapshot falls in the same second as the event: the order is undecidable. */
function sameSecond(stored: Date | null | undefined, event: { created: number }): stored is Date {
  return stored instanceof Date && Math.floor(stored.getTime() / 1000) === event.created;
}

/** The account as Stripe has it now, if the stored snapshot already ties with the event. */
async function readIfTied(
  db: Kysely<Database>,
  stripe: Stripe,
  accountId: string,
  event: { created: number },
  payload?: Stripe.Account,
): Promise<Stripe.Account | undefined> {
  if (!sameSecond(await storedObservedAt(db, accountId), event)) return undefined;
  try {
    return await stripe.accounts.retrieve(accountId);
  } catch (error) {
    // Disconnected from our platform since: the deauthorization event records that; keep the payload.
    const problem = classifyStripeError(error);
    if (payload !== undefined && problem?.kind === 'refused' && problem.accountGone) return payload;
    throw error;
  }
}

/**
 * Records `account` (a snapshot at least as fresh as the event) for the event's time; settles a
 * same-second tie with `fresh`, the read made before the transaction.
 */
async function applyAccount(db: Transaction<Database>, event: { created: number }, account: Stripe.Account, fresh: Stripe.Account | undefined): Promise<void> {
  const { applied } = await recordAccountSnapshot(db, account, eventTime(event));
  if (applied) return;
  const stored = await storedObservedAt(db, account.id);
  if (!sameSecond(stored, event)) return; // no seller has this account, or the stored state is newer
  if (fresh === undefined) throw new ReadAgain(`account ${account.id}: a snapshot of the same second was stored after the read`);
  await recordAccountSnapshot(db, fresh, new Date(stored.getTime() + 1));
}

const accountUpdated: EventHandler<'account.updated', Stripe.Account | undefined> = {
  read: (event, { db, stripe }) => readIfTied(db, stripe, event.data.object.id, event, event.data.object),
  apply: (event, { db, facts }) => applyAccount(db, event, event.data.object, facts),
};

// A capability event carries the capability, not the account: the seller's state depends on the
// whole account (requirements, charges_enabled), so read the account as it is now.
const capabilityUpdated: EventHandler<'capability.updated', Stripe.Account | undefined> = {
  async read(event, { db, stripe }) {
    const capability = event.data.object;
    const accountId = typeof capability.account === 'string' ? capability.account : capability.account.id;
    if ((await storedObservedAt(db, accountId)) === undefined) return undefined; // not one of our sellers
    return stripe.accounts.retrieve(accountId);
  },
  async apply(event, { db, facts }) {
    if (facts !== undefined) await applyAccount(db, event, facts, facts);
  },
};

// The account disconnected from our platform: we can no longer read it or charge for it. The
// seller keeps their row; their account is recorded as unable to take charges or payouts, which
// takes their listings out of the catalogue.
const applicationDeauthorized: ApplyOnly<'account.application.deauthorized'> = async (event, { db }) => {
  const accountId = event.account;
  if (accountId === undefined) return; // our own platform's application: nothing of a seller's
  const disconnected = {
    id: accountId,
    object: 'account',
    charges_enabled: false,
    payouts_enabled: false,
    details_submitted: true,
    capabilities: {},
    requirements: {
      alternatives: [],
      current_deadline: null,
      currently_due: [],
      disabled_reason: 'other',
      errors: [],
      eventually_due: [],
      past_due: [],
      pending_verification: [],
    },
  } as unknown as Stripe.Account;
  await recordAccountSnapshot(db, disconnected, eventTime(event));
};

export const accountHandlers: HandlerRegistry = {
  'account.updated': accountUpdated,
  'capability.updated': capabilityUpdated,
  'account.application.deauthorized': applicationDeauthorized,
};
