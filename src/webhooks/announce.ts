// One NOTIFY for many stored events. Each webhook commits its own INSERT; the workers must hear of
// every one, but not once per event: a NOTIFY is a round trip and a pool connection. So at most one
// is in flight per process, and a request arriving meanwhile asks for one more after it. Every
// event is thereby followed by a NOTIFY sent after its commit (the one in flight may have been sent
// before it), which is all a worker needs: it claims whatever is due when woken.
export interface Announcer {
  /** An event was committed: make sure a NOTIFY follows. */
  announce(): void;
  /** Resolves when nothing is in flight or asked for (for shutting down). */
  settled(): Promise<void>;
}

export function coalescingAnnouncer(send: () => Promise<void>, onError: (error: unknown) => void): Announcer {
  let inFlight: Promise<void> | undefined;
  let again = false;
  const run = (): void => {
    again = false;
    inFlight = send()
      .catch(onError)
      .finally(() => {
        inFlight = undefined;
        if (again) run();
      });
  };
  return {
    announce() {
      if (inFlight !== undefined) again = true;
      else run();
    },
    settled: async () => {
      while (inFlight !== undefined) await inFlight;
    },
  };
}
