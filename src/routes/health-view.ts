// What the webhook health page, the admin home's card (healthView) and /admin/health.json
// (healthJson, for monitors) show of a health check (src/health/webhook-health.ts).
import type { WebhookHealth } from '../health/webhook-health.ts';

const ageSeconds = (at: Date | null, now: Date) => (at === null ? null : Math.max(0, Math.round((now.getTime() - at.getTime()) / 1000)));

export function healthJson(health: WebhookHealth) {
  const { facts, checkedAt } = health;
  return {
    status: health.status,
    checkedAt: checkedAt.toISOString(),
    warnings: health.warnings.map((w) => ({ code: w.code, ...(w.endpoint ? { endpoint: w.endpoint } : {}), message: w.message, details: w.details })),
    endpoints: facts.endpoints.map((e) => ({
      source: e.source,
      lastReceivedAt: e.lastReceivedAt?.toISOString() ?? null,
      lastProcessedAt: e.lastProcessedAt?.toISOString() ?? null,
      signatureFailuresLastHour: e.signatureFailuresLastHour,
    })),
    backlog: {
      ...facts.backlog,
      oldestWaitingAt: facts.oldestWaitingAt?.toISOString() ?? null,
      oldestWaitingSeconds: ageSeconds(facts.oldestWaitingAt, checkedAt),
    },
    dead: facts.dead,
    sellersWithStripeAccounts: facts.sellerAccounts.count,
    thresholds: health.thresholds,
  };
}

/** What the page and the admin home's card show. */
export function healthView(health: WebhookHealth) {
  const { facts } = health;
  return {
    ok: health.status === 'ok',
    warnings: health.warnings,
    endpoints: facts.endpoints.map((e) => ({ ...e, path: e.source === 'connect' ? '/webhooks/stripe/connect' : '/webhooks/stripe' })),
    backlog: facts.backlog,
    oldestWaitingAt: facts.oldestWaitingAt,
    oldestWaitingSeconds: ageSeconds(facts.oldestWaitingAt, health.checkedAt),
    dead: facts.dead,
    needsAttention: health.warnings.length > 0 || facts.backlog.failed + facts.dead > 0,
    sellersWithStripeAccounts: facts.sellerAccounts.count,
    thresholds: health.thresholds,
    checkedAt: health.checkedAt,
  };
}
