// Counting requests an endpoint refused for their signature (nothing of them is stored in the
// inbox): one row per endpoint and minute, incremented in place.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Endpoint } from './queries.ts';

export async function recordSignatureFailure(db: Kysely<Database>, source: Endpoint, reason: string): Promise<void> {
  await db
    .insertInto('webhook_signature_failures')
    .values({ source, minute: sql<Date>`date_trunc('minute', now())`, failures: 1, last_reason: reason, last_at: sql<Date>`now()` })
    .onConflict((oc) =>
      oc.columns(['source', 'minute']).doUpdateSet({
        failures: sql<number>`webhook_signature_failures.failures + 1`,
        last_reason: reason,
        last_at: sql<Date>`now()`,
      }),
    )
    .execute();
}

/** Drops counts older than a day (the warning looks at the last hour). */
export async function pruneSignatureFailures(db: Kysely<Database>): Promise<void> {
  await db
    .deleteFrom('webhook_signature_failures')
    .where('minute', '<', sql<Date>`now() - interval '1 day'`)
    .execute();
}
