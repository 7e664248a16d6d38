// The inbox: verified events go in with one INSERT (a duplicate delivery is a no-op thanks to the
// primary key), and admins read and replay them. Claiming and processing live in ./processor.ts.
import { CompiledQuery, sql, type Kysely } from 'kysely';
import type Stripe from 'stripe';
import type { StripeMode } from '../config.ts';
import { afterCursor, pageOf, PAGE_SIZE, type Cursor, type Page } from '../db/paging.ts';
import type { Database, StripeEventRow, StripeEventSource, StripeEventStatus } from '../db/schema.ts';

/** The channel workers LISTEN on: pending events were committed (by an insert here, or a replay's trigger). */
export const INBOX_CHANNEL = 'stripe_events_pending';

export const EVENT_STATUSES: readonly StripeEventStatus[] = ['pending', 'processing', 'done', 'failed', 'dead', 'ignored'];

/** Test keys (and the offline emulator) receive test events; live keys live ones. */
export function expectedLivemode(mode: StripeMode): boolean {
  return mode === 'live';
}

export interface StoreResult {
  /** False when the event was already in the inbox (a duplicate delivery or an earlier backfill). */
  inserted: boolean;
  status: StripeEventStatus;
}

/**
 * A copy of `value` that PostgreSQL can store: U+0000 (which neither jsonb nor text can hold) and
 * lone UTF-16 surrogates (which jsonb refuses) become U+FFFD, in keys and values alike. Everything
 * else is left as it was.
 */
export function jsonbSafe<T>(value: T): T {
  if (typeof value === 'string') return storableText(value) as T;
  if (Array.isArray(value)) return (value as unknown[]).map((item) => jsonbSafe(item)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [storableText(key), jsonbSafe(item)])) as T;
  }
  return value;
}

// eslint-disable-next-line no-control-regex -- U+0000 is exactly the character this must find
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function storableText(text: string): string {
  return text.replace(UNSTORABLE, '\ufffd');
}

/**
 * Escapes in a JSON text that could decode to something PostgreSQL cannot store: `\u0000` and any
 * surrogate (paired ones are harmless, but telling them apart is jsonbSafe's job). Raw U+0000 or
 * lone surrogates cannot appear in a body that parsed as JSON from UTF-8 bytes.
 */
const MAYBE_UNSTORABLE_ESCAPE = /\\u(?:0000|d[89a-f])/i;

/**
 * A verified event as the inbox stores it. An event whose livemode differs from our key's (a
 * Connect endpoint in production receives both) is stored as `ignored`, so it is visible but never
 * acted on. What the code reads is the jsonb copy, made safe for PostgreSQL, so no signed event is
 * ever refused for its content. Nearly every body has nothing to make safe: then the received
 * text itself becomes the jsonb copy, without walking and re-serialising the event, and nothing
 * else is kept (a second copy of every event doubled the bytes written per delivery, about 2 KB,
 * and the inbox's size). Only when a string had to be replaced are the body's exact bytes kept as
 * well, in `raw_body`, so nothing Stripe sent is lost.
 */
export interface InboxRow {
  id: string;
  status: StripeEventStatus;
  /** The INSERT's parameters, in INSERT_COLUMNS' order. */
  values: readonly unknown[];
}

export interface StoreOptions {
  source: StripeEventSource;
  livemode: boolean;
  /** The verified body as received. */
  rawBody?: Buffer;
}

export function inboxRow(verified: Stripe.Event, options: StoreOptions): InboxRow {
  const text = options.rawBody?.toString('utf8');
  const storableAsReceived = text !== undefined && !MAYBE_UNSTORABLE_ESCAPE.test(text);
  const event = storableAsReceived ? verified : jsonbSafe(verified);
  const payload = storableAsReceived ? text : JSON.stringify(event);
  const status: StripeEventStatus = event.livemode === options.livemode ? 'pending' : 'ignored';
  const ignored = status === 'ignored';
  return {
    id: event.id,
    status,
    values: [
      event.id,
      event.type,
      event.account ?? null,
      new Date(event.created * 1000),
      event.livemode,
      event.api_version ?? null,
      options.source,
      payload,
      storableAsReceived ? null : (options.rawBody ?? null),
      status,
      ignored ? `livemode ${event.livemode} does not match this deployment's key` : null,
      ignored ? new Date() : null,
      customerOfEvent(event),
    ],
  };
}

/**
 * The Stripe Customer an event is about: the customer itself, or the `customer` of its object (a
 * session, intent, charge, invoice, subscription or payment method; an id, or expanded). Stored
 * beside the event so a deleted buyer's events can be found by index (eraseStoredEventsOfDeletedBuyers).
 */
export function customerOfEvent(event: Stripe.Event): string | null {
  const object = event.data?.object as { object?: unknown; id?: unknown; customer?: unknown } | undefined;
  if (object === undefined || object === null) return null;
  if (object.object === 'customer') return typeof object.id === 'string' ? object.id : null;
  const { customer } = object;
  if (typeof customer === 'string') return customer;
  if (customer !== null && typeof customer === 'object' && typeof (customer as { id?: unknown }).id === 'string') return (customer as { id: string }).id;
  return null;
}

const INSERT_COLUMNS = '(id, type, account, created, livemode, api_version, source, payload, raw_body, status, last_error, processed_at, customer_id)';
const COLUMN_COUNT = 13;

/**
 * The inbox insert for `rows` events as SQL text, written once per count: it runs for every
 * delivery, so it is handed to the driver as it is (CompiledQuery.raw) rather than built and
 * compiled by Kysely each time, and sent as a named prepared statement (src/db/connect.ts), one
 * per count in use.
 */
const insertTexts = new Map<number, string>();
function insertText(rows: number): string {
  let text = insertTexts.get(rows);
  if (text === undefined) {
    const tuples = Array.from(
      { length: rows },
      (_, row) => `(${Array.from({ length: COLUMN_COUNT }, (_, column) => `$${row * COLUMN_COUNT + column + 1}`).join(', ')})`,
    );
    text = `/* prepared:inbox_insert_${rows} */ insert into stripe_events ${INSERT_COLUMNS} values ${tuples.join(', ')} on conflict (id) do nothing returning id`;
    insertTexts.set(rows, text);
  }
  return text;
}

/** The most events one INSERT takes (MAX_ROWS × 13 parameters, far below PostgreSQL's 65,535). */
export const MAX_INSERT_ROWS = 50;

/**
 * Inserts up to MAX_INSERT_ROWS events with one statement; an event already in the inbox (a
 * duplicate delivery, an earlier backfill, or the same id twice in `rows`) is left as it was.
 * Returns the ids it inserted. All or nothing: if the statement fails, none is stored.
 */
export async function insertEvents(db: Kysely<Database>, rows: readonly InboxRow[]): Promise<Set<string>> {
  if (rows.length === 0 || rows.length > MAX_INSERT_ROWS) throw new RangeError(`insertEvents takes 1 to ${MAX_INSERT_ROWS} rows, not ${rows.length}`);
  const result = await db.executeQuery<{ id: string }>(
    CompiledQuery.raw(
      insertText(rows.length),
      rows.flatMap((row) => row.values),
    ),
  );
  return new Set(result.rows.map((row) => row.id));
}

/** Stores one verified event with one INSERT (see inboxRow). Waking the workers is the caller's part, after this commits. */
export async function storeEvent(db: Kysely<Database>, verified: Stripe.Event, options: StoreOptions): Promise<StoreResult> {
  const row = inboxRow(verified, options);
  const inserted = await insertEvents(db, [row]);
  return { inserted: inserted.has(row.id), status: row.status };
}

/**
 * Tells every worker (any process, LISTENing on INBOX_CHANNEL) that pending events were committed.
 * A NOTIFY of its own, never inside the inserting transaction: PostgreSQL holds one cluster-wide
 * lock from a notifying transaction's commit until its WAL is flushed, so a NOTIFY in every
 * webhook's INSERT (as a trigger did) made the inserts commit one at a time (measured: ~120
 * inserts/s instead of ~800 with ten connections). Standalone, it writes no WAL of its own worth
 * waiting for, and src/webhooks/announce.ts sends one for many inserts.
 */
export async function notifyPendingEvents(db: Kysely<Database>): Promise<void> {
  await sql`/* prepared:inbox_notify */ select pg_notify(${INBOX_CHANNEL}, '')`.execute(db);
}

export interface EventFilter {
  status?: StripeEventStatus | undefined;
  type?: string | undefined;
  /** 'platform', or a connected account id. */
  account?: string | undefined;
  before?: Cursor | undefined;
}

export type EventSummary = Omit<StripeEventRow, 'payload' | 'raw_body' | 'customer_id' | 'personal_data_erased_at'>;

/** The admin's event log: filters and keyset pages, newest received first. */
export async function listEvents(db: Kysely<Database>, filter: EventFilter): Promise<Page<EventSummary>> {
  let query = db
    .selectFrom('stripe_events')
    .select([
      'id',
      'type',
      'account',
      'created',
      'livemode',
      'api_version',
      'source',
      'status',
      'attempts',
      'next_attempt_at',
      'locked_until',
      'locked_by',
      'last_error',
      'received_at',
      'processed_at',
      'updated_at',
    ])
    .orderBy('received_at', 'desc')
    .orderBy('id', 'desc')
    .limit(PAGE_SIZE + 1);
  if (filter.status !== undefined) query = query.where('status', '=', filter.status);
  if (filter.type !== undefined) query = query.where('type', '=', filter.type);
  if (filter.account !== undefined) query = filter.account === 'platform' ? query.where('account', 'is', null) : query.where('account', '=', filter.account);
  if (filter.before !== undefined) query = query.where(afterCursor(filter.before, 'stripe_events', 'received_at'));
  return pageOf(await query.execute(), PAGE_SIZE, (row) => ({ at: row.received_at, id: row.id }));
}

export async function findEvent(db: Kysely<Database>, id: string): Promise<StripeEventRow | undefined> {
  return db.selectFrom('stripe_events').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * Sends a failed or dead event back to the queue with a fresh retry budget. Only those two states:
 * replaying a done event would re-run effects the handlers already applied (they are idempotent,
 * but an operator pressing a button should not be the test of that).
 */
export async function replayEvent(db: Kysely<Database>, id: string): Promise<boolean> {
  const updated = await db
    .updateTable('stripe_events')
    .set({ status: 'pending', attempts: 0, next_attempt_at: sql<Date>`now()`, locked_until: null, locked_by: null, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .where('status', 'in', ['failed', 'dead'])
    .returning('id')
    .executeTakeFirst();
  return updated !== undefined;
}
