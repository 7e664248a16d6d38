// The worker's ear on the inbox: one connection that LISTENs on `stripe_events_pending` (sent by a
// trigger when an event becomes pending, see migrations/20261129_6030_inbox_notify.ts) and wakes
// the worker at once. Dropped connections are reopened after a second; while it is down the
// worker's poll still finds every event, only later.
import pg from 'pg';

export const INBOX_CHANNEL = 'stripe_events_pending';

export interface InboxListener {
  stop(): Promise<void>;
}

export function listenForPendingEvents(url: string, onPending: () => void, onError: (error: unknown) => void): InboxListener {
  let stopped = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;

  const connect = async () => {
    const next = new pg.Client({ connectionString: url, application_name: 'marketplace-worker-listen' });
    client = next;
    const reconnect = (error: unknown) => {
      if (stopped || client !== next) return;
      onError(error);
      client = undefined;
      next.removeAllListeners();
      void next.end().catch(() => {});
      retry = setTimeout(() => void connect(), 1000);
      retry.unref();
    };
    next.on('error', reconnect);
    next.on('end', () => reconnect(new Error('the LISTEN connection closed')));
    next.on('notification', () => onPending());
    try {
      await next.connect();
      await next.query(`listen ${INBOX_CHANNEL}`);
      // Anything committed while we were not listening is found by this wake-up's claim.
      onPending();
    } catch (error) {
      reconnect(error);
    }
  };
  void connect();

  return {
    async stop() {
      stopped = true;
      clearTimeout(retry);
      const current = client;
      client = undefined;
      current?.removeAllListeners();
      await current?.end().catch(() => {});
    },
  };
}
