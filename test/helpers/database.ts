// Each test file gets its own database, cloned from the migrated template made in global-setup:
// no test depends on another file's data, and files run in parallel.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { inject } from 'vitest';
import { connectPglite, connectPostgres, type DatabaseHandle } from '../../src/db/connect.ts';
import { withDatabase } from './global-setup.ts';

export interface TestDatabase extends DatabaseHandle {
  /** A connection URL for a real server (undefined on PGlite): for tests that need a second client. */
  url: string | undefined;
}

export const databaseKind = (): 'postgres' | 'pglite' => inject('databaseKind');
/** For `describe.skipIf(...)`: concurrency, SKIP LOCKED and TCP-level tests need a real server. */
export const isPglite = (): boolean => databaseKind() === 'pglite';

export async function createTestDatabase(): Promise<TestDatabase> {
  if (databaseKind() === 'pglite') {
    const dump = await readFile(inject('pgliteTemplateFile'));
    const handle = await connectPglite({ loadDataDir: new Blob([dump]) });
    return { ...handle, url: undefined };
  }
  const serverUrl = inject('postgresServerUrl');
  const name = `marketplace_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    // Two files cloning the same template at the same instant can collide; a retry settles it.
    for (let attempt = 1; ; attempt++) {
      try {
        await admin.query(`create database ${name} template ${inject('templateDatabase')}`);
        break;
      } catch (error) {
        if (attempt >= 5 || !String(error).includes('being accessed by other users')) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  } finally {
    await admin.end();
  }
  const url = withDatabase(serverUrl, name);
  const handle = connectPostgres(url);
  return {
    ...handle,
    url,
    close: async () => {
      // The pool's end waits for every checked-out client; a query stuck on a lock would hold it
      // forever. After a bound, the forced drop below ends that backend, and with it the wait.
      const ended = handle.close();
      let timer: NodeJS.Timeout | undefined;
      const hung = await Promise.race([
        ended.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), 15_000);
        }),
      ]);
      clearTimeout(timer);
      if (hung) console.warn(`test database ${name}: its pool did not end in 15 s (a client still checked out); dropping it with force`);
      const dropper = new pg.Client({ connectionString: serverUrl });
      await dropper.connect();
      await dropper.query(`drop database if exists ${name} with (force)`).finally(() => dropper.end());
    },
  };
}
