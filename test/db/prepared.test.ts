// Hot statements marked `/* prepared:<name> */` go to PostgreSQL as named prepared statements (parsed
// and planned once per connection); unmarked ones do not.
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { isPglite } from '../helpers/database.ts';
import { useDatabase } from '../helpers/fixture.ts';

describe.skipIf(isPglite())('prepared statements', () => {
  const w = useDatabase();

  it('are named by their marker, once per connection, and give the same results', async () => {
    const names = await w.db.connection().execute(async (conn) => {
      for (const n of [1, 2, 3]) {
        const row = await sql<{ doubled: number }>`/* prepared:test_double */ select ${n}::int * 2 as doubled`.execute(conn);
        expect(row.rows[0]!.doubled).toBe(n * 2);
      }
      await sql`select ${'unmarked'}::text as plain`.execute(conn);
      return (await sql<{ name: string }>`select name from pg_prepared_statements order by name`.execute(conn)).rows.map((r) => r.name);
    });
    expect(names).toEqual(['test_double']);
  });
});
