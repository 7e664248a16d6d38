import { Migrator, sql, type Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import { migrations } from '../../migrations/index.ts';
import type { Database } from '../../src/db/schema.ts';
import { migrateDown, migrateToBottom, migrateToLatest } from '../../src/db/migrate.ts';
import { useDatabase } from '../helpers/fixture.ts';

const w = useDatabase();

async function tableNames(): Promise<string[]> {
  const result = await sql<{ table_name: string }>`
    select table_name from information_schema.tables
    where table_schema = 'public' and table_name not like 'kysely_%' order by table_name`.execute(w.db);
  return result.rows.map((r) => r.table_name);
}

/** Every column, constraint and index of the app's tables, one line each: what a `down` must undo exactly. */
async function schemaLines(db: Kysely<Database>): Promise<string[]> {
  const columns = await sql<{ line: string }>`
    select format('%s.%s %s %s default %s', table_name, column_name, udt_name, is_nullable, coalesce(column_default, '-')) as line
    from information_schema.columns where table_schema = 'public' and table_name not like 'kysely_%'`.execute(db);
  const constraints = await sql<{ line: string }>`
    select format('%s %s %s', cl.relname, c.conname, pg_get_constraintdef(c.oid)) as line
    from pg_constraint c join pg_class cl on cl.oid = c.conrelid join pg_namespace n on n.oid = cl.relnamespace
    where n.nspname = 'public' and cl.relname not like 'kysely_%'`.execute(db);
  const indexes = await sql<{ line: string }>`
    select indexdef as line from pg_indexes where schemaname = 'public' and tablename not like 'kysely_%'`.execute(db);
  return [...columns.rows, ...constraints.rows, ...indexes.rows].map((r) => r.line).sort();
}

describe('migrations', () => {
  it('go all the way down, leaving no table behind, and back up to the same schema', async () => {
    const migrated = await tableNames();
    expect(migrated).toEqual(expect.arrayContaining(['users', 'sessions', 'login_failures']));
    const migratedSchema = await schemaLines(w.db);

    const down = await migrateToBottom(w.db);
    expect(down).toHaveLength(Object.keys(migrations).length);
    expect(await tableNames()).toEqual([]);

    const up = await migrateToLatest(w.db);
    expect(up).toHaveLength(Object.keys(migrations).length);
    expect(await tableNames()).toEqual(migrated);
    expect(await schemaLines(w.db)).toEqual(migratedSchema);
  });

  it('each undo exactly their own step: every `down` returns the schema its `up` started from', async () => {
    const names = Object.keys(migrations);
    const migrator = new Migrator({ db: w.db, provider: { getMigrations: async () => migrations } });
    await migrateToBottom(w.db);
    const before = [await schemaLines(w.db)];
    for (const name of names) {
      const step = await migrator.migrateUp();
      expect(step.error, `up ${name}`).toBeUndefined();
      before.push(await schemaLines(w.db));
    }
    for (let i = names.length - 1; i >= 0; i--) {
      await migrateDown(w.db);
      expect(await schemaLines(w.db), `after down ${names[i]}`).toEqual(before[i]);
    }
    await migrateToLatest(w.db);
  });

  it('are listed in the order their names sort, so they run in the order written', () => {
    const names = Object.keys(migrations);
    expect(names).toEqual([...names].sort());
  });
});
