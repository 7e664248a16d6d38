// Names other people see cannot hide characters or pass for an existing seller
// (src/auth/display-names.ts, migrations/20261128_1400_seller_names_unique.ts).
import { Migrator, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { displayNameKey, displayNameProblem } from '../../src/auth/display-names.ts';
import { createUser } from '../../src/auth/users.ts';
import { migrations } from '../../migrations/index.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { TEST_PASSWORD, TestClient } from '../helpers/app.ts';
import { createTestDatabase, isPglite } from '../helpers/database.ts';
import { useWorld } from '../helpers/fixture.ts';

const w = useWorld();

let counter = 0;
const signUp = (displayName: string, role: 'buyer' | 'seller') =>
  new TestClient(w.app, `198.51.100.${(++counter % 200) + 1}`).post('/signup', {
    email: `names-${++counter}-${Date.now()}@example.test`,
    password: TEST_PASSWORD,
    displayName,
    role,
  });
const nameError = (body: string) => /<p class="error" id="displayName-error">([^<]*)<\/p>/.exec(body)?.[1];
const usersNamed = async (key: string) =>
  (await w.db.selectFrom('users').select('display_name').where('name_key', '=', key).execute()).map((u) => u.display_name);

describe('invisible and direction-changing characters', () => {
  it.each([
    ['right-to-left override and zero-width space', '\u202eAdmin\u200b'],
    ['zero-width joiner between letters', 'Ac\u200dme'],
    ['left-to-right isolate', 'Acme \u2066Shop\u2069'],
    ['soft hyphen', 'Ac\u00adme'],
    ['byte order mark', '\ufeffAcme'],
    ['Hangul filler', 'Acme\u3164'],
    ['variation selector on a letter', 'Acme\ufe00'],
  ])('refuses %s, naming the field, and creates nothing', async (_name, displayName) => {
    const response = await signUp(displayName, 'seller');
    expect(response.statusCode).toBe(400);
    expect(nameError(response.body)).toBe('Names cannot contain invisible or text-direction characters');
    expect(await usersNamed(displayNameKey(displayName))).toEqual([]);
  });

  it('refuses a word mixing Latin and Cyrillic letters, and keeps emoji that are made with joiners', async () => {
    expect(nameError((await signUp('\u0410pple Store', 'seller')).body)).toContain('cannot mix alphabets');
    expect((await signUp('Chef 👩‍🍳 Kitchen ❤️', 'seller')).statusCode).toBe(303);
    expect((await signUp('Ελληνικά Shop', 'seller')).statusCode).toBe(303);
  });
});

describe('seller names are unique, look-alikes included', () => {
  it('refuses a second seller whose name differs only in case, accents, width, spacing or punctuation', async () => {
    expect((await signUp('Acme Shöp', 'seller')).statusCode).toBe(303);
    for (const lookAlike of ['Acme Shöp', 'ACME SHOP', 'acme-shop', 'Ａｃｍｅ Ｓｈｏｐ', 'Acme  Shop', 'AcmeShop.']) {
      const response = await signUp(lookAlike, 'seller');
      expect(response.statusCode, lookAlike).toBe(409);
      expect(nameError(response.body), lookAlike).toContain('A seller with this name (or one that looks the same) already exists');
    }
    expect(await usersNamed('acmeshop')).toEqual(['Acme Shöp']);
    // Buyers may share a name with each other and with a seller.
    expect((await signUp('Acme Shop', 'buyer')).statusCode).toBe(303);
    expect((await signUp('Acme Shop', 'buyer')).statusCode).toBe(303);
  });

  it('reserves names that would pass for the platform', async () => {
    expect(nameError((await signUp('Support', 'seller')).body)).toContain('That name is reserved');
    expect(displayNameProblem('Marketplace', 'seller')).toContain('reserved');
    expect(displayNameProblem('Marketplace', 'buyer')).toBeNull();
  });

  it.skipIf(isPglite())('decides two sellers racing for one name in the database: one gets it', async () => {
    const results = await Promise.all(
      ['Racing Name', 'racing-name', 'RACING NAME'].map((displayName, i) =>
        createUser(w.db, { email: `race-${i}-${Date.now()}@example.test`, password: TEST_PASSWORD, role: 'seller', displayName }),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.reason === 'name_taken')).toHaveLength(2);
  });
});

describe('the migration', () => {
  it('keys existing names and renames later duplicates so the unique index can be built', async () => {
    const scratch = await createTestDatabase();
    try {
      // Back to just before this migration (later ones, if any, go down with it).
      const names = Object.keys(migrations);
      const before = names[names.indexOf('20261128_1400_seller_names_unique') - 1]!;
      const migrator = new Migrator({ db: scratch.db, provider: { getMigrations: async () => migrations } });
      const down = await migrator.migrateTo(before);
      expect(down.error).toBeUndefined();
      // Two sellers that already share a look-alike name, and a buyer with it too.
      for (const [i, name, role] of [
        [1, 'Old Shop', 'seller'],
        [2, 'OLD-shop', 'seller'],
        [3, 'Old Shop', 'buyer'],
      ] as const) {
        await sql`insert into users (email, password_hash, role, display_name, created_at)
                  values (${`old-${i}@example.test`}, 'x', ${role}, ${name}, now() + make_interval(secs => ${i}))`.execute(scratch.db);
      }
      await migrateToLatest(scratch.db);
      const rows = await scratch.db.selectFrom('users').select(['display_name', 'name_key', 'role']).orderBy('created_at').execute();
      expect(rows).toEqual([
        { display_name: 'Old Shop', name_key: 'oldshop', role: 'seller' },
        { display_name: 'OLD-shop 2', name_key: 'oldshop2', role: 'seller' },
        { display_name: 'Old Shop', name_key: 'oldshop', role: 'buyer' },
      ]);
    } finally {
      await scratch.close();
    }
  });
});
