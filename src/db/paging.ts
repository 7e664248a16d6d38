// Keyset pages, newest first, for admin lists (orders, webhook events): rows are ordered by a
// timestamp and then the id, and the cursor is "<timestamp ISO>|<id>" of the last row shown. A
// page is fetched with one row more than it shows, which tells whether there is a next one.
import { sql, type RawBuilder } from 'kysely';

export const PAGE_SIZE = 50;

export interface Cursor {
  at: Date;
  id: string;
}

/** "<ISO>|<id>" → a cursor, or undefined for anything else (a bad cursor shows the first page). */
export function parseCursor(text: string | undefined): Cursor | undefined {
  if (text === undefined || text === '') return undefined;
  const [iso, id, ...rest] = text.split('|');
  const at = new Date(iso ?? '');
  if (id === undefined || id === '' || rest.length > 0 || Number.isNaN(at.getTime())) return undefined;
  return { at, id };
}

export function cursorText(cursor: Cursor): string {
  return `${cursor.at.toISOString()}|${cursor.id}`;
}

/** Rows strictly after the cursor in (timestamp desc, id desc) order. Column names are ours, never input. */
export function beforeCursor(cursor: Cursor, atColumn: string, idColumn: string): RawBuilder<boolean> {
  return sql<boolean>`(${sql.ref(atColumn)}, ${sql.ref(idColumn)}) < (${cursor.at}, ${cursor.id})`;
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
