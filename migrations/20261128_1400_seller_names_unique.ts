// Seller names become unique by a look-alike-proof key (src/auth/display-names.ts): `name_key` on
// every user, and a unique index over sellers' keys. Existing rows get their key computed here; if
// two sellers already share one, the later to sign up is renamed "<name> 2" (then 3, …) so the index
// can be built, and a deployment never fails on old data.
import { sql, type Kysely } from 'kysely';
import { displayNameKey, tidyDisplayName } from '../src/auth/display-names.ts';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('users').addColumn('name_key', 'text').execute();

  const users = (await db.selectFrom('users').select(['id', 'display_name', 'role']).orderBy('created_at').orderBy('id').execute()) as {
    id: string;
    display_name: string;
    role: string;
  }[];
  const sellerKeys = new Set<string>();
  for (const user of users) {
    let name = tidyDisplayName(user.display_name);
    let key = displayNameKey(name);
    if (user.role === 'seller') {
      for (let n = 2; sellerKeys.has(key); n++) {
        name = `${tidyDisplayName(user.display_name)} ${n}`;
        key = displayNameKey(name);
      }
      sellerKeys.add(key);
    }
    await db.updateTable('users').set({ display_name: name, name_key: key }).where('id', '=', user.id).execute();
  }

  await db.schema
    .alterTable('users')
    .alterColumn('name_key', (c) => c.setNotNull())
    .execute();
  await sql`create unique index users_seller_name_key on users (name_key) where role = 'seller'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index users_seller_name_key`.execute(db);
  await db.schema.alterTable('users').dropColumn('name_key').execute();
}
