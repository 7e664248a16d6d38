// PostgreSQL's LISTEN/NOTIFY, for processes that must hear about a change another process
// committed: workers (a new event in the inbox) and web processes (the catalogue changed). A
// notification arrives when the writing transaction commits. Each listener keeps one connection
// of its own, reopened a second after it drops; on every (re)connect `onNotify` is called once,
// because anything may have changed while nobody was listening.
import pg from 'pg';

export type Unlisten = () => Promise<void>;
export type Listen = (channel: string, onNotify: () => void, onError?: (error: unknown) => void) => Promise<Unlisten>;

const CHANNEL = /^[a-z_][a-z0-9_]*$/;

export function postgresListen(url: string): Listen {
  return async (channel, onNotify, onError = () => {}) => {
    if (!CHANNEL.test(channel)) throw new Error(`not a channel name: ${channel}`);
    let stopped = false;
    let client: pg.Client | undefined;
    let retry: NodeJS.Timeout | undefined;

    const connect = async (): Promise<void> => {
      const next = new pg.Client({ connectionString: url, application_name: `listen:${channel}` });
      client = next;
      const reconnect = (error: unknown) => {
        if (stopped || client !== next) return;
        onError(error);
        client = undefined;
        next.removeAllListeners();
        next.on('error', () => {});
        void next.end().catch(() => {});
        retry = setTimeout(() => void connect(), 1000);
        retry.unref();
      };
      next.on('error', reconnect);
      next.on('end', () => reconnect(new Error(`the LISTEN ${channel} connection closed`)));
      next.on('notification', (message) => {
        if (message.channel === channel) onNotify();
      });
      try {
        await next.connect();
        await next.query(`listen ${channel}`);
        onNotify();
      } catch (error) {
        reconnect(error);
      }
    };
    await connect();

    return async () => {
      stopped = true;
      clearTimeout(retry);
      const current = client;
      client = undefined;
      current?.removeAllListeners();
      current?.on('error', () => {});
      await current?.end().catch(() => {});
    };
  };
}
