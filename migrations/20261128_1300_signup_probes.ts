// Sign-up says when an email already has an account (there is no email round-trip to hide it
// behind), so each such answer is a row here and an address gets only a few an hour: see
// src/auth/signup.ts.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('signup_probes')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('attempted_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('signup_probes_address_time_idx').on('signup_probes').columns(['address', 'attempted_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('signup_probes').execute();
}
