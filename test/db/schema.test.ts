// src/db/schema.ts against the migrated database: every table, every column's type family and
// nullability, and every union of string literals against its CHECK constraint. The drift tests
// below break each side on purpose and show that the comparison notices.
import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { useDatabase } from '../helpers/fixture.ts';
import { readActualSchema, readDeclaredSchema, SCHEMA_FILE, schemaDrift, type DeclaredSchema } from '../helpers/schema-drift.ts';

const w = useDatabase();
let declared: DeclaredSchema;
beforeAll(() => {
  declared = readDeclaredSchema();
});

/** Runs `change` on the database and returns the drift it causes; the change is rolled back. */
async function driftAfter(change: string[]): Promise<string[]> {
  let drift: string[] = [];
  await w.db
    .transaction()
    .execute(async (trx) => {
      for (const statement of change) await sql.raw(statement).execute(trx);
      drift = schemaDrift(declared, await readActualSchema(trx));
      throw new RollBack();
    })
    .catch((error: unknown) => {
      if (!(error instanceof RollBack)) throw error;
    });
  return drift;
}
class RollBack extends Error {}

function driftWithSchemaText(replace: [string, string][]): Promise<string[]> {
  let text = readFileSync(SCHEMA_FILE, 'utf8');
  for (const [from, to] of replace) {
    if (!text.includes(from)) throw new Error(`schema.ts no longer contains ${from}`);
    text = text.replace(from, to);
  }
  const broken = readDeclaredSchema(text);
  return readActualSchema(w.db).then((actual) => schemaDrift(broken, actual));
}

describe('schema.ts', () => {
  it('states every table and column of the migrated database, with its type, nullability and allowed values', async () => {
    expect(schemaDrift(declared, await readActualSchema(w.db))).toEqual([]);
  });

  it('types every enum-like column as a union of the values its CHECK allows', () => {
    // The columns the comparison treats as enums, so a union can't quietly widen to `string`.
    const unions = [...declared].flatMap(([table, columns]) =>
      [...columns].filter(([, c]) => c.select.literals !== undefined).map(([column]) => `${table}.${column}`),
    );
    expect(unions.sort()).toEqual([
      'buyer_payment_methods.status',
      'card_setups.flow',
      'card_setups.status',
      'disputes.status',
      'email_outbox.status',
      'email_outbox.transport',
      'invoice_refunds.status',
      'invoices.status',
      'listings.billing_interval',
      'listings.kind',
      'order_fulfilment_steps.step',
      'order_transitions.from_status',
      'order_transitions.source',
      'order_transitions.to_status',
      'orders.dispute_status',
      'orders.flow',
      'orders.fulfilment_status',
      'orders.kind',
      'orders.status',
      'payout_requests.status',
      'payouts.status',
      'plans.interval',
      'plans.status',
      'refund_requests.decided_by_role',
      'refund_requests.status',
      'refunds.reason',
      'refunds.status',
      'sellers.account_state',
      'stripe_events.source',
      'stripe_events.status',
      'subscriptions.flow',
      'subscriptions.interval',
      'subscriptions.status',
      'users.role',
      'webhook_signature_failures.source',
    ]);
  });
});

describe('the comparison notices drift', () => {
  it('in the database: a new column, a changed nullability, a changed type, a CHECK value added or dropped', async () => {
    expect(
      await driftAfter([
        'alter table orders add column gift_note text',
        'alter table orders alter column failure_code set not null',
        'alter table listings alter column stock type bigint',
        'alter table refunds alter column currency type jsonb using to_jsonb(currency)',
        'alter table orders drop constraint orders_status_check',
        "alter table orders add constraint orders_status_check check (status in ('pending', 'paid', 'payment_failed', 'canceled', 'partially_refunded', 'refunded', 'on_hold'))",
        'alter table order_transitions drop constraint order_transitions_source_check',
        "alter table order_transitions add constraint order_transitions_source_check check (source in ('webhook', 'completion_page', 'reconcile'))",
        'create table gift_cards (id uuid primary key)',
      ]),
    ).toEqual(
      [
        'table gift_cards is in the database but not in Database (schema.ts)',
        'orders.failure_code: the select type allows null but the column is not null',
        'orders.failure_code: the insert type allows null but the column is not null',
        'orders.failure_code: the update type allows null but the column is not null',
        "orders.status: the CHECK allows 'on_hold', missing from its type in schema.ts",
        'orders.gift_note is in the database but not in schema.ts',
        "order_transitions.source: schema.ts allows 'admin', 'checkout', which the CHECK refuses",
        'orders.failure_code: optional on insert but the column is not null and has no default',
        // Writes may send JSON text to a jsonb column, so only the read side differs.
        'refunds.currency: the select type is text but the column is jsonb (json)',
      ].sort(),
    );
  });

  it('in schema.ts: a union member dropped, a null allowed, a column that is not in the database, a CHECKed column typed as string', async () => {
    expect(
      await driftWithSchemaText([
        [
          "export type OrderStatus = 'pending' | 'paid' | 'payment_failed' | 'canceled' | 'partially_refunded' | 'refunded';",
          "export type OrderStatus = 'pending' | 'paid' | 'payment_failed' | 'canceled' | 'partially_refunded';",
        ],
        ['  buyer_email: string;\n', '  buyer_email: string | null;\n  gift_note: string;\n'],
        ['  source: StripeEventSource;\n', '  source: string;\n'],
      ]),
    ).toEqual(
      [
        'orders.buyer_email: the select type allows null but the column is not null',
        'orders.buyer_email: the insert type allows null but the column is not null',
        'orders.buyer_email: the update type allows null but the column is not null',
        "orders.status: the CHECK allows 'refunded', missing from its type in schema.ts",
        'orders.gift_note is in schema.ts but not in the database',
        "order_transitions.from_status: the CHECK allows 'refunded', missing from its type in schema.ts",
        "order_transitions.to_status: the CHECK allows 'refunded', missing from its type in schema.ts",
        "stripe_events.source: its CHECK allows only 'backfill', 'connect', 'platform' but schema.ts types it as text",
      ].sort(),
    );
  });

  it('a column the database generates (listings.search_vector) typed as writable in schema.ts', async () => {
    expect(await driftWithSchemaText([['search_vector: ColumnType<string, never, never>;', 'search_vector: string;']])).toEqual([
      'listings.search_vector: generated by the database, so its insert and update types must be never',
    ]);
  });
});
