// One NOTIFY for many stored events. Each webhook commits its own INSERT; the workers must hear of
// every one, but not once per event: a NOTIFY is a round trip, a pool connection and a transaction
// in PostgreSQL (at a few thousand deliveries a second, one per delivery or two was about a tenth
// of intake's CPU). So at most one is in flight or waiting per process, and sends start at least
// `minGapMs` apart: the first event after a quiet spell is announced at once, and a busy spell's
// events are announced together, at most `minGapMs` late (the worker then claims them as one
// batch, which is also cheaper than one at a time). Every announcement is followed by a send that
// starts after it, which is all a worker needs: it claims whatever is due when woken.
export interface Announcer {
  /** An event was committed: make sure a NOTIFY follows. */
  announce(): void;
  /** Resolves when nothing is in flight or asked for (for shutting down). */
  settled(): Promise<void>;
}

/** The webhook routes' gap between two NOTIFYs: little next to the lag goal (p99 ≤ 250 ms), and at most 50 a second. */
export const NOTIFY_MIN_GAP_MS = 20;

export function coalescingAnnouncer(send: () => Promise<void>, onError: (error: unknown) => void, options: { minGapMs?: number } = {}): Announcer {
  const minGapMs = options.minGapMs ?? 0;
  /** A send in flight, or waiting out the gap before it starts. */
  let pending: Promise<void> | undefined;
  /** Announced after the pending send started: it needs another. */
  let again = false;
  let lastStart = -Infinity;
  const begin = (): Promise<void> => {
    again = false;
    lastStart = Date.now();
    return send();
  };
  const start = (): void => {
    const wait = lastStart + minGapMs - Date.now();
    pending = (wait > 0 ? new Promise<void>((resolve) => setTimeout(resolve, wait)).then(begin) : begin()).catch(onError).finally(() => {
      pending = undefined;
      if (again) start();
    });
  };
  return {
    announce() {
      if (pending === undefined) start();
      else again = true;
    },
    settled: async () => {
      while (pending !== undefined) await pending;
    },
  };
}
