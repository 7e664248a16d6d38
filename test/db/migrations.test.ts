import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrations } from '../../migrations/index.ts';
import { migrateToBottom, migrateToLatest } from '../../src/db/migrate.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

let database: TestDatabase;
beforeAll(async () => { database = await createTestDatabase(); });
afterAll(async () => { await database.close(); });

async function tableNames(): Promise<string[]> {
  const result = await sql<{ table_name: string }>`
    select table_name from information_schema.tables
    where table_schema = 'public' and table_name not like 'kysely_%' order by table_name`.execute(database.db);
  return result.rows.map((r) => r.table_name);
}

describe('migrations', () => {
  it('go all the way down, leaving no table behind, and back up to the same schema', async () => {
    const migrated = await tableNames();
    expect(migrated).toEqual(expect.arrayContaining(['users', 'sessions', 'login_failures']));

    const down = await migrateToBottom(database.db);
    expect(down).toHaveLength(Object.keys(migrations).length);
    expect(await tableNames()).toEqual([]);

    const up = await migrateToLatest(database.db);
    expect(up).toHaveLength(Object.keys(migrations).length);
    expect(await tableNames()).toEqual(migrated);
  });

  it('are listed in the order their names sort, so they run in the order written', () => {
    const names = Object.keys(migrations);
    expect(names).toEqual([...names].sort());
  });
});
