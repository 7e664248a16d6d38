// The webhook health check: the facts (./queries.ts) and the warnings they call for (./rules.ts).
// Read by /admin/health (page and JSON) and the admin home, and run by the worker on a schedule
// to log the same warnings.
import type { Kysely } from 'kysely';
import type { WebhookHealthThresholds } from '../config.ts';
import type { Database } from '../db/schema.ts';
import { readWebhookFacts, type WebhookFacts } from './queries.ts';
import { webhookWarnings, type HealthWarning } from './rules.ts';

export interface WebhookHealth {
  status: 'ok' | 'warning';
  checkedAt: Date;
  facts: WebhookFacts;
  warnings: HealthWarning[];
  thresholds: WebhookHealthThresholds;
}

export async function checkWebhookHealth(db: Kysely<Database>, thresholds: WebhookHealthThresholds, now = new Date()): Promise<WebhookHealth> {
  const facts = await readWebhookFacts(db, now);
  const warnings = webhookWarnings(facts, thresholds, now);
  return { status: warnings.length > 0 ? 'warning' : 'ok', checkedAt: now, facts, warnings, thresholds };
}

export interface HealthLogger {
  warn(obj: object, msg: string): void;
}

/** The worker's side: each warning as one structured log line (`warning` is the code). */
export async function logWebhookHealth(db: Kysely<Database>, thresholds: WebhookHealthThresholds, log: HealthLogger, now = new Date()): Promise<WebhookHealth> {
  const health = await checkWebhookHealth(db, thresholds, now);
  for (const warning of health.warnings)
    log.warn({ warning: warning.code, ...(warning.endpoint ? { endpoint: warning.endpoint } : {}), ...warning.details }, warning.message);
  return health;
}
