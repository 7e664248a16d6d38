// What the two queues worked by the background worker share — the webhook inbox
// (src/webhooks/processor.ts) and the email outbox (src/email/sender.ts): the worker id a claim
// records in `locked_by`, the backoff before a failed item is tried again, and the loop that works
// the queue round after round, sleeping when it is empty and woken early when something arrives.
import { randomBytes } from 'node:crypto';

/** Identifies this process's claims in `locked_by`: the machine, the pid and a random part. */
export function newWorkerId(): string {
  return `${process.env.FLY_MACHINE_ID ?? 'local'}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

export interface BackoffOptions {
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Up to this fraction of the delay is added at random, so failures do not retry in step. */
  jitter: number;
}

/** The delay before retry number `attempt` (1-based: the wait after the first failure is attempt 1). */
export function backoffMs(attempt: number, options: BackoffOptions, random = Math.random): number {
  const base = Math.min(options.backoffMaxMs, options.backoffBaseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(base + base * options.jitter * random());
}

export interface PollingLoop {
  /** Something was queued: start the next round now instead of at the next poll. */
  wake(): void;
  /** Ends the loop after the round in hand. */
  stop(): Promise<void>;
}

/**
 * Runs `round` until stopped. A round resolves to true when more may be due at once (it took a full
 * batch): the next round starts straight away. Otherwise the loop sleeps `pollMs`, or until woken; a
 * wake that comes during a round ends the sleep that follows it at once. A round that throws is
 * reported to `onError` and the loop sleeps `errorSleepMs` (the database is away, say) and goes on.
 */
export function startPollingLoop(options: {
  pollMs: number;
  errorSleepMs: number;
  round: () => Promise<boolean>;
  onError: (error: unknown) => void;
}): PollingLoop {
  let stopped = false;
  let woken = false;
  let wakeUp: (() => void) | undefined;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (woken || stopped) {
        woken = false;
        resolve();
        return;
      }
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeUp = undefined;
        woken = false;
        resolve();
      }
      wakeUp = done;
    });
  const loop = (async () => {
    while (!stopped) {
      try {
        if (!(await options.round())) await sleep(options.pollMs);
      } catch (error) {
        options.onError(error);
        await sleep(options.errorSleepMs);
      }
    }
  })();
  return {
    wake() {
      woken = true;
      wakeUp?.();
    },
    async stop() {
      stopped = true;
      wakeUp?.();
      await loop;
    },
  };
}
