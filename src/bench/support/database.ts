// A throwaway database per benchmark part, created on the PostgreSQL server named by DATABASE_URL
// and dropped afterwards: the benchmarks never touch a real database's data.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { connectPostgres, type DatabaseHandle } from '../../db/connect.ts';
import { migrateToLatest } from '../../db/migrate.ts';

export interface ThrowawayDatabase {
  url: string;
  handle: DatabaseHandle;
  drop(): Promise<void>;
}

export function serverUrl(): string {
  const url = process.env.DATABASE_URL;
  if (url === undefined || url === '') {
    throw new Error(
      'Set DATABASE_URL to a PostgreSQL server (e.g. postgres://postgres@127.0.0.1:5432/postgres): the benchmarks run the web and worker processes as production does, and create and drop their own databases there.',
    );
  }
  return url;
}

/** A new, migrated database; `handle` is a small pool for the benchmark's own seeding and checks. */
export async function createThrowawayDatabase(prefix: string): Promise<ThrowawayDatabase> {
  const server = serverUrl();
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  await withAdmin(server, (admin) => admin.query(`create database ${name}`));
  const url = new URL(server);
  url.pathname = `/${name}`;
  const handle = connectPostgres(url.toString(), { max: 4 });
  await migrateToLatest(handle.db);
  return {
    url: url.toString(),
    handle,
    drop: async () => {
      await handle.close();
      await withAdmin(server, (admin) => admin.query(`drop database if exists ${name} with (force)`));
    },
  };
}

async function withAdmin<T>(server: string, work: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}
