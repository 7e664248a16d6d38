// Addresses each account has signed in from. The login throttle lets a right password through from
// one of these even while the account or the address is under attack from elsewhere, so a stranger
// guessing cannot lock the owner out of their usual place.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('login_familiar_addresses')
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('last_success_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('login_familiar_addresses_pkey', ['user_id', 'address'])
    .execute();
  await db.schema.createIndex('login_familiar_addresses_time_idx').on('login_familiar_addresses').column('last_success_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('login_familiar_addresses').execute();
}
