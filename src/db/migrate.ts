// Runs the migrations listed in ../../migrations/index.ts with Kysely's Migrator: at `npm start`,
// from production's release command (`npm run migrate`), and once per test run for the template.
import { Migrator, NO_MIGRATIONS, sql, type Kysely, type MigrationResultSet } from 'kysely';
import { migrations } from '../../migrations/index.ts';

function migratorFor(db: Kysely<any>): Migrator {
  return new Migrator({ db, provider: { getMigrations: async () => migrations } });
}

function unwrap(result: MigrationResultSet): string[] {
  if (result.error !== undefined) {
    const failed = result.results?.find((r) => r.status === 'Error');
    const message = result.error instanceof Error ? result.error.message : String(result.error);
    throw new Error(`Migration ${failed?.migrationName ?? '(unknown)'} failed: ${message}`);
  }
  return (result.results ?? []).map((r) => `${r.direction} ${r.migrationName}`);
}

export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  if (await everyMigrationApplied(db)) return [];
  return unwrap(await migratorFor(db).migrateToLatest());
}

/**
 * True when the database has exactly our migrations applied: every start but the first after a
 * deploy. Checked with one query because the Migrator introspects the whole catalogue to find its
 * own tables (0.4–0.9 s of every `npm start` on PGlite). Anything else goes through the Migrator.
 */
async function everyMigrationApplied(db: Kysely<any>): Promise<boolean> {
  const table = await sql<{ exists: boolean }>`select to_regclass('kysely_migration') is not null as exists`.execute(db);
  if (table.rows[0]?.exists !== true) return false;
  const applied = await sql<{ name: string }>`select name from kysely_migration`.execute(db);
  const names = new Set(applied.rows.map((row) => row.name));
  const known = Object.keys(migrations);
  return names.size === known.length && known.every((name) => names.has(name));
}

/** Undo the newest migration. */
export async function migrateDown(db: Kysely<any>): Promise<string[]> {
  return unwrap(await migratorFor(db).migrateDown());
}

/** Undo every migration (tests prove each `down` really reverses its `up`). */
export async function migrateToBottom(db: Kysely<any>): Promise<string[]> {
  return unwrap(await migratorFor(db).migrateTo(NO_MIGRATIONS));
}
