// The background worker: processes the webhook inbox and runs the scheduled jobs (backfill, health
// check, admin totals). It runs inside `npm start` (role `all`, woken at once by the web routes
// when an event arrives) and alone as the `worker` process on Fly, woken by PostgreSQL's NOTIFY
// the moment an event is committed in any process (`listen`), with a poll as fallback.
// Any number may run: claims use SKIP LOCKED, and the backfill takes a PostgreSQL advisory lock so
// only one instance lists from Stripe at a time.
import { sql, type Kysely } from 'kysely';
import type Stripe from 'stripe';
import { deleteErasedCustomers, eraseStoredEventsOfDeletedBuyers } from '../accounts/use-cases.ts';
import { refreshAdminTotals } from '../admin/summary.ts';
import type { WebhookHealthThresholds } from '../config.ts';
import type { Listen, Unlisten } from '../db/notifications.ts';
import type { Database } from '../db/schema.ts';
import { pruneSignatureFailures } from '../health/signature-failures.ts';
import { logWebhookHealth } from '../health/webhook-health.ts';
import { reconcilePendingOrders } from '../orders/use-cases.ts';
import { backfillEvents, describeBackfill } from '../webhooks/backfill.ts';
import { INBOX_CHANNEL } from '../webhooks/inbox.ts';
import { startEmailSender } from '../email/sender.ts';
import { startPollingLoop } from '../jobs/polling-loop.ts';
import type { EmailWorkerOptions } from '../email/setup.ts';
import { processDueEvents, resolveProcessorOptions, type ProcessorOptions } from '../webhooks/processor.ts';

export interface WorkerLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface WorkerOptions extends ProcessorOptions {
  /** The livemode our key expects (see expectedLivemode): backfilled events are checked against it. */
  livemode: boolean;
  /** How often to look for due events when nobody wakes us (retries coming due, a lost notification). */
  pollMs?: number;
  /** Hear NOTIFYs (the database handle's `listen`): a new event in any process wakes us at once. Unset → wake() and the poll only. */
  listen?: Listen | undefined;
  /** Events of one batch processed at once (each needs a database connection). */
  concurrency?: number;
  /** Scheduled backfill interval; null turns it off. First run shortly after start. */
  backfillEveryMs?: number | null;
  backfillFirstAfterMs?: number;
  /** Webhook health check: its warnings are logged (structured, `warning` = code) every `healthEveryMs`. Omitted → no check. */
  healthThresholds?: WebhookHealthThresholds;
  healthEveryMs?: number;
  /** How often the admin home's totals are recomputed; null turns it off. */
  totalsEveryMs?: number | null;
  log?: WorkerLogger;
  /** The email outbox sender (src/email/sender.ts), run beside the inbox loop when given. */
  email?: EmailWorkerOptions | undefined;
}

export interface RunningWorker {
  readonly workerId: string;
  /** Something was stored: look now instead of at the next poll. */
  wake(): void;
  /** Finishes the batch in hand and stops. */
  stop(): Promise<void>;
}

/** Arbitrary but fixed: the advisory lock key that serialises scheduled backfills across processes. */
const BACKFILL_LOCK_KEY = 5_000_005;

const silentLogger: WorkerLogger = { info() {}, warn() {}, error() {} };

export function startWorker(db: Kysely<Database>, stripe: Stripe, options: WorkerOptions): RunningWorker {
  const resolved = resolveProcessorOptions(options);
  const pollMs = options.pollMs ?? 500;
  const concurrency = options.concurrency ?? 8;
  const log = options.log ?? silentLogger;
  let stopped = false;

  const inbox = startPollingLoop({
    pollMs,
    // The database is away (or similar): keep going, a little slower. Events are safe in the inbox.
    errorSleepMs: Math.max(pollMs, 2000),
    round: async () => {
      const batch = await processDueEvents(db, stripe, resolved, concurrency);
      if (batch.outcomes.failed + batch.outcomes.dead > 0) log.warn({ ...batch.outcomes }, 'webhook events failed');
      return batch.claimed > 0;
    },
    onError: (error) => log.error({ err: error }, 'worker: could not process the inbox'),
  });

  // Whoever makes an event pending NOTIFYs this channel after committing: the webhook routes and the
  // backfill (src/webhooks/inbox.ts notifyPendingEvents), a replay through its trigger.
  const unlisten: Promise<Unlisten> | undefined = options.listen?.(
    INBOX_CHANNEL,
    () => inbox.wake(),
    (error) => log.warn({ err: error }, 'worker: lost the inbox LISTEN connection; reconnecting (the poll still runs)'),
  );
  unlisten?.catch((error: unknown) => log.error({ err: error }, 'worker: could not LISTEN for new events; polling only'));

  let backfillTimer: NodeJS.Timeout | undefined;
  let backfillRunning: Promise<void> | undefined;
  const scheduleBackfill = (delay: number) => {
    if (stopped || options.backfillEveryMs === null) return;
    backfillTimer = setTimeout(() => {
      backfillRunning = runScheduledBackfill(db, stripe, options.livemode, log).finally(() => {
        backfillRunning = undefined;
        scheduleBackfill(options.backfillEveryMs ?? 15 * 60_000);
      });
    }, delay);
    backfillTimer.unref();
  };
  scheduleBackfill(options.backfillFirstAfterMs ?? 10_000);
  const emailSender = options.email === undefined ? undefined : startEmailSender(db, options.email.transport, { ...options.email, log });

  // Smaller periodic jobs, each never overlapping itself, all stopped with the worker.
  const timers: NodeJS.Timeout[] = [];
  const running = new Set<Promise<void>>();
  const every = (ms: number, firstAfterMs: number, name: string, job: () => Promise<unknown>) => {
    let busy = false;
    const tick = () => {
      if (stopped || busy) return;
      busy = true;
      const run = job()
        .then(
          () => {},
          (error: unknown) => log.error({ err: error, job: name }, `worker: ${name} failed; it runs again at the next interval`),
        )
        .finally(() => {
          busy = false;
          running.delete(run);
        });
      running.add(run);
    };
    const first = setTimeout(
      () => {
        tick();
        const repeat = setInterval(tick, ms);
        repeat.unref();
        timers.push(repeat);
      },
      Math.min(firstAfterMs, ms),
    );
    first.unref();
    timers.push(first);
  };
  if (options.healthThresholds !== undefined) {
    const thresholds = options.healthThresholds;
    every(options.healthEveryMs ?? 5 * 60_000, 15_000, 'webhook health check', async () => {
      await logWebhookHealth(db, thresholds, log);
      await pruneSignatureFailures(db);
    });
  }
  if (options.totalsEveryMs !== null) every(options.totalsEveryMs ?? 60_000, 5_000, 'admin totals refresh', () => refreshAdminTotals(db));

  return {
    workerId: resolved.workerId,
    wake() {
      inbox.wake();
      emailSender?.wake();
    },
    async stop() {
      stopped = true;
      const inboxStopped = inbox.stop();
      clearTimeout(backfillTimer);
      for (const timer of timers) clearTimeout(timer);
      await unlisten?.then(
        (stop) => stop(),
        () => {},
      );
      await inboxStopped;
      await backfillRunning;
      await Promise.all(running);
      await emailSender?.stop();
    },
  };
}

/** One backfill across all scopes, then the pending-order reconciliation and the deleted accounts' Customers and stored events, unless another process is running them right now. */
export async function runScheduledBackfill(db: Kysely<Database>, stripe: Stripe, livemode: boolean, log: WorkerLogger = silentLogger): Promise<void> {
  try {
    // The advisory lock belongs to this connection's session, so the run uses this one connection
    // (PGlite has only one); it holds no transaction while it calls Stripe.
    await db.connection().execute(async (conn) => {
      const locked = await sql<{ locked: boolean }>`select pg_try_advisory_lock(${BACKFILL_LOCK_KEY}) as locked`.execute(conn);
      if (locked.rows[0]?.locked !== true) return;
      try {
        const report = await backfillEvents(conn, stripe, { livemode });
        const inserted = report.scopes.reduce((n, s) => n + s.inserted, 0);
        if (inserted > 0 || report.errors.length > 0) log.info({ inserted, errors: report.errors.length }, describeBackfill(report).join('; '));
        // Then ask Stripe about orders still pending past their checkout's life: the safety net for
        // a payment whose events were lost beyond what the backfill could list.
        const reconciled = await reconcilePendingOrders(conn, stripe);
        if (reconciled.settled > 0) log.info({ ...reconciled }, 'settled pending orders from Stripe');
        // Deleted accounts whose Stripe Customer could not be deleted at the time (Stripe was away).
        const erased = await deleteErasedCustomers(conn, stripe);
        if (erased.deleted > 0) log.info({ deleted: erased.deleted }, 'deleted the Stripe Customers of deleted accounts');
        for (const err of erased.failures) log.warn({ err }, "could not delete a deleted account's Stripe Customer; tried again at the next run");
        // And their details in the events we stored about them (customer.deleted among them).
        const scrubbed = await eraseStoredEventsOfDeletedBuyers(conn);
        if (scrubbed > 0) log.info({ events: scrubbed }, "removed deleted accounts' details from stored Stripe events");
      } finally {
        await sql`select pg_advisory_unlock(${BACKFILL_LOCK_KEY})`.execute(conn);
      }
    });
  } catch (error) {
    log.error({ err: error }, 'scheduled backfill failed; it runs again at the next interval');
  }
}
