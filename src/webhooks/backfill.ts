// Backfill: lists events from Stripe and feeds them through the same inbox as webhooks (the event id
// is the key, so events we already have are no-ops). It covers the platform and, through the
// Stripe-Account header, each connected account we know. Run by `npm run stripe:backfill` after an
// outage and by the worker on a schedule.
//
// Where each scope starts: `--since` when given; else a little before what the previous listing of
// that scope got through (a cursor kept in stripe_backfill_cursors — not the newest *stored* event,
// which after an outage is already past the gap once deliveries resume); else the newest stored event
// of that scope; else as far back as Stripe keeps events. Stripe keeps them for 30 days: an older
// `since` is clamped, and the report says so.
import { sql, type Kysely } from 'kysely';
import type Stripe from 'stripe';
import type { Database } from '../db/schema.ts';
import { connectedAccountIds } from '../sellers/queries.ts';
import { notifyPendingEvents, storeEvent } from './inbox.ts';

export const STRIPE_EVENT_RETENTION_DAYS = 30;
/** Listings restart this far before the last cursor: events can become listable slightly late. */
const OVERLAP_SECONDS = 5 * 60;

export interface BackfillOptions {
  since?: Date | undefined;
  /** The livemode our key expects (see expectedLivemode). */
  livemode: boolean;
  now?: Date;
}

export interface ScopeReport {
  scope: string;
  since: Date;
  listed: number;
  inserted: number;
}

export interface BackfillReport {
  scopes: ScopeReport[];
  /** Set when `since` was older than Stripe keeps events: what was asked, and where we started. */
  clamped?: { requested: Date; from: Date };
  /** Scopes that could not be listed (e.g. an account that disconnected), with the reason. */
  errors: { scope: string; message: string }[];
}

export function retentionStart(now: Date): Date {
  return new Date(now.getTime() - STRIPE_EVENT_RETENTION_DAYS * 86_400_000);
}

export async function backfillEvents(db: Kysely<Database>, stripe: Stripe, options: BackfillOptions): Promise<BackfillReport> {
  const now = options.now ?? new Date();
  const oldest = retentionStart(now);
  const report: BackfillReport = { scopes: [], errors: [] };
  let since = options.since;
  if (since !== undefined && since < oldest) {
    report.clamped = { requested: since, from: oldest };
    since = oldest;
  }

  const scopes = ['platform', ...(await connectedAccountIds(db))];
  for (const scope of scopes) {
    try {
      report.scopes.push(await backfillScope(db, stripe, scope, since ?? (await startFor(db, scope, oldest)), options.livemode));
    } catch (error) {
      report.errors.push({ scope, message: error instanceof Error ? error.message : String(error) });
    }
  }
  return report;
}

async function startFor(db: Kysely<Database>, scope: string, oldest: Date): Promise<Date> {
  const cursor = await db.selectFrom('stripe_backfill_cursors').select('listed_through').where('scope', '=', scope).executeTakeFirst();
  let from: Date | undefined = cursor?.listed_through;
  if (from === undefined) {
    let newest = db.selectFrom('stripe_events').select((eb) => eb.fn.max('created').as('created'));
    newest = scope === 'platform' ? newest.where('account', 'is', null) : newest.where('account', '=', scope);
    const row = await newest.executeTakeFirst();
    from = row?.created ?? undefined;
  }
  if (from === undefined) return oldest;
  const withOverlap = new Date(from.getTime() - OVERLAP_SECONDS * 1000);
  return withOverlap < oldest ? oldest : withOverlap;
}

async function backfillScope(db: Kysely<Database>, stripe: Stripe, scope: string, since: Date, livemode: boolean): Promise<ScopeReport> {
  const report: ScopeReport = { scope, since, listed: 0, inserted: 0 };
  const requestOptions = scope === 'platform' ? {} : { stripeAccount: scope };
  let newest: number | undefined;
  let pendingStored = false;
  // Newest first, 100 a page; the SDK follows `has_more` with starting_after.
  for await (const event of stripe.events.list({ created: { gte: Math.floor(since.getTime() / 1000) }, limit: 100 }, requestOptions)) {
    report.listed += 1;
    newest = Math.max(newest ?? event.created, event.created);
    // Events listed under a connected account carry `account`; make sure, as webhooks do.
    const withAccount = scope === 'platform' || event.account !== undefined ? event : { ...event, account: scope };
    const stored = await storeEvent(db, withAccount, { source: 'backfill', livemode });
    if (stored.inserted) report.inserted += 1;
    if (stored.inserted && stored.status === 'pending') pendingStored = true;
  }
  // Workers in any process start on this scope's events while the next is listed. If the NOTIFY
  // fails they still find them at their next poll.
  if (pendingStored) await notifyPendingEvents(db).catch(() => {});
  if (newest !== undefined) {
    const through = new Date(newest * 1000);
    await db
      .insertInto('stripe_backfill_cursors')
      .values({ scope, listed_through: through })
      .onConflict((oc) =>
        oc.column('scope').doUpdateSet({
          listed_through: sql<Date>`greatest(stripe_backfill_cursors.listed_through, excluded.listed_through)`,
          updated_at: sql<Date>`now()`,
        }),
      )
      .execute();
  }
  return report;
}

export function describeBackfill(report: BackfillReport): string[] {
  const lines: string[] = [];
  if (report.clamped !== undefined) {
    lines.push(
      `Stripe keeps events for ${STRIPE_EVENT_RETENTION_DAYS} days: ${report.clamped.requested.toISOString()} is older, so the backfill starts at ${report.clamped.from.toISOString()}. Events before that can no longer be listed from Stripe.`,
    );
  }
  for (const s of report.scopes) lines.push(`${s.scope}: listed ${s.listed} event(s) since ${s.since.toISOString()}, ${s.inserted} new`);
  for (const e of report.errors) lines.push(`${e.scope}: could not list events (${e.message})`);
  return lines;
}
