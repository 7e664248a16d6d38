// What the webhook health page and the worker's health log read. Every query is answered from an
// index in a bounded number of rows (no whole-table aggregate), so the page costs the same with a
// million events in the inbox as with a hundred.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';

export type Endpoint = 'platform' | 'connect';
export const ENDPOINTS: readonly Endpoint[] = ['platform', 'connect'];

export interface EndpointFacts {
  source: Endpoint;
  /** The newest event this endpoint stored. */
  lastReceivedAt: Date | null;
  /** When the newest of its events that has been processed was processed. */
  lastProcessedAt: Date | null;
  /** Requests refused for their signature in the last hour, and the latest such refusal. */
  signatureFailuresLastHour: number;
  lastSignatureFailure: { at: Date; reason: string } | null;
}

export interface WebhookFacts {
  endpoints: EndpointFacts[];
  /** Events not yet settled: waiting, being processed, failed and waiting to be retried. */
  backlog: { pending: number; processing: number; failed: number };
  /** Received time of the oldest event waiting or being processed (null: none). */
  oldestWaitingAt: Date | null;
  /** Events whose retries are exhausted: an admin has to look. */
  dead: number;
  /** Sellers that have a Stripe account, and since when the first one has. */
  sellerAccounts: { count: number; firstRequestedAt: Date | null };
}

async function endpointFacts(db: Kysely<Database>, source: Endpoint, now: Date): Promise<EndpointFacts> {
  const received = await db
    .selectFrom('stripe_events')
    .select('received_at')
    .where('source', '=', source)
    .orderBy('received_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  // Walks the endpoint's newest events back past those still waiting: bounded by the backlog.
  const processed = await db
    .selectFrom('stripe_events')
    .select('processed_at')
    .where('source', '=', source)
    .where('status', 'in', ['done', 'ignored'])
    .orderBy('received_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  const hourAgo = new Date(now.getTime() - 3600_000);
  const failures = await db
    .selectFrom('webhook_signature_failures')
    .select([sql<number>`coalesce(sum(failures), 0)::int`.as('failures')])
    .where('source', '=', source)
    .where('minute', '>', hourAgo)
    .executeTakeFirstOrThrow();
  const last = await db
    .selectFrom('webhook_signature_failures')
    .select(['last_at', 'last_reason'])
    .where('source', '=', source)
    .orderBy('minute', 'desc')
    .limit(1)
    .executeTakeFirst();
  return {
    source,
    lastReceivedAt: received?.received_at ?? null,
    lastProcessedAt: processed?.processed_at ?? null,
    signatureFailuresLastHour: failures.failures,
    lastSignatureFailure: last === undefined ? null : { at: last.last_at, reason: last.last_reason },
  };
}

export async function readWebhookFacts(db: Kysely<Database>, now: Date): Promise<WebhookFacts> {
  const endpoints = await Promise.all(ENDPOINTS.map((source) => endpointFacts(db, source, now)));
  // Counted from the status index over the unsettled and dead rows only (done/ignored are skipped).
  const counts = await db
    .selectFrom('stripe_events')
    .select(['status', sql<number>`count(*)::int`.as('count')])
    .where('status', 'in', ['pending', 'processing', 'failed', 'dead'])
    .groupBy('status')
    .execute();
  const count = (status: string) => counts.find((c) => c.status === status)?.count ?? 0;
  // One backward index read per status rather than min() over both at once.
  const oldest = await sql<{ at: Date | null }>`
    select least((select min(received_at) from stripe_events where status = 'pending'),
                 (select min(received_at) from stripe_events where status = 'processing')) as at`.execute(db);
  // Sellers are people who onboarded: a small table, read whole.
  const sellers = await db
    .selectFrom('sellers')
    .select([sql<number>`count(*)::int`.as('count'), sql<Date | null>`min(coalesce(account_requested_at, created_at))`.as('first')])
    .where('stripe_account_id', 'is not', null)
    .executeTakeFirstOrThrow();
  return {
    endpoints,
    backlog: { pending: count('pending'), processing: count('processing'), failed: count('failed') },
    oldestWaitingAt: oldest.rows[0]?.at ?? null,
    dead: count('dead'),
    sellerAccounts: { count: sellers.count, firstRequestedAt: sellers.first },
  };
}
