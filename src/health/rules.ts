// When the webhook pipeline needs an operator, decided from the facts alone (pure: the page, the
// JSON for monitors and the worker's log all apply the same rules).
//  - connect_silent: sellers have Stripe accounts but the Connect endpoint has stored nothing for
//    `connectSilenceHours` — counted from the later of its last event and the first seller
//    account, so a marketplace whose first seller signed up an hour ago is not yet "silent". The
//    usual cause: the Connect endpoint ("Events on Connected accounts") is not registered, or its
//    secret is wrong; account and payout changes are then never seen.
//  - backlog_old: the oldest event waiting (or stuck in processing) is older than
//    `backlogMaxAgeMinutes` — the worker is down, or cannot keep up.
//  - signature_failures: an endpoint refused at least `signatureFailuresPerHour` requests for their
//    signature in the last hour — usually a rotated or mistyped signing secret (Stripe retries
//    those events for three days, so fixing the secret recovers them).
import type { WebhookHealthThresholds } from '../config.ts';
import type { Endpoint, WebhookFacts } from './queries.ts';

export type HealthWarningCode = 'connect_silent' | 'backlog_old' | 'signature_failures';

export interface HealthWarning {
  code: HealthWarningCode;
  message: string;
  endpoint?: Endpoint;
  /** Machine-readable numbers behind the message (for monitors and structured logs). */
  details: Record<string, number | string | null>;
}

const HOUR = 3600_000;
const MINUTE = 60_000;

export function webhookWarnings(facts: WebhookFacts, thresholds: WebhookHealthThresholds, now: Date): HealthWarning[] {
  const warnings: HealthWarning[] = [];

  const connect = facts.endpoints.find((e) => e.source === 'connect');
  const firstAccount = facts.sellerAccounts.firstRequestedAt;
  if (facts.sellerAccounts.count > 0 && firstAccount !== null) {
    const lastConnect = connect?.lastReceivedAt ?? null;
    const quietSince = lastConnect !== null && lastConnect > firstAccount ? lastConnect : firstAccount;
    const quietHours = (now.getTime() - quietSince.getTime()) / HOUR;
    if (quietHours >= thresholds.connectSilenceHours) {
      warnings.push({
        code: 'connect_silent',
        endpoint: 'connect',
        message:
          lastConnect === null
            ? `No event has ever arrived at the Connect endpoint, and ${facts.sellerAccounts.count} seller(s) have had Stripe accounts for ${Math.floor(quietHours)} hours. Register /webhooks/stripe/connect with "Events on Connected accounts" and check STRIPE_CONNECT_WEBHOOK_SECRET.`
            : `No event from the Connect endpoint for ${Math.floor(quietHours)} hours while ${facts.sellerAccounts.count} seller(s) have Stripe accounts. Check that the Connect endpoint is still registered and enabled in the Stripe Dashboard.`,
        details: {
          sellers: facts.sellerAccounts.count,
          quietHours: Math.floor(quietHours),
          thresholdHours: thresholds.connectSilenceHours,
          lastReceivedAt: lastConnect?.toISOString() ?? null,
        },
      });
    }
  }

  if (facts.oldestWaitingAt !== null) {
    const ageMinutes = (now.getTime() - facts.oldestWaitingAt.getTime()) / MINUTE;
    if (ageMinutes >= thresholds.backlogMaxAgeMinutes) {
      warnings.push({
        code: 'backlog_old',
        message: `The oldest unprocessed event has waited ${Math.floor(ageMinutes)} minutes (${facts.backlog.pending} waiting, ${facts.backlog.processing} being processed). Is the worker running and keeping up?`,
        details: {
          ageMinutes: Math.floor(ageMinutes),
          thresholdMinutes: thresholds.backlogMaxAgeMinutes,
          pending: facts.backlog.pending,
          processing: facts.backlog.processing,
        },
      });
    }
  }

  for (const endpoint of facts.endpoints) {
    if (endpoint.signatureFailuresLastHour >= thresholds.signatureFailuresPerHour) {
      warnings.push({
        code: 'signature_failures',
        endpoint: endpoint.source,
        message: `The ${endpoint.source} endpoint refused ${endpoint.signatureFailuresLastHour} request(s) for their signature in the last hour (latest: ${endpoint.lastSignatureFailure?.reason ?? 'unknown'}). Check ${endpoint.source === 'connect' ? 'STRIPE_CONNECT_WEBHOOK_SECRET' : 'STRIPE_WEBHOOK_SECRET'} against the endpoint's signing secret in the Stripe Dashboard.`,
        details: {
          failures: endpoint.signatureFailuresLastHour,
          threshold: thresholds.signatureFailuresPerHour,
          lastReason: endpoint.lastSignatureFailure?.reason ?? null,
        },
      });
    }
  }
  return warnings;
}
