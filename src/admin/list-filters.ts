// The admin lists' filters and page cursors, read strictly. They arrive in URLs an admin can edit
// by hand, and a date or cursor PostgreSQL cannot take used to surface as a 500 (issue #14); here
// each is either a value the queries can use or the words of a 400 that names the field.
import type { Cursor } from '../db/paging.ts';

export type Read<T> = { ok: true; value: T | undefined } | { ok: false; message: string };

/** Dates the lists can filter by: any real calendar day in years PostgreSQL and JavaScript agree on. */
const FIRST_YEAR = 1970;
const LAST_YEAR = 9999;

/** "YYYY-MM-DD", a real day (no 2024-13-45, no 2023-02-29); empty → no filter. */
export function readDay(text: string | undefined, label: string): Read<string> {
  if (text === undefined || text === '') return { ok: true, value: undefined };
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  const problem = { ok: false as const, message: `${label}: "${text}" is not a date; use a real day as YYYY-MM-DD, e.g. 2026-11-30.` };
  if (match === null) return problem;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (year < FIRST_YEAR || year > LAST_YEAR || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return problem;
  return { ok: true, value: text };
}

/**
 * A page cursor, "<ISO timestamp>|<id>" as the list's own "next page" link writes it, with the id in
 * the list's id format; empty → the first page. Anything else is a link edited by hand.
 */
export function readCursor(text: string | undefined, idPattern: RegExp): Read<Cursor> {
  if (text === undefined || text === '') return { ok: true, value: undefined };
  const problem = { ok: false as const, message: 'The page link is not valid (it was changed or cut short). Open the list again from its first page.' };
  const parts = text.split('|');
  if (parts.length !== 2) return problem;
  const [iso, id] = parts as [string, string];
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/.test(iso) || !idPattern.test(id)) return problem;
  const at = new Date(iso);
  if (Number.isNaN(at.getTime()) || at.toISOString().slice(0, 10) !== iso.slice(0, 10)) return problem;
  const year = at.getUTCFullYear();
  if (year < FIRST_YEAR || year > LAST_YEAR) return problem;
  return { ok: true, value: { at, id } };
}
