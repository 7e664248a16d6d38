import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createUser, findUserByEmail } from '../../src/auth/users.ts';
import { connectPglite } from '../../src/db/connect.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';

describe('embedded database (PGlite on disk)', () => {
  it('keeps users across a close and reopen, as `npm start` restarts do', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'pglite-persist-')), 'pglite');
    const first = await connectPglite({ dataDir });
    await migrateToLatest(first.db);
    const created = await createUser(first.db, { email: 'kept@example.test', password: 'long-enough-pw', role: 'seller', displayName: 'Kept' });
    expect(created.ok).toBe(true);
    await first.close();

    const second = await connectPglite({ dataDir });
    // Re-running migrations on an up-to-date database is a no-op, as at every start.
    expect(await migrateToLatest(second.db)).toEqual([]);
    const found = await findUserByEmail(second.db, 'KEPT@example.test');
    expect(found?.role).toBe('seller');
    await second.close();
    // A PGlite cold start from disk takes seconds, more on a busy machine.
  }, 120_000);
});
