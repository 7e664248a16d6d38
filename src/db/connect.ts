// Opens the database: PostgreSQL through `pg` when a URL is given, else PGlite (PostgreSQL compiled
// to WebAssembly) persisted in a directory, so `npm start` needs no database server.
// PGlite is imported only when it is used: loading it costs ~50 MB that a server with a
// DATABASE_URL never needs.
import { mkdirSync } from 'node:fs';
import type { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { postgresListen, type Listen } from './notifications.ts';
import type { Database } from './schema.ts';

export type DatabaseKind = 'postgres' | 'pglite';

export interface DatabaseHandle {
  db: Kysely<Database>;
  kind: DatabaseKind;
  /** Hear NOTIFYs on a channel from any process (see ./notifications.ts). */
  listen: Listen;
  close(): Promise<void>;
}

const INT8_OID = 20;

/**
 * bigint columns hold money in minor units. pg returns them as strings to be safe with values above
 * 2^53; ours never get near that, so parse them as numbers and fail loudly if one ever does.
 */
function parseInt8(text: string): number {
  const parsed = Number(text);
  if (!Number.isSafeInteger(parsed)) throw new RangeError(`bigint value ${text} is outside the safe integer range`);
  return parsed;
}

pg.types.setTypeParser(INT8_OID, parseInt8);

/** `/* prepared:<name> *\/` at the start of a statement's text: see PreparingClient. */
const PREPARED_MARKER = /^\/\* prepared:([a-z][a-z0-9_]{0,62}) \*\//;

/**
 * A pg client that sends the hot statements (the inbox insert, the worker's claim and batch
 * updates) as named prepared statements, so PostgreSQL parses and plans each once per connection
 * instead of on every webhook. A statement opts in by starting with `/* prepared:<name> *\/`
 * (written with Kysely's `sql`, which also skips the query builder); its text must never vary for
 * that name. Everything else goes through unchanged; PGlite just sees a comment.
 */
class PreparingClient extends pg.Client {
  // pg's query() has many overloads; only (text, values) without a callback, as Kysely calls it, is changed.
  override query(...args: unknown[]): never {
    const [text, values, callback] = args;
    if (typeof text === 'string' && callback === undefined && (values === undefined || Array.isArray(values))) {
      const name = PREPARED_MARKER.exec(text)?.[1];
      if (name !== undefined) return super.query({ name, text, values: values as unknown[] | undefined }) as never;
    }
    return (super.query as (...rest: unknown[]) => never)(...args);
  }
}

/**
 * `connectionTimeoutMillis`: how long a query waits for a free connection before failing (pg's
 * default, 0, waits for ever). Nothing in the app holds a connection while it waits on Stripe, so
 * a wait here means the database itself is slow.
 */
export function connectPostgres(url: string, options: { max?: number; connectionTimeoutMillis?: number } = {}): DatabaseHandle {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    Client: PreparingClient,
    ...(options.connectionTimeoutMillis !== undefined ? { connectionTimeoutMillis: options.connectionTimeoutMillis } : {}),
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, kind: 'postgres', listen: postgresListen(url), close: () => db.destroy() };
}

/** `dataDir` undefined → in memory. `loadDataDir` starts from a dump (tests clone a migrated template this way). */
export async function connectPglite(options: { dataDir?: string; loadDataDir?: Blob } = {}): Promise<DatabaseHandle & { pglite: PGlite }> {
  if (options.dataDir !== undefined) mkdirSync(options.dataDir, { recursive: true });
  const [{ PGlite }, { PGliteDialect }] = await Promise.all([import('@electric-sql/pglite'), import('kysely-pglite-dialect')]);
  const pglite = await PGlite.create({
    ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
    ...(options.loadDataDir !== undefined ? { loadDataDir: options.loadDataDir } : {}),
    parsers: { [INT8_OID]: parseInt8 },
  });
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
  return {
    db,
    pglite,
    kind: 'pglite',
    // One process owns a PGlite database, so its NOTIFYs are all local.
    listen: async (channel, onNotify) => {
      const unsubscribe = await pglite.listen(channel, () => onNotify());
      onNotify();
      return unsubscribe;
    },
    close: async () => {
      await db.destroy();
      if (!pglite.closed) await pglite.close();
    },
  };
}

export async function connectDatabase(config: { databaseUrl: string | undefined; dataDir: string }): Promise<DatabaseHandle> {
  if (config.databaseUrl !== undefined) return connectPostgres(config.databaseUrl);
  return connectPglite({ dataDir: `${config.dataDir}/pglite` });
}
