// Keyset pages, newest first, for admin lists (orders, webhook events): rows are ordered by a
// timestamp and then the id, and a page is fetched with one row more than it shows, which tells
// whether there is a next one. The cursor names the last row shown ("<timestamp ISO>|<id>", the
// timestamp only for people reading the URL); its position is read from that row itself, because
// the timestamp has microseconds that an ISO string has lost (src/admin/list-filters.ts reads one
// from a URL, strictly). A row comparison, which the
// (…, timestamp desc, id desc) indexes answer as one range read at any depth.
import { sql, type RawBuilder } from 'kysely';

export const PAGE_SIZE = 50;

export interface Cursor {
  at: Date;
  id: string;
}

export function cursorText(cursor: Cursor): string {
  return `${cursor.at.toISOString()}|${cursor.id}`;
}

/** Rows strictly after the cursor's row in (timestamp desc, id desc) order. Names are ours, never input. */
export function afterCursor(cursor: Cursor, table: 'orders' | 'stripe_events' | 'subscriptions', atColumn: string): RawBuilder<boolean> {
  return sql<boolean>`(${sql.ref(`${table}.${atColumn}`)}, ${sql.ref(`${table}.id`)}) < (select c.${sql.ref(atColumn)}, c.id from ${sql.table(table)} c where c.id = ${cursor.id})`;
}

export interface Page<T> {
  rows: T[];
  /** The cursor of the next page, or null on the last one. */
  next: Cursor | null;
}

/** Cuts the extra row off a query that asked for `size + 1`. */
export function pageOf<T>(rows: T[], size: number, cursorOf: (row: T) => Cursor): Page<T> {
  const shown = rows.slice(0, size);
  const last = shown.at(-1);
  return { rows: shown, next: rows.length > size && last !== undefined ? cursorOf(last) : null };
}
