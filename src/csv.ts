// CSV exports (RFC 4180: comma-separated, CRLF line ends, a field quoted when it holds a comma,
// quote or line break, quotes doubled). A text cell that a spreadsheet would run as a formula
// (starting with =, +, -, @, tab or carriage return) is prefixed with an apostrophe: listing titles
// and emails are typed by other people. Numbers are written as numbers.
export type CsvCell = string | number | boolean | null | undefined | Date;

const FORMULA_START = /^[=+\-@\t\r]/;

function cell(value: CsvCell): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const text = value instanceof Date ? value.toISOString() : FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One record, with its line end. */
export function csvLine(row: CsvCell[]): string {
  return row.map(cell).join(',') + '\r\n';
}

export function toCsv(header: string[], rows: CsvCell[][]): string {
  return [header, ...rows].map(csvLine).join('');
}

/**
 * A CSV made batch by batch, for exports too long to build in memory: the header, then each batch's
 * records as the batch arrives (a keyset page read by its own short query).
 */
export async function* csvChunks(header: string[], batches: AsyncIterable<CsvCell[][]>): AsyncGenerator<string> {
  yield csvLine(header);
  for await (const rows of batches) {
    if (rows.length > 0) yield rows.map(csvLine).join('');
  }
}
