// The admin audit log: one row per admin action, written through the SAME transaction (`db` is a
// Kysely transaction) as the change it records. If the change rolls back, so does its log entry;
// if it commits, the entry commits with it. Actions that call Stripe record the request when it is
// made and the outcome when it is known (two entries), so even a crash in between leaves a trace.
import { sql, type Kysely } from 'kysely';
import type { AuditEntry, Database } from '../db/schema.ts';
import { UUID_PATTERN } from '../ids.ts';

export interface Actor {
  id: string;
  email: string;
}

export interface AuditInput {
  action: string;
  targetType: string;
  targetId: string;
  before?: unknown;
  after?: unknown;
}

export async function recordAudit(db: Kysely<Database>, actor: Actor, input: AuditInput): Promise<void> {
  await db
    .insertInto('admin_audit_log')
    .values({
      actor_id: actor.id,
      actor_email: actor.email,
      action: input.action,
      target_type: input.targetType,
      target_id: input.targetId,
      before: input.before === undefined ? null : JSON.stringify(input.before),
      after: input.after === undefined ? null : JSON.stringify(input.after),
    })
    .execute();
}

/**
 * Whether an entry of `action` whose `after` has `key` = `value` exists: an outcome recorded by a
 * second caller (a double submit, a retry after a crash) is not recorded twice. Call it under the
 * lock of the row the action is about.
 */
export async function hasAuditEntry(db: Kysely<Database>, action: string, key: string, value: string): Promise<boolean> {
  const row = await db
    .selectFrom('admin_audit_log')
    .select('id')
    .where('action', '=', action)
    .where(sql<string>`after ->> ${key}`, '=', value)
    .executeTakeFirst();
  return row !== undefined;
}

export interface AuditFilter {
  targetType?: string | undefined;
  targetId?: string | undefined;
  /** Entries about any of these (a subscription and its invoices, say). */
  targetIds?: readonly string[] | undefined;
  action?: string | undefined;
  /** Keyset: entries older than this id. */
  beforeId?: number | undefined;
  limit?: number;
}

export async function listAudit(db: Kysely<Database>, filter: AuditFilter = {}): Promise<AuditEntry[]> {
  let query = db
    .selectFrom('admin_audit_log')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(filter.limit ?? 50);
  if (filter.targetType !== undefined) query = query.where('target_type', '=', filter.targetType);
  if (filter.targetId !== undefined) query = query.where('target_id', '=', filter.targetId);
  if (filter.targetIds !== undefined) query = query.where('target_id', 'in', [...filter.targetIds]);
  if (filter.action !== undefined) query = query.where('action', '=', filter.action);
  if (filter.beforeId !== undefined) query = query.where('id', '<', filter.beforeId);
  return query.execute();
}

/** Display names of the users (sellers included) with these ids; ids that are not users are left out. */
export async function auditNames(db: Kysely<Database>, ids: readonly string[]): Promise<Map<string, string>> {
  const uuids = [...new Set(ids)].filter((id) => UUID_RE.test(id));
  if (uuids.length === 0) return new Map();
  const rows = await db.selectFrom('users').select(['id', 'display_name']).where('id', 'in', uuids).execute();
  return new Map(rows.map((r) => [r.id, r.display_name]));
}

const UUID_RE = new RegExp(UUID_PATTERN);
