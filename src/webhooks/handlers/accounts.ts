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
import type { Kysely } from 'kysely';
import type Stripe from 'stripe';
import type { Database } from '../../db/schema.ts';
import { recordAccountSnapshot } from '../../sellers/account-state.ts';
import type { EventHandler, HandlerContext } from '../registry.ts';

const eventTime = (event: Stripe.Event): Date => new Date(event.created * 1000);

async function storedObservedAt(db: Kysely<Database>, accountId: string): Promise<Date | null | undefined> {
  const row = await db.selectFrom('sellers').select('state_observed_at').where('stripe_account_id', '=', accountId).executeTakeFirst();
  return row === undefined ? undefined : row.state_observed_at;
}

/** True when the stored snapshot falls in the same second as the event: the order is undecidable. */
function sameSecond(stored: Date | null | undefined, event: Stripe.Event): stored is Date {
  return stored instanceof Date && Math.floor(stored.getTime() / 1000) === event.created;
}

/**
 * Records `account` (a snapshot at least as fresh as the event) for the event's time; settles a
 * same-second tie with `fresh` (a read from Stripe, fetched only when needed).
 */
async function applyAccount(ctx: HandlerContext, event: Stripe.Event, account: Stripe.Account, fresh: () => Promise<Stripe.Account>): Promise<void> {
  const { applied } = await recordAccountSnapshot(ctx.db, account, eventTime(event));
  if (applied) return;
  const stored = await storedObservedAt(ctx.db, account.id);
  if (!sameSecond(stored, event)) return; // no seller has this account, or the stored state is newer
  await recordAccountSnapshot(ctx.db, await fresh(), new Date(stored.getTime() + 1));
}

const accountUpdated: EventHandler<'account.updated'> = async (event, ctx) => {
  const account = event.data.object;
  await applyAccount(ctx, event, account, async () => {
    try {
      return await ctx.stripe.accounts.retrieve(account.id);
    } catch (error) {
      // Disconnected from our platform since: the deauthorization event records that; keep the payload.
      if ((error as { type?: unknown }).type === 'StripePermissionError') return account;
      throw error;
    }
  });
};

// A capability event carries the capability, not the account: the seller's state depends on the
// whole account (requirements, charges_enabled), so read the account as it is now.
const capabilityUpdated: EventHandler<'capability.updated'> = async (event, ctx) => {
  const capability = event.data.object;
  const accountId = typeof capability.account === 'string' ? capability.account : capability.account.id;
  if ((await storedObservedAt(ctx.db, accountId)) === undefined) return; // not one of our sellers
  const account = await ctx.stripe.accounts.retrieve(accountId);
  await applyAccount(ctx, event, account, async () => account);
};

// The account disconnected from our platform: we can no longer read it or charge for it. The
// seller keeps their row; their account is recorded as unable to take charges or payouts, which
// takes their listings out of the catalogue.
const applicationDeauthorized: EventHandler<'account.application.deauthorized'> = async (event, ctx) => {
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
      alternatives: [], current_deadline: null, currently_due: [], disabled_reason: 'other',
      errors: [], eventually_due: [], past_due: [], pending_verification: [],
    },
  } as unknown as Stripe.Account;
  await recordAccountSnapshot(ctx.db, disconnected, eventTime(event));
};

export const accountHandlers = {
  'account.updated': accountUpdated,
  'capability.updated': capabilityUpdated,
  'account.application.deauthorized': applicationDeauthorized,
};
